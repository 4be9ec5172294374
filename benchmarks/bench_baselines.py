"""Time each classical baseline on a `tiny` dataset and print its structure scores.

Usage::

    python benchmarks/bench_baselines.py [DATASET_DIR] [--seed N] [--modality em|exm|xray ...]

Without ``DATASET_DIR`` a `tiny` dataset is generated into a temporary directory (a few
minutes).  Target (issue 6): each baseline under 120 s on `tiny`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

TARGET_S = 120.0


def _dataset(path: str | None, seed: int) -> Path:
    if path:
        return Path(path)
    from pretty_printer.dataset.generate import generate
    from pretty_printer.dataset.presets import load_preset

    out = Path(tempfile.mkdtemp(prefix="bench-baselines-")) / "tiny"
    generate(load_preset("tiny"), out, seed, progress=False)
    return out


def main(argv=None) -> int:
    from pretty_printer.dataset.layout import Dataset
    from pretty_printer.reconstruct.methods import get_method
    from pretty_printer.scoring.score import SYNAPSE_THRESHOLD_NM, structure_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modality", action="append", choices=("em", "exm", "xray"))
    args = ap.parse_args(argv)
    ds = Dataset(_dataset(args.dataset, args.seed))
    phantom, circuit = ds.phantom(), ds.circuit()
    print(f"dataset {ds.root}  (target: each baseline < {TARGET_S:.0f} s)")
    print(f"{'modality':<8} {'time_s':>7} {'vi_split':>8} {'vi_merge':>8} {'arand':>6} {'n_seg':>5} "
          f"{'syn_P':>6} {'syn_R':>6} {'syn_F1':>6} {'n_pred':>6} {'n_true':>6} {'edge_F1':>7} {'sign':>5}")
    ok = True
    for modality in args.modality or ["em", "exm", "xray"]:
        if modality not in ds.modalities:
            continue
        t0 = time.perf_counter()
        sub = get_method("baseline", modality)(ds, modality)
        dt = time.perf_counter() - t0
        ok &= dt < TARGET_S
        card = structure_scores(ds, sub, phantom, circuit, SYNAPSE_THRESHOLD_NM)
        s, y, c = card["segmentation"], card["synapses"], card["connectome"]
        sign = "n/a" if c.get("sign_accuracy") is None else f"{c['sign_accuracy']:.2f}"
        print(f"{modality:<8} {dt:7.1f} {s['vi_split']:8.3f} {s['vi_merge']:8.3f} {s['arand']:6.3f} {s['n_seg']:5d} "
              f"{y['precision']:6.2f} {y['recall']:6.2f} {y['f1']:6.2f} {y['n_pred']:6d} {y['n_true']:6d} "
              f"{c['edge_f1']:7.2f} {sign:>5}")
    print("all under target" if ok else "SOME BASELINE OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
