"""Active probes: the node data path (CNI ADD/DEL on a throwaway namespace) and mDNS/SSDP.

Unlike checks, probes touch the host: they create network namespaces, run CNI plugins and
send packets, always inside namespaces they created, and clean up after themselves.
"""
