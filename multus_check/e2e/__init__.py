"""End-to-end check from sample pods: net1 attached, a real lease, Service DNS via eth0, mDNS/SSDP heard.

Modules: `options` (the phase's typed options), `phase` (`run_e2e`, which the pipeline calls after
the static checks: what to run, permissions, then the pods), `sample_manifest` (the ConfigMap and pod
manifests, pure), `sample_pods` (creates, polls and removes the pods through kube.podrun),
`pod_probe` (the script the pod runs, with the shipped probes and reader: stdlib + scapy),
`pod_verdicts` (pure: observations to findings; the checks' metadata is checks/e2e.py).
"""
