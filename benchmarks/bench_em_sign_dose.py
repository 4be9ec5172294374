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
* ``n_E``/``n_I`` and ``ok_E``/``ok_I``: the scorecard's ``sign_counts``, matched edges by true
  sign and those called right.

With several datasets the evidence is also pooled (:func:`pool`): per dose the confusion counts
are summed over the datasets (one or two inhibitory edges per `tiny` dataset make any single
dataset's figure noise) and plain and balanced accuracy are given with 95 % intervals.  Each
class recall has a Wilson score interval (Wilson 1927, JASA 22:209; Brown, Cai & DasGupta 2001,
Stat Sci 16:101, recommend it for small n) at 97.5 %, so that both recalls lie in theirs with
probability >= 95 % (Bonferroni) and the balanced accuracy, their mean, lies between the means of
the bounds at least as often; plain accuracy has a 95 % Wilson interval over all matched edges.
Edges are treated as independent trials, which they are not quite (edges of one dataset share a
tissue and an image).  Where a sign has fewer than ``MIN_CLASS_EDGES`` matched edges pooled, its
recall, the plain and the balanced accuracy are "n/a" (too few edges), not the 1.00 that one
class alone gives; the counts and ``all_exc`` (the excitatory share) are still shown.  ``--json`` keeps every row (with the counts) for re-pooling without re-imaging.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

DOSES = (15.0, 5.0, 2.0, 1.0, 0.5)
COLUMNS = ["dose", "vi_split", "vi_merge", "syn_P", "syn_R", "syn_F1", "n_pred", "edge_F1", "sign_acc", "sign_bal",
           "sign_exc", "n_edges", "n_E", "n_I", "ok_E", "ok_I", "syn_sign", "sign_II", "rec_I", "rec_II", "time_s"]
POOLED = ["dose", "n_E", "n_I", "ok_E", "ok_I", "recall_E", "recall_I", "plain", "balanced", "all_exc", "note"]
MIN_CLASS_EDGES = 3  # fewer matched edges of one sign, pooled: that sign's recall is not reported
Z95 = 1.959964  # two-sided 95 % normal quantile
Z975 = 2.241403  # two-sided 97.5 %: one per class recall (Bonferroni over the two signs)


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
    k = c["sign_counts"]
    return {"vi_split": s["vi_split"], "vi_merge": s["vi_merge"], "syn_P": y["precision"], "syn_R": y["recall"],
            "syn_F1": y["f1"], "n_pred": y["n_pred"], "edge_F1": c["edge_f1"], "sign_acc": c["sign_accuracy"],
            "sign_bal": c["sign_balanced_accuracy"],
            "sign_exc": all_exc, "n_edges": c["n_matched_edges"],
            "n_E": k["n_excitatory"], "n_I": k["n_inhibitory"], "ok_E": k["correct_excitatory"],
            "ok_I": k["correct_inhibitory"],
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


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n`` (Wilson 1927, JASA 22:209).

    ``lo, hi = (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with ``p = k/n``;
    ``z`` the normal quantile (1.96 for 95 %).  Raises ``ValueError`` for ``n < 1`` or ``k``
    outside ``[0, n]``.
    """
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"wilson: expected 0 <= k <= n and n >= 1, got k={k}, n={n}")
    p, z2 = k / n, z * z
    mid = p + z2 / (2 * n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return float((mid - half) / (1 + z2 / n)), float((mid + half) / (1 + z2 / n))


def pool(rows: list[dict], min_class: int = MIN_CLASS_EDGES) -> dict:
    """Sign evidence of one dose pooled over datasets.

    Parameters
    ----------
    rows : list of dict
        One per dataset, each with the matched-edge counts ``n_E``, ``n_I``, ``ok_E``, ``ok_I``.
    min_class : int
        A sign with fewer matched edges than this gets no recall and no balanced accuracy.

    Returns
    -------
    dict
        The summed counts; ``recall_E``/``recall_I``: ``(value, lo, hi)`` with 97.5 % Wilson bounds,
        or ``None`` (too few edges of that sign); ``plain``: ``(value, lo, hi)``, 95 % Wilson over
        all matched edges; ``balanced``: mean of the two recalls and of their bounds (>= 95 %
        coverage, Bonferroni); both ``None`` unless both recalls are given (with one sign nearly
        alone, plain accuracy is that sign's share and says nothing about reading the sign);
        ``all_exc``: the share of matched edges that are excitatory (plain accuracy of calling
        every edge excitatory); ``note``: ``"too few edges"`` where a recall is missing.
    """
    c = {k: int(sum(int(r[k]) for r in rows)) for k in ("n_E", "n_I", "ok_E", "ok_I")}
    n = c["n_E"] + c["n_I"]

    def recall(ok, tot):
        return (ok / tot, *wilson(ok, tot, Z975)) if tot >= min_class else None

    rec_e, rec_i = recall(c["ok_E"], c["n_E"]), recall(c["ok_I"], c["n_I"])
    both = rec_e is not None and rec_i is not None
    out = dict(c, recall_E=rec_e, recall_I=rec_i, all_exc=c["n_E"] / n if n else None,
               plain=((c["ok_E"] + c["ok_I"]) / n, *wilson(c["ok_E"] + c["ok_I"], n)) if both else None)
    out["balanced"] = tuple((a + b) / 2 for a, b in zip(rec_e, rec_i)) if both else None
    out["note"] = "" if both else "too few edges"
    return out


def _fmt_ci(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, tuple):
        return f"{v[0]:.2f} [{v[1]:.2f}, {v[2]:.2f}]"
    return _fmt(v)


def pooled_lines(tables: list[list[dict]]) -> list[str]:
    """The pooled table (markdown) of :func:`pool` at each dose, over the datasets' tables."""
    out = ["| " + " | ".join(POOLED) + " |", "|" + "---|" * len(POOLED)]
    for rows in zip(*tables):
        row = {"dose": rows[0]["dose"], **pool(list(rows))}
        out.append("| " + " | ".join(_fmt_ci(row.get(k)) for k in POOLED) + " |")
    return out


def main(argv=None) -> int:
    from pretty_printer.dataset.layout import Dataset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="*")
    ap.add_argument("--dose", type=float, nargs="+", default=list(DOSES))
    ap.add_argument("--out", type=Path, help="also write the tables (markdown) here")
    ap.add_argument("--json", type=Path, help="also write every row (with the sign counts) here, row by row")
    ap.add_argument("--pool", type=Path, nargs="+", default=[],
                    help="--json files of earlier runs: their datasets join the mean and pooled tables")
    args = ap.parse_args(argv)
    header = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines, done = [], {}
    for f in args.pool:
        done.update(json.loads(f.read_text()))
    for path, rows in done.items():
        lines += [f"{path}:", ""] + header + [_line(r) for r in rows] + [""]
    for path in args.dataset:
        ds = Dataset(path)
        lines += [f"{path}:", ""] + header
        print("\n".join(lines[-4:]), flush=True)
        done[path] = rows = []
        for dose in args.dose:
            t0 = time.perf_counter()
            row = {"dose": f"{dose:g}", **evaluate(ds, rescan_em(ds, dose))}
            row["time_s"] = f"{time.perf_counter() - t0:.0f}"
            rows.append(row)
            lines.append(_line(row))
            print(lines[-1], flush=True)
            if args.json:
                args.json.write_text(json.dumps(done, indent=1) + "\n")
        lines.append("")
    tables = list(done.values())
    if len({len(t) for t in tables}) > 1 or len({tuple(r["dose"] for r in t) for t in tables}) > 1:
        raise SystemExit("bench_em_sign_dose: the pooled datasets were run at different doses")
    if len(tables) > 1:
        n = len(tables[0])
        lines += [f"mean over {len(tables)} datasets:", ""] + header + [_line(r) for r in mean_rows(tables)]
        lines += ["", f"pooled over {len(tables)} datasets (matched edges summed; recalls: 97.5 % Wilson, "
                  "plain: 95 % Wilson, balanced: mean of the recall bounds, >= 95 %):", ""] + pooled_lines(tables)
        print("\n".join(lines[-(2 * n + 9):]), flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
