"""The package's floors hold: imports point down, never in a cycle; argparse stays at the edge; names say the role.

docs/ARCHITECTURE.md explains the floors. The import graph is read with ast from the source: every
`import` and `from ... import` (inside functions and under TYPE_CHECKING too), every
`importlib.import_module("constant")`, and every string constant that names a module of the package
(the command table, lazy re-exports), so an import cannot hide from the check by being lazy.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = "multus_check"

#: unit -> (floor, rank within the floor). A module may import modules of its own unit, and of any unit
#: ranked lower: a lower floor, or a lower rank on its floor. Units of equal rank do not import each other.
UNITS: dict[str, tuple[int, int]] = {
    # 4 the command line: dispatch, options parsed and turned into typed objects
    "multus_check.__main__": (4, 2),
    "multus_check.cli": (4, 1),
    "multus_check.commands": (4, 0),
    # 3 one run: options -> snapshot -> engine -> results -> reports and exit code
    "multus_check.pipeline": (3, 0),
    # 2 the capabilities: pytest front end, reports, sample pods, fixes, lab, probes, checks, collection
    "multus_check.plugin": (2, 4),
    "multus_check.report": (2, 3),
    "multus_check.e2e": (2, 2),
    "multus_check.fixes": (2, 2),
    "multus_check.lab": (2, 2),
    "multus_check.probes": (2, 1),
    "multus_check.checks": (2, 0),
    "multus_check.collect": (2, 0),
    # 1 the foundation: derived facts, the snapshot format, the gateway to the API
    "multus_check.domain": (1, 1),
    "multus_check.snapshot": (1, 0),
    "multus_check.kube": (1, 0),
    # 0 the vocabulary and process-wide utilities
    "multus_check.signals": (0, 1),
    "multus_check": (0, 0),  # the package itself: its version
    "multus_check.model": (0, 0),
    "multus_check.errors": (0, 0),
    "multus_check.files": (0, 2),
    "multus_check.safeyaml": (0, 0),
    "multus_check.paths": (0, 1),
}
FLOOR_NAMES = {4: "cli", 3: "pipeline", 2: "capabilities", 1: "foundation", 0: "model"}
#: the command line's edge: the only modules that may build parsers for multus-check's own options
EDGE = ("multus_check.cli", "multus_check.commands")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


def modules(root: Path) -> dict[str, Module]:
    """Every module of the package under `root` (the directory holding `multus_check/`)."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        found[name] = Module(name, path, is_package)
    return found


def _resolve(target: str, known: dict[str, Module]) -> str | None:
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def _targets(mod: Module, tree: ast.AST, known: dict[str, Module]) -> Iterator[str]:
    base = mod.name.split(".") if mod.is_package else mod.name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                target = ".".join(base[: len(base) - node.level + 1] + ([target] if target else []))
            submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            if len(submodules) < len(node.names):  # a name defined in the package itself
                yield target
            yield from submodules
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
            yield node.value  # importlib.import_module("multus_check.x"), a command table, a lazy export


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the modules of the package it imports (edges to its own parent packages left out)."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    for name, mod in known.items():
        tree = ast.parse(mod.path.read_text(), str(mod.path))
        edges = {r for t in _targets(mod, tree, known) if t.split(".")[0] == PACKAGE
                 for r in [_resolve(t, known)] if r is not None and r != name and not name.startswith(r + ".")}
        graph[name] = edges
    return graph


def unit_of(module: str) -> str | None:
    if module in UNITS:
        return module
    best = max((u for u in UNITS if u != PACKAGE and module.startswith(u + ".")), key=len, default=None)
    return best


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that does not point down the floors, as `importer -> imported (why)`."""
    out = []
    for importer, targets in sorted(graph.items()):
        unit = unit_of(importer)
        for target in sorted(targets):
            other = unit_of(target)
            if unit is None or other is None or unit == other:
                continue
            if UNITS[other] >= UNITS[unit]:
                out.append(f"{importer} -> {target} ({unit} on floor {FLOOR_NAMES[UNITS[unit][0]]} may not import "
                           f"{other} on floor {FLOOR_NAMES[UNITS[other][0]]})")
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT)


def test_the_graph_sees_every_kind_of_import(graph: dict[str, set[str]]) -> None:
    """Lazy imports inside functions, TYPE_CHECKING imports and modules named by string are edges too."""
    assert "multus_check.kube.gateway" in graph["multus_check.kube.connect"]  # inside a function and TYPE_CHECKING
    assert "multus_check.commands.node" in graph["multus_check.commands"]  # the command table, by name
    assert "multus_check.commands.diagnose" in graph["multus_check.cli"]
    assert "multus_check.collect.live" in graph["multus_check.pipeline.diagnosis"]  # importlib.import_module("...")


def test_every_module_belongs_to_a_floor(graph: dict[str, set[str]]) -> None:
    homeless = [m for m in graph if unit_of(m) is None]
    assert not homeless, f"declare the floor of these in tests/test_layers.py UNITS and docs/ARCHITECTURE.md: {homeless}"


def test_the_package_has_no_import_cycle(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_every_import_points_down_the_floors(graph: dict[str, set[str]]) -> None:
    assert violations(graph) == []


def test_checks_never_ask_the_fixes(graph: dict[str, set[str]]) -> None:
    reach = {t for m, ts in graph.items() if m.startswith("multus_check.checks") for t in ts}
    assert not [t for t in reach if t.startswith("multus_check.fixes")]


def _planted(tmp_path: Path, where: str, source: str) -> Path:
    shutil.copytree(ROOT / PACKAGE, tmp_path / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / PACKAGE / where
    target.write_text(target.read_text() + "\n" + source if target.exists() else source)
    return tmp_path


def test_a_planted_upward_import_is_caught(tmp_path: Path) -> None:
    root = _planted(tmp_path, "checks/planted.py", "def f() -> None:\n    from multus_check.fixes import registry  # noqa\n")
    found = violations(import_graph(root))
    assert found == ["multus_check.checks.planted -> multus_check.fixes.registry (multus_check.checks on floor "
                     "capabilities may not import multus_check.fixes on floor capabilities)"]


def test_a_planted_cycle_is_caught(tmp_path: Path) -> None:
    root = _planted(tmp_path, "domain/ipnet.py", "LAZY = 'multus_check.domain.lan_overlap'  # by name: it imports ipnet\n")
    (cycle,) = cycles(import_graph(root))
    assert {"multus_check.domain.ipnet", "multus_check.domain.lan_overlap"} <= set(cycle)


def test_a_planted_sideways_import_through_importlib_is_caught(tmp_path: Path) -> None:
    root = _planted(tmp_path, "kube/podrun.py", "def f() -> None:\n    import importlib\n\n"
                                               "    importlib.import_module('multus_check.snapshot')\n")
    assert [v for v in violations(import_graph(root)) if v.startswith("multus_check.kube.podrun ")] == [
        "multus_check.kube.podrun -> multus_check.snapshot (multus_check.kube on floor foundation may not import "
        "multus_check.snapshot on floor foundation)"]


def _standalone_program(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.If) and "__name__" in ast.unparse(n.test) and "__main__" in ast.unparse(n.test)
               for n in tree.body)


def test_argparse_stays_at_the_edge() -> None:
    """Below cli/commands nothing parses multus-check's options or reads a namespace of them; a module that
    is a program of its own (run in a pod, a lab namespace, or by hand: it has a __main__ guard) parses its own."""
    offenders = []
    for mod in modules(ROOT).values():
        text = mod.path.read_text()
        tree = ast.parse(text)
        at_edge = mod.name.startswith(EDGE)
        uses = "argparse" in {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        if uses and not at_edge and not _standalone_program(tree):
            offenders.append(f"{mod.name} imports argparse")
        if not at_edge and ("argparse.Namespace" in text or "getattr(args" in text):
            offenders.append(f"{mod.name} reads an argparse namespace")
    assert offenders == []


#: basenames that several packages use for the same role: a package's typed options, its registry
SHARED_ROLES = {"options", "registry"}


def test_no_two_modules_share_a_name_for_different_roles() -> None:
    """A module's name says its role. Shared on purpose: the roles above, checks/<area>.py and fixes/<area>.py
    of one check area, and commands/<subcommand>.py with what it runs; no module is named after its package."""
    known = {n: m for n, m in modules(ROOT).items() if not m.is_package}
    areas = {n.rsplit(".", 1)[1] for n in known if n.startswith("multus_check.checks.")}

    def shared(name: str) -> bool:
        package, _, base = name.rpartition(".")
        return base in SHARED_ROLES or (package in ("multus_check.checks", "multus_check.fixes") and base in areas)

    by_base: dict[str, list[str]] = {}
    for name in known:
        if not name.startswith("multus_check.commands."):  # a command is named after its subcommand
            by_base.setdefault(name.rsplit(".", 1)[1], []).append(name)
    clashes = {base: names for base, names in by_base.items() if len(names) > 1 and not all(map(shared, names))}
    assert clashes == {}
    assert [n for n in known if n.rsplit(".", 2)[-1] == n.rsplit(".", 2)[-2]] == []


def test_the_modules_a_module_names_exist() -> None:
    """A docstring or comment that sends the reader to `multus_check.x.y`, `pkg/module.py` or `module.py`
    names a module that exists (a renamed module leaves no stale pointer behind)."""
    import re

    known = modules(ROOT)
    files = {m.path.name for m in known.values()}
    stale = []
    for name, mod in known.items():
        text = mod.path.read_text()
        for ref in set(re.findall(r"\bmultus_check(?:\.[a-z_0-9]+)+", text)):
            if _resolve(ref, known) in (None, PACKAGE) and ref not in (PACKAGE, "multus_check.suites"):  # suites/
                stale.append(f"{name}: {ref}")
        for ref in set(re.findall(r"(?<![\w/.-])((?:[a-z_]+/)+[a-z_0-9]+\.py)\b", text)):
            if ref.startswith(("tests/", "bench/", "fixtures/", "suites/")):
                continue
            if not (ROOT / PACKAGE / ref).exists() and not (ROOT / ref).exists():
                stale.append(f"{name}: {ref}")
        stale += [f"{name}: {ref}" for ref in set(re.findall(r"`([a-z_0-9]+\.py)`", text))
                  if ref not in files and ref != "entry.py"]  # entry.py: pod_entry.py's name inside the pod
    assert stale == []
