"""The registries of checks and fixes hold together: what a check names exists, and nothing needs a list edited."""

from __future__ import annotations

import importlib
import pkgutil

from multus_check.checks import registry
from multus_check.checks.spec import registered
from multus_check.fixes.registry import FIXES


def test_every_fix_a_check_declares_exists_in_this_build() -> None:
    """Checks never ask the fixes (a finding names its check's fix as declared): this holds them to it."""
    missing = {s.id: s.fix for s in registry.all_checks() if s.fix is not None and s.fix not in FIXES}
    assert not missing, f"checks name fixes this build does not have (add them to multus_check/fixes/): {missing}"


def test_every_fix_repairs_or_advises_only_checks_of_this_build() -> None:
    ids = {s.id for s in registry.all_checks()}
    unknown = {fix_id: sorted((fix.repairs | fix.advises) - ids) for fix_id, fix in FIXES.items()
               if (fix.repairs | fix.advises) - ids}
    assert not unknown


def test_every_module_of_checks_is_found_without_a_list() -> None:
    """A new area module registers its checks by existing: the registry imports every module of checks/."""
    import multus_check.checks as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    assert [s.id for s in registered()] == [s.id for s in registry.all_checks()]
    areas = {s.area for s in registry.all_checks()}
    assert {"cidr", "datapath", "dhcp", "e2e", "events", "flannel", "multus", "nad", "plugins"} <= areas


def test_each_area_module_holds_its_own_checks() -> None:
    """All metadata of a check lives in checks/<area>.py (dhcp.daemon in checks/dhcp.py, e2e.* in checks/e2e.py)."""
    for spec in registry.all_checks():
        where = spec.fn.__module__ if spec.fn is not None else None
        if where is not None:
            assert where == f"multus_check.checks.{spec.area}", (spec.id, where)


def test_every_fix_defined_in_fixes_is_registered_without_a_list() -> None:
    """A new fix registers by being a `Fix` subclass in a module of fixes/; nothing else to edit."""
    import inspect

    import multus_check.fixes as package
    from multus_check.fixes.plan import Fix

    defined = set()
    for module in pkgutil.iter_modules(package.__path__):
        mod = importlib.import_module(f"{package.__name__}.{module.name}")
        defined |= {cls for _, cls in inspect.getmembers(mod, inspect.isclass)
                    if issubclass(cls, Fix) and cls.__module__ == mod.__name__ and not inspect.isabstract(cls)}
    assert {type(f) for f in FIXES.values()} == defined
    assert {f.id: type(f).__name__ for f in FIXES.values()} == {
        "flannel-service-routes": "FlannelServiceRoutes", "install-cni-plugins": "InstallCniPlugins",
        "install-multus": "InstallMultus", "lan-manual": "LanManualSteps", "multus-k3s-kubeconfig": "MultusK3sKubeconfig",
        "multus-nesting": "MultusNesting", "nad-ipv6-ready": "NadIpv6Ready", "nad-repair": "NadRepair"}


def test_importing_the_fix_registry_loads_no_kubernetes_client() -> None:
    import subprocess
    import sys

    code = "import sys, multus_check.fixes.registry as r; print(len(r.FIXES), 'kubernetes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["8", "False"]


def test_the_discovery_of_checks_and_fixes_makes_no_cycle() -> None:
    """The registries import their members by name (invisible to an import statement): no member may reach back."""
    from pathlib import Path

    from multus_check.checks.registry import _registers_checks
    from multus_check.fixes.registry import _defines_a_fix
    from tests.conftest import ROOT
    from tests.test_layers import import_graph

    graph = import_graph(ROOT)

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    for package, defines, registry_module in (("checks", _registers_checks, "multus_check.checks.registry"),
                                              ("fixes", _defines_a_fix, "multus_check.fixes.registry")):
        members = [f"multus_check.{package}.{p.stem}" for p in sorted((ROOT / "multus_check" / package).glob("*.py"))
                   if p.stem != "__init__" and defines(Path(p))]
        assert members, package
        for member in members:
            assert registry_module not in reach(member), member
    assert "multus_check.checks.engine" not in {m for p in (ROOT / "multus_check" / "checks").glob("*.py")
                                               if _registers_checks(p) for m in reach(f"multus_check.checks.{p.stem}")}
