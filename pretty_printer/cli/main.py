"""The ``pretty-printer`` console command: a thin layer over the library.

Each subcommand lives in ``pretty_printer/cli/<name>.py`` and exposes ``register(subparsers)``
(adds its parser and sets ``func``); the modules import their heavy dependencies inside the
command, so building the parser stays light.  Errors the user can cause
(:class:`~pretty_printer.errors.PrettyPrinterError`) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from pretty_printer import __version__
from pretty_printer.cli import (compile, export, generate, leaderboard, presets, reconstruct, release, score,
                                show, sweep, track)
from pretty_printer.errors import PrettyPrinterError

COMMANDS = (generate, reconstruct, score, compile, presets, sweep, show, export, track, release, leaderboard)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit code 2."""

    def error(self, message: str) -> None:  # noqa: D401
        sys.stderr.write(f"pretty-printer: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pretty-printer",
        description="Synthetic ground truth for brain-emulation pipelines.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except PrettyPrinterError as e:
        sys.stderr.write(f"pretty-printer {args.command}: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("pretty-printer: interrupted\n")
        return 130
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
