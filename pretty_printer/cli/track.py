"""``pretty-printer track``: build the difficulty levels of one benchmark, each with its own tissue."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from pretty_printer.cli.options import add_overrides


def register(sub) -> None:
    p = sub.add_parser("track", help="generate a benchmark track: one dataset per difficulty level",
                       description="Generate one dataset per --level preset into DIR/<level>/. Levels get "
                                   "independent seeds from the track seed (no shared tissue, so one level "
                                   "cannot be aligned onto another) unless --shared-tissue. Rerunning "
                                   "resumes: finished levels are kept.")
    p.add_argument("out", type=Path, metavar="DIR", help="track directory")
    p.add_argument("--level", dest="levels", action="append", default=[], metavar="PRESET", required=True,
                   help="a dataset preset, one per level, easiest first (e.g. em-easy)")
    p.add_argument("--seed", type=int, default=None,
                   help="track seed (default: drawn and printed; keep it private, it regenerates the truth)")
    add_overrides(p, help="an override applied to every level")
    p.add_argument("--shared-tissue", action="store_true",
                   help="give every level the same seed (a controlled study, not a benchmark)")
    p.add_argument("--quiet", action="store_true", help="no progress output (a drawn seed is still printed)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pretty_printer.dataset.track import build_track

    seed = args.seed if args.seed is not None else secrets.randbits(63)
    if args.seed is None:  # always printed: a failure must be reproducible
        print(f"seed {seed} (drawn; rerun with --seed {seed} to reproduce)", file=sys.stderr, flush=True)

    def say(name, level_seed, reused):
        if not args.quiet:
            print(f"level {name}: {'finished earlier, kept' if reused else 'generating'}", file=sys.stderr, flush=True)

    dirs = build_track(args.out, args.levels, seed, overrides=tuple(args.overrides),
                       shared_tissue=args.shared_tissue, progress=not args.quiet, on_level=say)
    if not args.quiet:
        print(f"wrote {len(dirs)} levels to {args.out}; release them with "
              f"`pretty-printer release {args.out} --out ARCHIVE`", file=sys.stderr)
    return 0
