"""The `multus-check` command line: dispatch to a command, and turn every way out into one line and an exit code.

Picks the command (commands/diagnose.py without a subcommand, else commands/<name>.py), parses its
options, sets up logging, runs it inside the signal handling (multus_check.signals) and maps errors:
a MultusCheckError is one line and exit 2, Ctrl-C 130, SIGTERM 143, a reader that went away 141.
Commands are imported by name only when chosen, and heavy libraries (pytest, the kubernetes client,
scapy) only on the paths that use them, so --help and --version answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from types import ModuleType

from multus_check import signals
from multus_check.commands import SUBCOMMANDS
from multus_check.errors import MultusCheckError, Terminated
from multus_check.model import EXIT_BROKEN_PIPE, EXIT_USAGE

MAIN_COMMAND = "multus_check.commands.diagnose"


def _subcommand(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(SUBCOMMANDS[name])
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("multus_check.commands"):
            return None
        raise


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with signals.handled():
            return _main(argv)
    except (KeyboardInterrupt, Terminated) as exc:  # Ctrl-C 130, SIGTERM 143: one line, cleanup already done
        code, line = signals.final_line(exc)
        print(line, file=sys.stderr)
        return code
    except MultusCheckError as exc:
        print(f"multus-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _main(argv: list[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        name, rest = argv[0], argv[1:]
        module = _subcommand(name)
        if module is None:
            print(f"multus-check: error: the {name!r} command is not available in this build", file=sys.stderr)
            return EXIT_USAGE
        parser = argparse.ArgumentParser(prog=f"multus-check {name}", description=module.HELP, allow_abbrev=False)
        parser.set_defaults(verbose=0)  # a command without -v logs at the default level
        module.add_arguments(parser)
    else:
        module, rest = importlib.import_module(MAIN_COMMAND), argv
        parser = module.build_parser()
    args = parser.parse_args(rest)
    _setup_logging(args.verbose)
    code: int = module.run(args)
    return code


def _setup_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose >= 2 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def entrypoint() -> None:
    try:
        code = main()
    except BrokenPipeError:  # a reader of stdout went away while a command was still printing progress
        from multus_check.report.output import silence_stdout

        silence_stdout()
        code = EXIT_BROKEN_PIPE
    sys.exit(code)


if __name__ == "__main__":
    entrypoint()
