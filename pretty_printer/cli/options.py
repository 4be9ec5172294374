"""Options that several subcommands share, declared once (same flag, destination and syntax)."""

from __future__ import annotations


def add_overrides(p, help: str) -> None:
    """``--set KEY=VALUE``, repeatable, collected in ``args.overrides`` (parsed by
    :func:`pretty_printer.dataset.presets.parse_overrides`)."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help)
