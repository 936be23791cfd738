"""collect.redact: credentials become the marker in every format, the structure and everything else stay."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multus_check.checks.engine import run_checks
from multus_check.collect.redact import (
    FILE_MARKER,
    VALUE_MARKER,
    credential_file,
    redact_file,
    redact_object,
    redact_text,
    secret_name,
)
from multus_check.snapshot import REDACTED_MARKER, Snapshot
from tests.conftest import SNAPSHOTS, fixture_snapshot

M = VALUE_MARKER
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkpXVDEifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLUpXVDE"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA-PEM-SECRET\n-----END RSA PRIVATE KEY-----\n"
K3S_CONTAINERD = """version = 2
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/var/lib/rancher/k3s/data/cni"
  conf_dir = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.lan:5000".auth]
  username = "pull-bot"
  password = "REG-PASSWORD"
  auth = "cHVsbC1ib3Q6UkVHLVBBU1NXT1JE"
  identitytoken = "REG-IDENTITY-TOKEN"
[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.lan:5000".tls]
  ca_file = "/etc/ssl/registry-ca.pem"
"""


def test_the_file_marker_is_the_snapshot_formats_marker() -> None:
    assert FILE_MARKER == REDACTED_MARKER


@pytest.mark.parametrize("name", ["token", "identitytoken", "k8s_auth_token", "bearerToken", "auth", "PASSWORD", "passwd",
                                  "client_secret", "credentials", "apiKey", "api_key", "API-KEY", "private_key",
                                  "client-key-data", "client-certificate-data", "cert-data", "MULTUS_TOKEN", "--bearer"])
def test_secret_names_are_recognised_case_and_separator_insensitive(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize("name", ["kubeconfig", "master", "Network", "delegates", "binDir", "cniVersion", "ipam", "mode",
                                  "username", "k3s.io/node-args", "conf_dir", "privileged", "image"])
def test_the_fields_the_checks_read_are_not_secret_names(name: str) -> None:
    assert not secret_name(name)


def test_containerd_config_as_k3s_renders_registries_yaml_keeps_everything_but_the_credentials() -> None:
    out = redact_text(K3S_CONTAINERD)
    for secret in ("REG-PASSWORD", "cHVsbC1ib3Q6UkVHLVBBU1NXT1JE", "REG-IDENTITY-TOKEN"):
        assert secret not in out
    assert f'  password = "{M}"' in out and f'  identitytoken = "{M}"' in out and f'  auth = "{M}"' in out
    assert '  username = "pull-bot"' in out and 'conf_dir = "/var/lib/rancher/k3s/agent/etc/cni/net.d"' in out
    assert out.count("\n") == K3S_CONTAINERD.count("\n")


def test_a_calico_conflist_keeps_its_kubeconfig_path_and_loses_its_tokens() -> None:
    text = json.dumps({"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [
        {"type": "calico", "k8s_auth_token": "CALICO-TOKEN", "bearerToken": "BEARER", "kubernetes": {
            "kubeconfig": "/etc/cni/net.d/calico-kubeconfig", "k8s_api_root": "https://u:URLPASS@10.43.0.1:443"}}]}, indent=2)
    plugin = json.loads(redact_text(text))["plugins"][0]
    assert plugin["k8s_auth_token"] == M and plugin["bearerToken"] == M
    assert plugin["kubernetes"] == {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig", "k8s_api_root": f"https://{M}@10.43.0.1:443"}


def test_json_without_credentials_is_returned_byte_for_byte() -> None:
    text = '{ "cniVersion":"0.3.1",  "kubeconfig": "/etc/cni/net.d/multus.d/multus.kubeconfig" }\n'
    assert redact_text(text) == text


def test_a_kubeconfig_in_yaml_text_loses_token_key_data_and_pem() -> None:
    text = ("apiVersion: v1\nkind: Config\nusers:\n- name: multus\n  user:\n    token: SA-TOKEN\n"
            "    client-key-data: KEY-DATA\n    client-certificate-data: CERT-DATA\nclusters:\n- cluster:\n"
            "    server: https://10.43.0.1:443\n    certificate-authority-data: CA-DATA\n  name: local\n")
    out = redact_text(text)
    assert all(s not in out for s in ("SA-TOKEN", "KEY-DATA", "CERT-DATA", "CA-DATA"))
    assert "server: https://10.43.0.1:443" in out and f"    token: {M}" in out


def test_yaml_block_scalars_and_lists_under_a_secret_key_are_redacted_whole() -> None:
    out = redact_text("password: |\n  LINE-ONE\n  LINE-TWO\ntokens:\n  - TOK-A\n  - TOK-B\nnext: kept\n")
    assert "LINE-" not in out and "TOK-" not in out and "next: kept" in out


def test_toml_multiline_and_array_values_are_redacted() -> None:
    out = redact_text('secret = """\nMULTI\nLINE"""\napi_keys = ["K1", "K2"]\nother = 1\n')
    assert "MULTI" not in out and "K1" not in out and "other = 1" in out


def test_env_and_ini_lines_keep_their_keys_and_comments() -> None:
    out = redact_text("FLANNEL_NETWORK=10.42.0.0/16\nDB_PASSWORD=hunter2\n[auth]\napikey = abc123 # the key\n")
    assert out == f"FLANNEL_NETWORK=10.42.0.0/16\nDB_PASSWORD={M}\n[auth]\napikey = {M} # the key\n"


@pytest.mark.parametrize(("text", "kept"), [
    ("--token=FLAG-1 --v=2", ["--v=2"]),
    ("--password FLAG-2 --verbose", ["--verbose"]),
    ("--bearer FLAG-3", []),
    ("sh -c 'run --api-key=FLAG-4 --debug'", ["--debug"]),
    ("https://user:URL-5@registry.lan/v2/", ["@registry.lan/v2/"]),
    ("https://URL-6@github.com/org/repo.git", ["@github.com/org/repo.git"]),
    (f"Authorization: Bearer {JWT}", ["Authorization: "]),
    (f"prefix {JWT} suffix", ["prefix", "suffix"]),
    (f"cert:\n{PEM}after", ["after"]),
    ("https://host/path?access_token=QUERY-7&page=2", ["page=2"]),
])
def test_values_are_redacted_wherever_they_appear(text: str, kept: list[str]) -> None:
    out = redact_text(text)
    for secret in ("FLAG-", "URL-", JWT, "PEM-SECRET", "QUERY-"):
        assert secret not in out, out
    for part in kept:
        assert part in out, out


def test_paths_named_as_files_booleans_and_object_names_are_kept() -> None:
    assert redact_text("--token-file=/var/run/secrets/token --kubeconfig=/etc/kc") == \
        "--token-file=/var/run/secrets/token --kubeconfig=/etc/kc"
    kept = {"automountServiceAccountToken": False, "tokenPath": "/run/t", "token": "", "secret": {"secretName": "multus-token"}}
    assert redact_object(kept) == kept


def test_api_objects_lose_env_values_args_and_annotations_and_keep_their_shape() -> None:
    ds = {"kind": "DaemonSet", "metadata": {"name": "x", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"spec": {"env": [{"name": "API_TOKEN", "value": "LA-1"}]}}),
        "note": f"jwt {JWT}"}},
        "spec": {"template": {"spec": {"containers": [{
            "name": "c", "image": "img:1", "args": ["--token", "ARG-2", "--password=ARG-3", "--multus-conf-file=auto"],
            "env": [{"name": "MULTUS_TOKEN", "value": "ENV-4"}, {"name": "EXTRA_FLAGS", "value": "--bearer ENV-5"},
                    {"name": "PLAIN", "value": "kept"}, {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
        }], "volumes": [{"name": "tok", "secret": {"secretName": "multus-token"}}]}}}}
    before = copy.deepcopy(ds)
    out = redact_object(ds)
    text = json.dumps(out)
    assert all(s not in text for s in ("LA-1", "ARG-2", "ARG-3", "ENV-4", "ENV-5", JWT))
    container = out["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["--token", M, f"--password={M}", "--multus-conf-file=auto"]
    assert [e.get("value") for e in container["env"]] == [M, f"--bearer {M}", "kept", None]
    assert container["env"][3] == before["spec"]["template"]["spec"]["containers"][0]["env"][3]
    assert ds == before, "the input is never changed"


def test_k3s_node_args_keep_every_flag_but_the_token() -> None:
    raw = '["server","--token","K3S-TOKEN","--flannel-backend","none","--service-cidr","10.43.0.0/16"]'
    assert json.loads(redact_text(raw)) == ["server", "--token", M, "--flannel-backend", "none", "--service-cidr", "10.43.0.0/16"]


def test_a_secret_object_keeps_only_its_keys() -> None:
    out = redact_object({"kind": "Secret", "metadata": {"name": "s"}, "data": {"token": "VE9L", "ca.crt": "Q0E="}})
    assert out["data"] == {"token": M, "ca.crt": M}


def test_credential_files_become_the_file_marker() -> None:
    assert credential_file("/etc/cni/net.d/multus.d/multus.kubeconfig") and credential_file("/etc/cni/net.d/calico-kubeconfig")
    assert credential_file("/etc/cni/net.d/sa-token") and not credential_file("/etc/cni/net.d/10-flannel.conflist")
    assert redact_file("/etc/cni/net.d/multus.d/anything", "whatever") == FILE_MARKER


pieces = st.sampled_from([*"abcXYZ019 =:\"'-_/@.{}[],\n#|", "token", "password", "auth", "://", "eyJ", "--", "\n  - "])
texts = st.lists(pieces, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_redaction_is_idempotent_on_any_text(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["token", "password", "client_secret", "apiKey", "identitytoken", "k8s_auth_token"]),
       st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=8, max_size=20),
       st.sampled_from(["json", "toml", "yaml", "env", "flag", "flag-space", "pair"]))
def test_a_planted_value_never_survives_in_any_format(key: str, value: str, fmt: str) -> None:
    text = {"json": json.dumps({"a": 1, key: value}), "toml": f'[x]\n{key} = "{value}"\n', "yaml": f"a: 1\n{key}: {value}\n",
            "env": f"{key.upper()}={value}\n", "flag": f"run --{key}={value} --x", "flag-space": f"run --{key} {value}",
            "pair": f'{{"name": "x", "{key}": "{value}"}} trailing'}[fmt]
    assert value not in redact_text(text)
    assert value not in json.dumps(redact_object({"env": [{"name": key.upper(), "value": value}], "args": [f"--{key}", value]}))


def _planted(snap: Snapshot) -> Snapshot:
    """Credentials where real clusters keep them, beside every field the checks read."""
    out = copy.deepcopy(snap)
    for obj in out.objects:
        meta = obj.setdefault("metadata", {})
        meta.setdefault("annotations", {})["example.com/webhook"] = "https://bot:PLANT-1@hooks.example.com/x"
        if obj.get("kind") == "Node" and "k3s.io/node-args" in meta["annotations"]:
            args = json.loads(meta["annotations"]["k3s.io/node-args"])
            meta["annotations"]["k3s.io/node-args"] = json.dumps([*args, "--token", "PLANT-2"])
        if obj.get("kind") == "DaemonSet":
            for c in obj["spec"]["template"]["spec"].get("containers", []):
                c.setdefault("env", []).append({"name": "REGISTRY_TOKEN", "value": "PLANT-3"})
                c["args"] = [*(c.get("args") or []), "--password", "PLANT-4"] if c.get("args") else c.get("args")
    for facts in out.nodes.values():
        for path, text in list(facts.files.items()):
            if path.endswith((".conf", ".conflist")) and text.lstrip().startswith("{"):
                conf = json.loads(text) if _json(text) else None
                if isinstance(conf, dict):
                    conf["k8s_auth_token"] = "PLANT-5"
                    facts.files[path] = json.dumps(conf, indent=2)
        facts.files["/var/lib/rancher/k3s/agent/etc/containerd/config.toml"] = K3S_CONTAINERD
    out.invalidate()
    return out


def _json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _redacted(snap: Snapshot) -> Snapshot:
    out = copy.deepcopy(snap)
    out.objects = [redact_object(o) for o in out.objects]
    for facts in out.nodes.values():
        facts.files = {p: redact_file(p, t) for p, t in facts.files.items()}
    out.invalidate()
    return out


def _verdicts(snap: Snapshot) -> list[tuple[str, str, str, str]]:
    return sorted((f.check, f.status.value, f.subject, f.message) for f in run_checks(snap))


EXAMPLES = sorted(d.name for d in SNAPSHOTS.iterdir() if (d / "snapshot.json").exists())


@pytest.mark.parametrize("example", EXAMPLES)
def test_redaction_changes_no_check_verdict_on_any_example_even_with_credentials_planted(example: str) -> None:
    snap = fixture_snapshot(example)
    assert _verdicts(_redacted(snap)) == _verdicts(snap)
    planted = _planted(snap)
    redacted = _redacted(planted)
    text = json.dumps([redacted.objects, {n: f.files for n, f in redacted.nodes.items()}])
    assert "PLANT-" not in text and "REG-PASSWORD" not in text
    assert _verdicts(redacted) == _verdicts(planted)



# -- the audit of issue 9: credentials that used to pass through ---------------------------------

K3S_IPSEC_NET_CONF = ('{\n\t"Network": "10.42.0.0/16",\n\t"EnableIPv6": false,\n\t"EnableIPv4": true,\n\t"IPv6Network": "",\n'
                      '\t"Backend": {\n\t"Type": "ipsec",\n\t"UDPEncap": true,\n\t"PSK": "K3S-IPSEC-PSK-0123456789"\n}\n}\n')


def test_flannel_pre_shared_keys_are_redacted_in_k3s_net_conf_the_configmap_and_wireguard_ini() -> None:
    """k3s --flannel-backend=ipsec renders the PSK into net-conf.json (pkg/agent/flannel/setup.go); flannel's
    Documentation/backends.md: `PSK` optional for wireguard, required for ipsec; WireGuard's `PresharedKey`."""
    out = redact_file("/var/lib/rancher/k3s/agent/etc/flannel/net-conf.json", K3S_IPSEC_NET_CONF)
    assert "K3S-IPSEC-PSK" not in out and json.loads(out)["Network"] == "10.42.0.0/16"
    assert json.loads(out)["Backend"] == {"Type": "ipsec", "UDPEncap": True, "PSK": M}
    cm = {"kind": "ConfigMap", "metadata": {"name": "kube-flannel-cfg"}, "data": {"net-conf.json": json.dumps(
        {"Network": "10.244.0.0/16", "Backend": {"Type": "wireguard", "PSK": "WG-PSK-abc="}}, indent=2)}}
    assert json.loads(redact_object(cm)["data"]["net-conf.json"])["Backend"] == {"Type": "wireguard", "PSK": M}
    ini = "[Interface]\nPrivateKey = WG-PRIVATE\nListenPort = 51820\n[Peer]\nPresharedKey = WG-PRESHARED\n"
    assert redact_text(ini) == f"[Interface]\nPrivateKey = {M}\nListenPort = 51820\n[Peer]\nPresharedKey = {M}\n"


@pytest.mark.parametrize("name", ["PSK", "PresharedKey", "preshared_key", "passphrase", "SSH_PASSPHRASE", "Cookie",
                                  "Set-Cookie", "MYSQL_PWD", "X-Api-Key", "X-Auth-Token"])
def test_pre_shared_keys_passphrases_cookies_and_pwd_are_secret_names(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize("name", ["PWD", "sessionAffinity", "signerName", "keyName", "passthru", "mode"])
def test_look_alikes_that_hold_no_credential_are_not_secret_names(name: str) -> None:
    assert not secret_name(name)


def test_every_scalar_under_a_secret_named_mapping_is_masked_but_names_and_types() -> None:
    out = redact_object({"credentials": {"user": "u", "key": "CRED-1", "type": "static", "secretName": "s", "port": 443},
                         "auth": {"user": "u", "value": "CRED-2", "nested": {"k": "CRED-3"}},
                         "tokens": [{"id": "a", "value": "CRED-4"}, "CRED-5"]})
    assert "CRED-" not in json.dumps(out)
    assert out["credentials"] == {"user": M, "key": M, "type": "static", "secretName": "s", "port": M}
    assert out["tokens"] == [{"id": M, "value": M}, M]


def test_kubernetes_references_under_secret_named_keys_stay_readable() -> None:
    volume = {"name": "tok", "secret": {"secretName": "multus-token", "items": [{"key": "token", "path": "token"}],
                                        "defaultMode": 420}}
    env = {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    projected = {"serviceAccountToken": {"audience": "api", "expirationSeconds": 3607, "path": "token"}}
    pull = {"imagePullSecrets": [{"name": "regcred"}]}
    for obj in (volume, env, projected, pull):
        assert redact_object(obj) == obj


@pytest.mark.parametrize(("text", "secrets", "kept"), [
    ("Warning FailedCreatePodSandBox: ipam: header Authorization: Bearer EVT-TOKEN-1 was rejected", ["EVT-TOKEN-1"],
     ["was rejected", "Authorization: Bearer "]),
    ("""sh -c "wget --header 'Authorization: Bearer INIT-1' https://x/ && curl -H 'X-Auth-Token: INIT-2' https://y/" """,
     ["INIT-1", "INIT-2"], ["https://x/", "https://y/", "X-Auth-Token: "]),
    ("--header=Authorization: Bearer HDR-1", ["HDR-1"], ["--header=Authorization: Bearer "]),
    ("Authorization: Basic dXNlcjpCQVNJQy0x", ["dXNlcjpCQVNJQy0x"], ["Authorization: Basic "]),
    ("proxy said Proxy-Authorization Basic dXNlcjpCQVNJQy0y", ["dXNlcjpCQVNJQy0y"], ["proxy said"]),
    ("retrying with Bearer BEARER-3xyz after 401", ["BEARER-3xyz"], ["after 401"]),
    ("sent X-Api-Key: APIKEY-1 upstream", ["APIKEY-1"], ["upstream"]),
    ("Cookie: session=COOKIE-1", ["COOKIE-1"], ["Cookie: "]),
    ("{user: bob, password: FLOW-1}", ["FLOW-1"], ["user: bob"]),
    ("registry: {username: bob, password: FLOW-2}\n", ["FLOW-2"], ["username: bob"]),
    ("- {password: FLOW-3}\n", ["FLOW-3"], ["- {password: "]),
    ("credentials: {user: u, key: FLOW-4}\n", ["FLOW-4"], ["credentials: {user: "]),
    ("creds = { user = \"u\", token = FLOW-5 }\n", ["FLOW-5"], ["creds = { user = "]),
    ("tokens: [FLOW-6, 'FLOW-7', \"FLOW-8\"]\n", ["FLOW-6", "FLOW-7", "FLOW-8"], ["tokens: ["]),
    ("https://bot:pa@ss@USERINFO-1@registry.lan/v2/", ["pa@ss", "USERINFO-1"], ["@registry.lan/v2/"]),
    ("password: first\n  CONT-1\n  CONT-2\nnext: 1\n", ["first", "CONT-1", "CONT-2"], ["next: 1"]),
    ("password: # set below\n  CONT-3\nnext: 1\n", ["CONT-3"], ["next: 1"]),
    ("credentials:\n  user: u\n  key: NESTED-1\n  type: static\nnext: kept\n", ["NESTED-1"], ["type: static", "next: kept"]),
    ("<password>XML-1</password>", ["XML-1"], ["<password>"]),
])
def test_credentials_in_headers_flow_collections_urls_and_continued_scalars_are_redacted(
        text: str, secrets: list[str], kept: list[str]) -> None:
    out = redact_text(text)
    for secret in secrets:
        assert secret not in out, out
    for part in kept:
        assert part in out, out
    assert redact_text(out) == out


def test_an_object_carrying_these_texts_loses_them_too() -> None:
    event = {"kind": "Event", "reason": "FailedCreatePodSandBox", "type": "Warning",
             "message": "plugin failed: header Authorization: Bearer EVT-2 rejected"}
    pod = {"kind": "Pod", "metadata": {"annotations": {"example.com/registry": "{user: bob, password: ANN-1}"}}}
    ds = {"kind": "DaemonSet", "spec": {"template": {"spec": {"initContainers": [{"name": "fetch", "command": [
        "sh", "-c", "wget --header 'Authorization: Bearer INIT-3' https://x/ && curl -H 'X-Auth-Token: INIT-4' https://y/"]}]}}}}
    text = json.dumps([redact_object(o) for o in (event, pod, ds)])
    assert all(s not in text for s in ("EVT-2", "ANN-1", "INIT-3", "INIT-4")), text
    assert "FailedCreatePodSandBox" in text and "https://x/" in text


@pytest.mark.parametrize("text", [
    "the Bearer token expired", "basic authentication failed", "Authorization header missing",
    "error getting pod: Unauthorized", "macvlan mode: private", "{{ .Data.password }}", "${TOKEN}",
    "auth at 12:30 failed", "x-request-id: abc123",
])
def test_prose_about_credentials_without_one_is_kept_byte_for_byte(text: str) -> None:
    assert redact_text(text) == text
