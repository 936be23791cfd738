"""Static checks: pure functions over a Snapshot, one per check id (see registry.py)."""
