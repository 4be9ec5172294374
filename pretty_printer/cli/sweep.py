"""``pretty-printer sweep``: vary preset keys; generate, reconstruct and score each point."""

from __future__ import annotations

import sys
from pathlib import Path

from pretty_printer.cli.options import add_overrides


def register(sub) -> None:
    from pretty_printer.studies.sweep import SweepConfig

    p = sub.add_parser(
        "sweep", help="vary preset keys and score each point (or run a built-in study)",
        description="For every combination of --vary values: generate a dataset, reconstruct it "
                    "(baseline, a method, or your --command) and score it.  Writes DIR/results.csv, "
                    "DIR/results.json and DIR/plots/.  Rerunning the same command resumes: finished "
                    "points are not recomputed.")
    p.add_argument("--preset", default=None, help="dataset preset name or .toml path")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a preset key and its values, e.g. tissue.receptor_size_correlation=0,0.5,1 "
                        "(repeat for a grid; seed=0,1,2 replicates over root seeds)")
    p.add_argument("--study", default=None, metavar="NAME",
                   help="run a built-in study instead (see --list-studies)")
    p.add_argument("--list-studies", action="store_true", help="list the built-in studies and exit")
    p.add_argument("--quick", action="store_true",
                   help="with --study: its first and last value, one seed, no background neuropil "
                        "(docs/study.md gives the measured time)")
    p.add_argument("--out", type=Path, default=None, help="sweep directory (resumed if it exists)")
    p.add_argument("--modality", default=SweepConfig.modality, help="em | exm | xray (default: %(default)s)")
    p.add_argument("--method", default=SweepConfig.method, help="reconstruction method (default: %(default)s)")
    p.add_argument("--command", dest="user_command", default=None, metavar="CMD",
                   help='your reconstruction, e.g. "my-pipeline {dataset} {modality} {out}"; it must '
                        "write a submission directory at {out}")
    p.add_argument("--seed", type=int, default=SweepConfig.seed, help="root seed of every point (default: %(default)s)")
    add_overrides(p, help="a fixed override applied to every point")
    p.add_argument("--all-modalities", action="store_true",
                   help="scan every modality of the preset (default: only --modality)")
    p.add_argument("--no-function", action="store_true", help="skip the (slower) function scores")
    p.add_argument("--independent-seeds", action="store_true",
                   help="each point gets its own seed from --seed's tree (difficulty levels that must not "
                        "share tissue); default: every point shares --seed")
    p.add_argument("--force", action="store_true", help="delete --out first and recompute every point")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    from pretty_printer.cli.generate import add_scale_options

    add_scale_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from pretty_printer.errors import ConfigError
    from pretty_printer.studies.builtin import STUDIES, run_study
    from pretty_printer.studies.sweep import SweepConfig, parse_vary, run_sweep

    if args.list_studies:
        for name in STUDIES.names():
            print(f"{name}\t{STUDIES.get(name).summary}")
        return 0
    if args.out is None:
        raise ConfigError("--out: expected a sweep directory, got none")
    if args.study:
        if args.vary or args.user_command:
            raise ConfigError("--study: runs its own points and arms; --vary and --command do not apply")
        from pretty_printer.cli.generate import scale_options

        engine, cache = scale_options(args)
        result = run_study(args.study, args.out, seed=args.seed, preset=args.preset,
                           overrides=tuple(args.overrides), progress=not args.quiet, force=args.force,
                           quick=args.quick, engine=engine, cache=cache)
        print(f"study {args.study!r}: {len(result.computed)} points computed, {len(result.reused)} reused; "
              f"figure {result.figure}, table {args.out / 'results.csv'}", file=sys.stderr)
        return 0
    if args.quick:
        raise ConfigError("--quick: applies to --study NAME, got a --vary sweep")
    if args.preset is None:
        raise ConfigError("--preset: expected a preset name (or use --study NAME), got none")
    cfg = SweepConfig(
        preset=args.preset, vary=tuple(parse_vary(v) for v in args.vary), modality=args.modality,
        method=args.method, command=args.user_command, seed=args.seed, overrides=tuple(args.overrides),
        all_modalities=args.all_modalities, function=not args.no_function,
        independent_seeds=args.independent_seeds,
    )
    from pretty_printer.cli.generate import scale_options

    engine, cache = scale_options(args)
    result = run_sweep(cfg, args.out, progress=not args.quiet, force=args.force, engine=engine, cache=cache)
    print(f"sweep: {len(result.computed)} points computed, {len(result.reused)} reused; "
          f"table {args.out / 'results.csv'}, {len(result.plots)} plots in {args.out / 'plots'}",
          file=sys.stderr)
    return 0
