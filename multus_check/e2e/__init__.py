"""End-to-end check from sample pods: net1 attached, a real lease, Service DNS via eth0, mDNS/SSDP heard.

Layers: `podspec` (manifests, pure), `pod_probe` (the script the pod runs, stdlib + scapy),
`runner` (creates, polls and removes the pods through the gateway), `pod_verdicts` (pure: observations
to findings), `arguments` (command-line options), `options` (`run_e2e`, the entry point cli.py calls).
"""
