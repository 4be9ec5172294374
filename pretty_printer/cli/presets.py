"""``pretty-printer presets``: list the dataset presets, or show one."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("presets", help="list dataset presets (or show one with --show NAME)")
    p.add_argument("--show", default=None, metavar="NAME", help="print one preset's resolved tables")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from pretty_printer.dataset.presets import load_preset, preset_names

    if args.show:
        print(json.dumps(load_preset(args.show).to_dict(), indent=1))
        return 0
    for name in preset_names():
        print(f"{name}\t{load_preset(name).description}")
    return 0
