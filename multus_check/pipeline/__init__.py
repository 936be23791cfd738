"""One run, from options to exit code: the floor between the command line and everything it uses.

Every command that judges findings goes through here in the same order: options (pipeline/options.py)
→ refuse unusable input before any work (validate.py) → a snapshot (a directory, the live cluster, this
host) → the one engine (checks/engine.py, through pytest for the main command: suites.py) → one results
document (report/results.py) → the reports and the exit code (report/output.py). `diagnosis` is the main
command, `node_run` and `lab_run` the data path, `fix_run` the --fix flow and its verification.
Nothing below this package imports it (tests/test_layers.py).
"""
