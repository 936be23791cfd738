"""The code a collector pod runs, packed as ConfigMap data.

The pod runs a stock python image; the code arrives in a ConfigMap mounted read-only, so no
custom image has to be built, pushed or mirrored. The bundle holds `pod_entry.py` and the
modules it imports from this package (`multus_check.collect.host` and what that imports),
followed through their imports. Package `__init__` files are shipped empty so that importing
one module does not drag in the rest of the package. Anything outside the standard library
is refused here, at build time, rather than failing on a node.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT_PACKAGE = "multus_check"
HOST_MODULE = "multus_check.collect.host"
ENTRY_MODULE = "multus_check.collect.live.pod_entry"
ENTRY_FILE = "entry.py"


class BundleError(Exception):
    """The collector code cannot be shipped (missing, or needs more than the standard library)."""


@dataclass(frozen=True)
class Bundle:
    files: dict[str, str]  # path inside the mount -> source text

    def configmap_data(self) -> dict[str, str]:
        return {_key(path): text for path, text in sorted(self.files.items())}

    def configmap_items(self) -> list[dict[str, str]]:
        return [{"key": _key(path), "path": path} for path in sorted(self.files)]


def _key(path: str) -> str:
    return path.replace("/", ".")


def build_bundle() -> Bundle:
    files: dict[str, str] = {ENTRY_FILE: _source(ENTRY_MODULE)}
    todo, seen = sorted(_imports(ENTRY_MODULE, files[ENTRY_FILE]) | {HOST_MODULE}), set[str]()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        text = _source(module)
        files[_module_path(module)] = text
        todo.extend(_imports(module, text) - seen)
    for module in list(seen):
        parts = module.split(".")
        for i in range(1, len(parts)):
            package = ".".join(parts[:i])
            files.setdefault(_module_path(package, package=True), "")
    return Bundle(files)


def _is_package(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    return spec is not None and spec.submodule_search_locations is not None


def _module_path(module: str, package: bool | None = None) -> str:
    is_pkg = _is_package(module) if package is None else package
    return module.replace(".", "/") + ("/__init__.py" if is_pkg else ".py")


def _source(module: str) -> str:
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        raise BundleError(f"the collector code {module} is not part of this multus-check build")
    return Path(spec.origin).read_text(encoding="utf-8")


def _imports(module: str, text: str) -> set[str]:
    """Project modules `module` imports; raises BundleError on a non-stdlib import."""
    found: set[str] = set()
    is_pkg = _is_package(module) if module != ENTRY_MODULE else False
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _classify(module, alias.name, None)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                target = ".".join(base[: len(base) - node.level + 1] + ([target] if target else []))
            found |= _classify(module, target, [a.name for a in node.names])
    return found


def _classify(importer: str, target: str, names: list[str] | None) -> set[str]:
    top = target.split(".")[0]
    if top == "__future__" or (top in sys.stdlib_module_names and top != ROOT_PACKAGE):
        return set()
    if top != ROOT_PACKAGE:
        raise BundleError(
            f"{importer} imports {target}, which is not in the standard library; the collector pod "
            "runs a plain python3 and can only use the standard library"
        )
    out: set[str] = set()
    for name in names or []:
        sub = f"{target}.{name}"
        if importlib.util.find_spec(target) is not None and _is_package(target) and _submodule_exists(sub):
            out.add(sub)
        else:
            out.add(target)
    return out or {target}


def _submodule_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
