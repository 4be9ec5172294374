"""``pretty-printer generate``: preset + seed -> dataset directory."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from pretty_printer.cli.options import add_overrides


def register(sub) -> None:
    p = sub.add_parser("generate", help="generate a dataset (public/ + truth/) from a preset",
                       description="Train, compile, grow, scan and write a dataset.")
    p.add_argument("--preset", required=True, help="preset name (see `pretty-printer presets`) or a .toml path")
    p.add_argument("--out", required=True, type=Path, help="output directory (must be new or empty)")
    p.add_argument("--seed", type=int, default=None,
                   help="root seed (default: a fresh 63-bit seed, printed on stderr before work starts "
                        "and recorded in truth/seed.json)")
    add_overrides(p, help="override a preset value, e.g. --set tissue.receptor_size_correlation=0.5")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")
    p.add_argument("--quiet", action="store_true", help="no progress output (a drawn seed is still printed)")
    add_scale_options(p)
    p.set_defaults(func=run)


def add_scale_options(p) -> None:
    """``--workers``, ``--scheduler``, ``--cache-dir``, ``--no-cache`` (shared with ``sweep``)."""
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker processes for chunk tasks and NEURON simulations "
                        "(default: every core; 1: this process only)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run chunk tasks on an existing dask.distributed cluster, e.g. tcp://host:8786 "
                        "(default: dask's 'scheduler-address' setting, else local workers)")
    p.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="stage cache (trained/compiled circuit, grown phantom, morphology calibration); "
                        "default: ~/.cache/neural-pretty-printer/stages")
    p.add_argument("--no-cache", action="store_true", help="compute every stage; read and write no cache")


def scale_options(args):
    """The engine config and stage cache from the options of :func:`add_scale_options`."""
    import dask

    from pretty_printer.dataset.cache import StageCache, default_cache_dir
    from pretty_printer.dataset.engine import EngineConfig

    scheduler = args.scheduler if args.scheduler is not None else dask.config.get("scheduler-address", None)
    engine = EngineConfig(workers=args.workers, scheduler=scheduler)
    cache = StageCache(None if args.no_cache else (args.cache_dir or default_cache_dir()))
    return engine, cache


def run(args) -> int:
    from pretty_printer.errors import ConfigError
    from pretty_printer.dataset.generate import generate
    from pretty_printer.dataset.presets import load_preset

    if args.seed is not None and args.seed < 0:
        raise ConfigError(f"--seed: expected a non-negative integer, got {args.seed}")
    preset = load_preset(args.preset, args.overrides)
    seed = args.seed if args.seed is not None else secrets.randbits(63)
    if args.seed is None:  # always printed (even --quiet): a failure must be reproducible
        print(f"seed {seed} (drawn; rerun with --seed {seed} to reproduce)", file=sys.stderr, flush=True)
    engine, cache = scale_options(args)
    out = generate(preset, args.out, seed, force=args.force, progress=not args.quiet, engine=engine, cache=cache)
    if not args.quiet:
        print(f"wrote {out}/public (what a pipeline receives) and {out}/truth (withheld)", file=sys.stderr)
    return 0
