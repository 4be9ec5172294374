"""``pretty-printer reconstruct``: dataset -> submission (truth, baselines, injected errors)."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("reconstruct", help="build a submission from a dataset",
                       description="Run a reconstruction method on one modality of a dataset.")
    p.add_argument("dataset", type=Path, help="dataset directory written by `generate`")
    p.add_argument("--method", default="baseline", help="baseline | truth (default: baseline)")
    p.add_argument("--modality", default="em", help="em | exm | xray (default: em)")
    p.add_argument("--out", required=True, type=Path, help="submission directory to write")
    p.add_argument("--perturb", default=None, metavar="KIND=LEVEL,...",
                   help="inject errors (only with --method truth): split, merge, drop_synapses, "
                        "add_synapses, weight_noise; e.g. split=0.2,drop_synapses=0.5")
    p.add_argument("--seed", type=int, default=0, help="seed for randomized methods and error injection")
    p.add_argument("--force", action="store_true", help="replace an existing submission directory")
    p.set_defaults(func=run)


def run(args) -> int:
    from pretty_printer.dataset.layout import Dataset
    from pretty_printer.errors import ConfigError
    from pretty_printer.reconstruct.methods import get_method
    from pretty_printer.seeds import stage_rng
    from pretty_printer.submission.format import write_submission

    ds = Dataset(args.dataset)
    info = ds.modality(args.modality)
    method = get_method(args.method, args.modality)
    if args.perturb and args.method != "truth":
        raise ConfigError("--perturb: error injection applies to --method truth only")
    perturbations = None
    if args.perturb:
        from pretty_printer.submission.perturb import parse_perturb

        perturbations = parse_perturb(args.perturb)
    sub = method(ds, args.modality, rng=stage_rng(args.seed, "baseline", args.modality))
    if perturbations:
        from pretty_printer.submission.perturb import perturb

        origin = ds.phantom().block_origin_nm
        sub = perturb(sub, perturbations, origin_nm=origin, voxel_nm=info["voxel_nm"],
                      rng=stage_rng(args.seed, "perturb"))
    write_submission(args.out, sub, voxel_nm=info["voxel_nm"], force=args.force)
    print(f"wrote submission {args.out} ({args.method}, {args.modality}, {sub.n_synapses} synapses)", file=sys.stderr)
    return 0
