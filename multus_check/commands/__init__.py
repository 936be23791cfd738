"""The commands of the command line; each module has HELP, add_arguments(parser) and run(args) -> int.

`diagnose` is the main command (`multus-check` without a subcommand; it builds its own parser);
`arguments` declares the options every command shares and builds the typed options from them. A
command reads its parsed arguments, builds the typed options and hands them to the pipeline (or, for
`explain`, `cleanup`, `undo`, `attach`, to the layer that does the work); cli.py dispatches by name.
"""

#: subcommand name -> module with HELP, add_arguments(parser), run(args) -> int
SUBCOMMANDS: dict[str, str] = {
    "explain": "multus_check.commands.explain",
    "snapshot": "multus_check.commands.snapshot",
    "cleanup": "multus_check.commands.cleanup",
    "node": "multus_check.commands.node",
    "lab": "multus_check.commands.lab",
    "undo": "multus_check.commands.undo",
    "attach": "multus_check.commands.attach",
}
