"""EM baseline's synapse sign (from ultrastructure) against electron dose, on grown tissues.

Usage::

    python benchmarks/bench_em_sign_dose.py DATASET_DIR [DATASET_DIR ...] [--dose 15 5 2 1 0.5]
        [--out TABLE.md]

Each dataset's phantom is re-imaged by its own EM scanner (same preset, same scan seed, same
artifacts) with only ``dose_e_per_nm2`` changed; the EM baseline (which reads only the image)
reconstructs each image and is scored against the dataset's truth.  One table per dataset, and
with several datasets (e.g. `tiny` seeds 0, 1, 2) a table of the means over them.  Columns:

* ``syn_P/R/F1``: synapse detection (scorer's matching, 200 nm);
* ``edge_F1``, ``sign_acc`` (the scorecard's ``sign_accuracy``: matched edges whose majority
  sign is right) and ``n_edges`` (matched edges it is computed on); ``sign_exc``: the same
  score for the same submission with every sign set to excitatory, i.e. the share of the matched
  edges that are excitatory: what ``sign_acc`` reaches by reading no ultrastructure at all;
* ``syn_sign``: sign accuracy per synapse, over true synapses matched by position alone;
  ``sign_II``: the same over the Gray type II (GABAergic) ones only;
  ``rec_I``/``rec_II``: detection recall of Gray type I (glutamatergic) and type II
  synapses (position matching).  These read the truth only to score.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

DOSES = (15.0, 5.0, 2.0, 1.0, 0.5)
COLUMNS = ["dose", "vi_split", "vi_merge", "syn_P", "syn_R", "syn_F1", "n_pred", "edge_F1", "sign_acc", "sign_bal",
           "sign_exc", "n_edges", "syn_sign", "sign_II", "rec_I", "rec_II", "time_s"]


def rescan_em(ds, dose: float) -> np.ndarray:
    """The dataset's EM image re-rendered at ``dose`` (e/nm^2), everything else as generated."""
    import json

    import phantoms
    import scanners

    from pretty_printer.dataset.scans import scan_region
    from pretty_printer.seeds import stage_seed

    saved = json.loads((ds.truth / "seed.json").read_text())  # the resolved preset and root seed
    seed = int(saved["seed"])
    params = dict(saved["config"]["scan"]["em"])
    params["dose_e_per_nm2"] = float(dose)
    scanner = scanners.make_scanner(params)
    phantom = ds.phantom()
    origin, size = scan_region(phantom)
    return scanner.render_volume(phantoms.tissue_function(phantom), origin, size,
                                 seed=stage_seed(seed, "scan", "em"))[0]


def evaluate(ds, img: np.ndarray) -> dict:
    from phantoms.organelle_fields import synapse_inhibitory

    from pretty_printer.reconstruct.baseline_em import reconstruct_dense
    from pretty_printer.scoring.metrics.synapses import match_synapses
    from pretty_printer.scoring.score import SYNAPSE_THRESHOLD_NM, structure_scores

    m = ds.modality("em")
    sub = reconstruct_dense(img, m["voxel_nm"], m.get("origin_nm", (0.0, 0.0, 0.0)))
    signs = np.asarray(sub.synapses["sign"])
    ph = ds.phantom()
    card = structure_scores(ds, sub, ph, ds.circuit(), SYNAPSE_THRESHOLD_NM)
    exc = dataclasses.replace(sub, synapses={**sub.synapses, "sign": np.ones_like(signs)})  # no ultrastructure
    all_exc = structure_scores(ds, exc, ph, ds.circuit(), SYNAPSE_THRESHOLD_NM)["connectome"]["sign_accuracy"]
    S = ph.synapses
    inh = synapse_inhibitory(ph)
    pairs = match_synapses(S.pre_nm, S.post_nm, sub.pre_nm, sub.post_nm, SYNAPSE_THRESHOLD_NM)
    true_sign = np.where(inh, -1, 1)[pairs[:, 0]]
    pred_sign = signs[pairs[:, 1]] if len(pairs) else np.zeros(0)
    ok_ii = (true_sign == pred_sign)[inh[pairs[:, 0]]] if len(pairs) else np.zeros(0, bool)
    found = np.zeros(len(S), bool)
    found[pairs[:, 0]] = True
    s, y, c = card["segmentation"], card["synapses"], card["connectome"]
    return {"vi_split": s["vi_split"], "vi_merge": s["vi_merge"], "syn_P": y["precision"], "syn_R": y["recall"],
            "syn_F1": y["f1"], "n_pred": y["n_pred"], "edge_F1": c["edge_f1"], "sign_acc": c["sign_accuracy"],
            "sign_bal": c["sign_balanced_accuracy"],
            "sign_exc": all_exc, "n_edges": c["n_matched_edges"],
            "syn_sign": float(np.mean(true_sign == pred_sign)) if len(pairs) else None,
            "sign_II": float(ok_ii.mean()) if ok_ii.size else None,
            "rec_I": float(found[~inh].mean()) if (~inh).any() else None,
            "rec_II": float(found[inh].mean()) if inh.any() else None}


def _fmt(v) -> str:
    return "n/a" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))


def _line(row: dict) -> str:
    return "| " + " | ".join(_fmt(row.get(k)) for k in COLUMNS) + " |"


def mean_rows(tables: list[list[dict]]) -> list[dict]:
    """Per dose, the mean of each numeric column over the datasets (``None`` entries left out)."""
    out = []
    for rows in zip(*tables):
        row = {"dose": rows[0]["dose"]}
        for k in COLUMNS[1:-1]:
            vals = [float(r[k]) for r in rows if r.get(k) is not None]
            row[k] = float(np.mean(vals)) if vals else None
        out.append(row)
    return out


def main(argv=None) -> int:
    from pretty_printer.dataset.layout import Dataset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="+")
    ap.add_argument("--dose", type=float, nargs="+", default=list(DOSES))
    ap.add_argument("--out", type=Path, help="also write the tables (markdown) here")
    args = ap.parse_args(argv)
    header = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines, tables = [], []
    for path in args.dataset:
        ds = Dataset(path)
        lines += [f"{path}:", ""] + header
        print("\n".join(lines[-4:]), flush=True)
        rows = []
        for dose in args.dose:
            t0 = time.perf_counter()
            row = {"dose": f"{dose:g}", **evaluate(ds, rescan_em(ds, dose))}
            row["time_s"] = f"{time.perf_counter() - t0:.0f}"
            rows.append(row)
            lines.append(_line(row))
            print(lines[-1], flush=True)
        tables.append(rows)
        lines.append("")
    if len(tables) > 1:
        lines += [f"mean over {len(tables)} datasets:", ""] + header + [_line(r) for r in mean_rows(tables)]
        print("\n".join(lines[-(len(args.dose) + 4):]), flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
