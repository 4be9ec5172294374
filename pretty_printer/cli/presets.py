"""``pretty-printer presets``: list the dataset presets, show one fully resolved, or list every key."""

from __future__ import annotations

from pretty_printer.cli.options import add_overrides


def register(sub) -> None:
    p = sub.add_parser("presets", help="list dataset presets (--show NAME resolves one; --keys lists every key)",
                       description="Without options: one line per dataset preset (name and description). "
                                   "--show NAME prints the preset fully resolved as TOML (the scanner "
                                   "presets' own values and every default included, each with its source); "
                                   "the output is itself a loadable preset file. --keys lists every key "
                                   "--set accepts, with type, unit, default and bounds.")
    p.add_argument("--show", default=None, metavar="NAME", help="print one preset fully resolved (TOML)")
    add_overrides(p, help="with --show: apply an override first, as generate --set would")
    p.add_argument("--json", action="store_true", help="with --show: print the preset's own tables as JSON")
    p.add_argument("--keys", action="store_true", help="list every settable key with type, unit, default, bounds")
    p.set_defaults(func=run)


def run(args) -> int:
    from pretty_printer.dataset.presets import preset_description, preset_names

    if args.show:
        import json

        from pretty_printer.dataset.presets import load_preset
        from pretty_printer.dataset.validation import format_resolved

        preset = load_preset(args.show, args.overrides)
        print(json.dumps(preset.to_dict(), indent=1) if args.json else format_resolved(preset), end="\n" if args.json else "")
        return 0
    if args.keys:
        from pretty_printer.dataset.validation import all_keys, format_keys

        print(format_keys(all_keys()), end="")
        return 0
    for name in preset_names():
        print(f"{name}\t{preset_description(name)}")
    return 0
