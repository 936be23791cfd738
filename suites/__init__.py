"""multus-check conformance suites: one pytest test per check id.

Run them with `multus-check` or directly: `pytest suites/ --snapshot DIR [-k cidr]`.
"""
