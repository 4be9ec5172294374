"""A self-contained HTML report of a scorecard: tables, one inline plot and, where the dataset and
the submission are given, image crops and neuroglancer links for the diagnostics (no external
files)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

SECTIONS = ("segmentation", "synapses", "connectome", "receptors", "function")
# scores in [0, 1] where higher is better, shown in the bar chart; reference values are drawn as
# markers on the score they are a reference for, never as bars of their own
_BARS = (("synapses", "f1"), ("connectome", "edge_f1"), ("connectome", "sign_accuracy"),
         ("function", "accuracy"), ("function", "output_correlation"))
_REFERENCES = {("function", "accuracy"): (("function", "reference_accuracy", "truth circuit", "#000000"),
                                          ("function", "ann_accuracy", "ANN", "#8c8c8c"))}
N_CROPS = 3  # crops drawn per diagnostics table (the worst entries)


def _plot_png(card: dict) -> str:
    from pretty_printer.viz import figures as plt

    names, values, refs = [], [], []
    for sec, key in _BARS:
        v = card.get(sec, {}).get(key)
        if isinstance(v, (int, float)):
            names.append(f"{sec}.{key}")
            values.append(float(v))
            for rsec, rkey, label, colour in _REFERENCES.get((sec, key), ()):
                r = card.get(rsec, {}).get(rkey)
                if isinstance(r, (int, float)):
                    refs.append((len(names) - 1, float(r), label, colour))
    seg = card.get("segmentation", {})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [3, 1.3]})
    n = len(names)
    axes[0].barh(range(n), values, color="#4c72b0")
    for row, v in enumerate(values):  # the value beside each bar, so a zero reads as 0, not as missing
        axes[0].text(max(v, 0) + 0.01, row, f"{v:.2f}", va="center", fontsize=8)
    axes[0].set_yticks(range(n), names)
    axes[0].invert_yaxis()
    for row, r, label, colour in refs:  # a reference is a marker on its score's row, never a bar
        axes[0].plot([r], [row - 0.42], marker="v", ms=9, color=colour, ls="none", label=f"reference: {label}",
                     clip_on=False)
    if refs:
        axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7, frameon=False)
    axes[0].set_xlim(0, 1.12)
    axes[0].set_title("higher is better")
    vi = [("vi_split\n(bits)", seg.get("vi_split")), ("vi_merge\n(bits)", seg.get("vi_merge")), ("arand", seg.get("arand"))]
    vi = [(k, v) for k, v in vi if isinstance(v, (int, float))]
    axes[1].bar([k for k, _ in vi], [v for _, v in vi], color="#dd8452")
    for k, (_, v) in enumerate(vi):
        axes[1].text(k, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    axes[1].tick_params(axis="x", labelsize=7)
    axes[1].set_title("lower is better")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return html.escape(", ".join(_fmt(x) for x in v))
    return "n/a" if v is None else html.escape(str(v))


class _Viewer:
    """Crops and links for diagnostics entries; inert when the dataset is not given."""

    def __init__(self, card: dict, dataset_dir, submission_dir, url_base: str | None):
        self.ok = dataset_dir is not None and submission_dir is not None
        if not self.ok:
            return
        from pretty_printer.dataset.layout import Dataset
        from pretty_printer.submission.format import read_submission

        self.ds = Dataset(Path(dataset_dir))
        self.modality = card["modality"]
        self.info = self.ds.modality(self.modality)
        self.image, _ = self.ds.image(self.modality)
        self.gt = self.ds.truth_labels(self.modality)
        self.seg = read_submission(Path(submission_dir), expected_shape=self.info["shape"][1:],
                                   voxel_nm=self.info["voxel_nm"]).segmentation
        self.url_base = url_base

    def crop(self, pos, truth_cells, segments, title) -> str:
        if not self.ok or pos is None:
            return ""
        from pretty_printer.viz.crops import crop_png

        png = crop_png(self.image, self.gt, self.seg, self.info["origin_nm"], self.info["voxel_nm"], pos,
                       truth_cells=truth_cells, segments=segments, title=title)
        return f"<img alt='{html.escape(title)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"

    def segment_at(self, pos) -> list[int]:
        """The submission's segment at a position, as a list (empty: none or unassigned)."""
        if not self.ok or pos is None:
            return []
        import numpy as np

        idx = np.floor((np.asarray(pos, float) - self.info["origin_nm"]) / np.asarray(self.info["voxel_nm"])).astype(int)
        if np.any(idx < 0) or np.any(idx >= self.seg.shape):
            return []
        s = int(self.seg[tuple(idx)])
        return [s] if s else []

    def link(self, pos, cells) -> str:
        if not self.ok or pos is None or self.url_base is None:
            return ""
        from pretty_printer.viz.neuroglancer import neuroglancer_link

        url = neuroglancer_link(self.info, self.modality, pos, segments=cells, url_base=self.url_base)
        return f" <a href='{html.escape(url)}'>neuroglancer</a>"


def _table(head, rows) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _cells(pairs, circuit) -> str:
    """``id (voxels)`` list with the known circuit's cells in bold."""
    out = []
    for c, n in pairs:
        t = f"{int(c)} ({int(n)})"
        out.append(f"<b>{t}</b>" if c in circuit else html.escape(t))
    return ", ".join(out)


def _merges_splits(d: dict, v: _Viewer) -> list[str]:
    from pretty_printer.scoring.diagnostics import MIN_PART_FRACTION

    parts, crops = [], []
    rows = []
    for i, m in enumerate(d["worst_merges"]):
        cells = [c for c, _ in m["truth_cells"]]
        rows.append([m["segment"], m["voxels"], m["error_voxels"], _cells(m["truth_cells"], set(m["circuit_cells"])),
                     _fmt(m["position_zyx_nm"]) + v.link(m["position_zyx_nm"], cells)])
        if i < N_CROPS:
            crops.append(v.crop(m["position_zyx_nm"], cells[:2], [m["segment"]], f"merge: segment {m['segment']}"))
    parts.append(f"<h3>Worst merges ({d['n_merges']} segments in which a second truth cell holds at least "
                 f"{MIN_PART_FRACTION:.0%} of the voxels; largest second part first)</h3>")
    parts.append(_table(["segment", "voxels", "voxels to cut", "truth cells (voxels; bold: circuit)",
                         "position z, y, x (nm)"], rows))
    rows = []
    for i, m in enumerate(d["worst_splits"]):
        segs = [s for s, _ in m["segments"]]
        name = f"<b>{m['cell']}</b>" if m["circuit"] else str(m["cell"])
        rows.append([name, m["voxels"], m["error_voxels"], _fmt([f"{s} ({n})" for s, n in m["segments"]]),
                     _fmt(m["position_zyx_nm"]) + v.link(m["position_zyx_nm"], [m["cell"]])])
        if i < N_CROPS:
            crops.append(v.crop(m["position_zyx_nm"], [m["cell"]], segs[:2], f"split: cell {m['cell']}"))
    parts.append(f"<h3>Worst splits ({d['n_splits']} truth cells whose second piece holds at least "
                 f"{MIN_PART_FRACTION:.0%} of the cell; segment 0 = unassigned voxels)</h3>")
    parts.append(_table(["truth cell (bold: circuit)", "voxels", "voxels outside its main segment", "segments (voxels)",
                         "position z, y, x (nm)"], rows))
    return parts + crops


def _synapse_tables(d: dict, v: _Viewer) -> list[str]:
    parts = [f"<h3>Missed synapses ({d['n_missed']}; first {len(d['missed'])} listed)</h3>"]
    parts.append(_table(["truth id", "pre cell", "post cell", "reason", "nearest submitted (nm)", "position z, y, x (nm)"],
                        [[s["id"], s["pre_cell"], s["post_cell"], s["reason"], _fmt(s["nearest_submitted_nm"]),
                          _fmt(s["position_zyx_nm"]) + v.link(s["position_zyx_nm"], [s["pre_cell"], s["post_cell"]])]
                         for s in d["missed"]]))
    parts += [v.crop(s["position_zyx_nm"], [s["pre_cell"], s["post_cell"]], v.segment_at(s["position_zyx_nm"]),
                     f"missed synapse {s['id']} ({s['reason']})")
              for s in d["missed"][:N_CROPS]]
    parts.append(f"<h3>Spurious synapses ({d['n_spurious']}; first {len(d['spurious'])} listed)</h3>")
    parts.append(_table(["row in synapses.csv", "pre cell", "post cell", "nearest true (nm)", "position z, y, x (nm)"],
                        [[s["row"], s["pre_cell"], s["post_cell"], _fmt(s["nearest_true_nm"]),
                          _fmt(s["position_zyx_nm"]) + v.link(s["position_zyx_nm"], [])] for s in d["spurious"]]))
    parts.append("<h3>Submitted synapses that make no edge of the circuit's connectome</h3>")
    parts.append(_table(["reason", "count"], [[k, n] for k, n in d["dropped_synapses"].items()]))
    return parts


def _lost_edges(d: dict, v: _Viewer) -> list[str]:
    lost = d["lost_edges"]
    return [f"<h3>Lost edges of the circuit ({lost['n_lost']}: "
            + ", ".join(f"{k} {n}" for k, n in lost["by_reason"].items()) + ")</h3>",
            "<p>These cost the function score most: every missing connection changes what the rebuilt circuit computes.</p>",
            _table(["pre cell", "post cell", "reason", "sites went to cells", "truth synapses", "position z, y, x (nm)"],
                   [[e["pre_cell"], e["post_cell"], e["reason"], _fmt(e["resolved_to"]), e["n_true_synapses"],
                     _fmt(e["position_zyx_nm"]) + v.link(e["position_zyx_nm"], [e["pre_cell"], e["post_cell"]])]
                    for e in lost["lost"]])]


def _diagnostics_html(card: dict, viewer: _Viewer) -> list[str]:
    d = card.get("diagnostics")
    if not d:
        return []
    from pretty_printer.scoring.diagnostics import DROP_REASONS, EDGE_LOSS_REASONS

    parts = ["<h2>diagnostics: where it fails</h2>",
             "<p>Positions are z, y, x in nm in the dataset frame (that of <code>truth/synapses.csv</code>). "
             "Bold ids are cells of the known circuit; the others are background neurites and glia (they count "
             "in the segmentation and synapse scores, not in the function). Crops show the scan's plane through "
             "the position (yellow cross): on the left the truth cells outlined (first green, second blue), on "
             "the right the submission's segments (first red, second orange; segment 0, unassigned voxels of the "
             "cell, outlined too).</p>"]
    parts += _lost_edges(d, viewer) + _merges_splits(d, viewer) + _synapse_tables(d, viewer)
    reasons = {**{f"edge {k}": t for k, t in EDGE_LOSS_REASONS.items()}, **{f"synapse {k}": t for k, t in DROP_REASONS.items()}}
    parts.append("<p>Reasons: " + "; ".join(f"<b>{html.escape(k)}</b>: {html.escape(t)}" for k, t in reasons.items()) + ".</p>")
    return parts


def write_html_report(card: dict, path: Path, *, dataset_dir=None, submission_dir=None,
                      url_base: str | None = None) -> None:
    """Write the scorecard as one self-contained HTML file.

    Parameters
    ----------
    card : dict
        A scorecard from :func:`pretty_printer.scoring.score.score`.
    path : path
        The HTML file to write (parents are created).
    dataset_dir, submission_dir : path, optional
        When both are given, the diagnostics entries get image crops (the dataset's scan, truth and
        the submission's segmentation, read again from disk).
    url_base : str, optional
        HTTP address where ``dataset_dir`` is served; when given, each diagnostics entry gets a
        neuroglancer link.
    """
    viewer = _Viewer(card, dataset_dir, submission_dir, url_base)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>neural-pretty-printer scorecard</title>",
             "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse;margin-bottom:1.5em}"
             "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}th{background:#eee}</style></head><body>",
             f"<h1>Scorecard</h1><p>dataset <b>{_fmt(card.get('dataset_id'))}</b>, modality <b>{_fmt(card.get('modality'))}</b>, "
             f"method <b>{_fmt(card.get('method'))}</b></p>",
             f"<img alt='scores' src='data:image/png;base64,{_plot_png(card)}'>"]
    for sec in SECTIONS:
        if sec in card:
            rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in card[sec].items())
            parts.append(f"<h2>{sec}</h2><table><tr><th>metric</th><th>value</th></tr>{rows}</table>")
    parts += _diagnostics_html(card, viewer)
    parts.append("<p>Conventions: VI in bits (vi_split = H(S|G), vi_merge = H(G|S)), ground-truth label 0 excluded; "
                 "ARAND = 1 - 2PR/(P+R); synapse matches one-to-one (Hungarian) within threshold_nm.</p></body></html>")
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(parts))
    os.replace(tmp, path)  # never a half-written report
