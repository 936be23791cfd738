"""`multus-check lab run|up|status|down` end to end, and `down` after a crashed run."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from multus_check import cli
from multus_check.lab import config
from multus_check.lab import lifecycle as lab
from multus_check.probes import netns
from tests.lab.conftest import MISSING

pytestmark = [pytest.mark.lab, pytest.mark.skipif(bool(MISSING), reason="lab needs: " + "; ".join(MISSING)),
              pytest.mark.usefixtures("lab_leak_check")]


def test_lab_run_with_a_fault_reports_it_and_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["lab", "run", "--name", "tr", "--break", "dhcp-daemon", "--format", "json",
                     "--report-dir", str(tmp_path)])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    by_check = {f["check"]: f for f in out["findings"]}
    assert code == 1
    assert "coming up" not in captured.err and "probing" not in captured.err, "spinners are for terminals only"
    assert "lab tr: up in " in captured.err and "lab tr: done in " in captured.err
    assert by_check["datapath.dhcp-daemon"]["status"] == "fail"
    assert "connection refused" in by_check["datapath.dhcp-daemon"]["message"]
    assert by_check["datapath.mdns"]["status"] == "skip"
    assert (tmp_path / "results.json").exists()
    assert config.load("tr") is None and netns.listed(f"{config.NS_PREFIX}tr-") == []


def test_lab_run_judges_matter_by_default_and_names_the_thread_route_sysctl(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["lab", "run", "--name", "tr6", "--break", "thread-routes", "--format", "json",
                     "--report-dir", str(tmp_path)])
    by_check = {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert code == 1
    routes = by_check["datapath.thread-routes"]
    assert routes["status"] == "fail" and "accept_ra_rt_info_max_plen=0" in routes["message"]
    assert "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen" in routes["remediation"]
    assert by_check["datapath.ipv6"]["status"] == "pass" and by_check["datapath.matter"]["status"] == "skip"
    assert {by_check[c]["status"] for c in ("datapath.attach", "datapath.lease", "datapath.mdns")} == {"pass"}
    assert config.load("tr6") is None and netns.listed(f"{config.NS_PREFIX}tr6-") == []


def test_lab_down_removes_a_lab_whose_command_crashed(capsys: pytest.CaptureFixture[str]) -> None:
    lab.down("tc")
    state = lab.up("tc").state
    daemon_pids = [rec["pid"] for rec in state.pids.values()]
    # a crash: the lab stays up, its daemons keep running, only the state dir remembers it
    assert cli.main(["lab", "status", "--name", "tc"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "up"
    os.kill(state.pids["ssdp"]["pid"], signal.SIGKILL)  # and one daemon died on its own
    assert cli.main(["lab", "down", "--name", "tc"]) == 0
    assert netns.listed(f"{config.NS_PREFIX}tc-") == [] and not state.dir.exists()
    assert all(not Path(f"/proc/{pid}").exists() or _zombie(pid) for pid in daemon_pids)
    assert cli.main(["lab", "status", "--name", "tc"]) == 3


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_two_labs_run_side_by_side_on_distinct_subnets() -> None:
    for name in ("ta", "tb"):
        lab.down(name)
    try:
        a, b = lab.up("ta").state, lab.up("tb").state
        assert a.subnet != b.subnet and not a.network.overlaps(b.network)
        assert lab.status("ta")["state"] == lab.status("tb")["state"] == "up"
    finally:
        lab.down("ta")
        lab.down("tb")


def test_lab_up_refuses_a_name_in_use_and_bad_names() -> None:
    from multus_check.errors import UsageError

    with pytest.raises(UsageError):
        lab.up("Bad_Name")
    lab.down("tu")
    lab.up("tu")
    try:
        with pytest.raises(UsageError, match="already exists"):
            lab.up("tu")
    finally:
        lab.down("tu")
