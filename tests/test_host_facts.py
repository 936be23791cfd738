"""collect_host_facts on a fake host tree: listings, copied configs, redaction, live/stale sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from multus_check.collect import host
from multus_check.snapshot import REDACTED_MARKER, DirEntry, load_snapshot, write_snapshot
from multus_check.snapshot.data import Section, SectionState, Snapshot

K3S_CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"


@pytest.fixture
def fake_host(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "host"
    files = {
        f"{K3S_CONF}/00-multus.conf": '{"type": "multus", "kubeconfig": "/etc/cni/net.d/multus.d/multus.kubeconfig"}',
        f"{K3S_CONF}/10-flannel.conflist": '{"name": "cbr0", "plugins": [{"type": "flannel"}]}',
        f"{K3S_CONF}/README": "not a config",
        f"{K3S_CONF}/multus.d/multus.kubeconfig": "users:\n- user:\n    token: SECRET-TOKEN\n",
        "/etc/cni/net.d/my-kubeconfig.json": '{"token": "SECRET-2"}',
        "/run/flannel/subnet.env": "FLANNEL_NETWORK=10.42.0.0/16\n",
        "/sys/class/net/eth0/uevent": "INTERFACE=eth0\nIFINDEX=2\n",
        "/sys/class/net/wlan0/uevent": "DEVTYPE=wlan\nINTERFACE=wlan0\n",
        "/opt/cni/bin/macvlan": "ELF",
    }
    for path, text in files.items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (root / "opt/cni/bin/dhcp").symlink_to("/usr/lib/cni/dhcp")
    run_cni = root / "run/cni"
    run_cni.mkdir(parents=True)
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(str(run_cni / "dhcp.sock"))
    live.listen(1)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(run_cni / "old.sock"))
    stale.close()  # the file stays, nobody listens: a dead daemon's socket
    yield root
    live.close()


def test_lists_the_dirs_that_matter_and_marks_absent_ones(fake_host: Path) -> None:
    facts = host.collect_host_facts("n1", root=str(fake_host))
    assert facts.dirs["/opt/cni/bin"] == [DirEntry("dhcp", "symlink", target="/usr/lib/cni/dhcp"),
                                          DirEntry("macvlan", "file")]
    assert facts.dirs["/var/lib/rancher/k3s/data/cni"] is None
    assert [e.name for e in facts.dirs["/sys/class/net"] or []] == ["eth0", "wlan0"]
    assert "/sys/class/net/wlan0" in facts.dirs


def test_sockets_are_marked_live_or_stale_by_connecting(fake_host: Path) -> None:
    facts = host.collect_host_facts("n1", root=str(fake_host))
    by_name = {e.name: e for e in facts.dirs["/run/cni"] or []}
    assert by_name["dhcp.sock"] == DirEntry("dhcp.sock", "socket", live=True)
    assert by_name["old.sock"] == DirEntry("old.sock", "socket", live=False)


def test_copies_cni_configs_and_host_files_but_redacts_kubeconfigs(fake_host: Path) -> None:
    facts = host.collect_host_facts("n1", root=str(fake_host))
    assert facts.files[f"{K3S_CONF}/10-flannel.conflist"].startswith('{"name": "cbr0"')
    assert f"{K3S_CONF}/README" not in facts.files
    assert facts.files[f"{K3S_CONF}/multus.d/multus.kubeconfig"] == REDACTED_MARKER
    assert facts.files["/etc/cni/net.d/my-kubeconfig.json"] == REDACTED_MARKER
    assert facts.files["/run/flannel/subnet.env"] == "FLANNEL_NETWORK=10.42.0.0/16\n"
    assert facts.files["/sys/class/net/wlan0/uevent"].startswith("DEVTYPE=wlan")
    assert not any("SECRET" in text for text in facts.files.values())


def test_ip_output_is_collected_as_json_lists(fake_host: Path) -> None:
    facts = host.collect_host_facts("n1", root=str(fake_host))
    assert isinstance(facts.ip_addr, list) and any(a.get("ifname") == "lo" for a in facts.ip_addr)
    assert isinstance(facts.ip_route, list)


def test_facts_round_trip_through_a_snapshot_directory(fake_host: Path, tmp_path: Path) -> None:
    facts = host.collect_host_facts("n1", root=str(fake_host))
    snap = Snapshot(nodes={"n1": facts}, sections={"node/n1": Section(SectionState.OK)})
    loaded = load_snapshot(write_snapshot(snap, tmp_path / "snap")).nodes["n1"]
    assert loaded.files == facts.files and loaded.dirs == facts.dirs


def test_module_prints_the_facts_as_json(fake_host: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert host.main(["--node", "n1", "--root", str(fake_host)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "n1" and data["dirs"]["/run/cni"][0]["live"] is True
