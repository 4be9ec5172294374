"""A self-contained HTML report of a scorecard: tables plus one inline plot (no external files)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

SECTIONS = ("segmentation", "synapses", "connectome", "receptors", "function")
# scores in [0, 1] where higher is better, shown in the bar chart
_BARS = (("synapses", "f1"), ("connectome", "edge_f1"), ("connectome", "sign_accuracy"),
         ("function", "accuracy"), ("function", "reference_accuracy"), ("function", "output_correlation"))


def _plot_png(card: dict) -> str:
    from pretty_printer.viz import figures as plt

    names, values = [], []
    for sec, key in _BARS:
        v = card.get(sec, {}).get(key)
        if isinstance(v, (int, float)):
            names.append(f"{sec}.{key}")
            values.append(float(v))
    seg = card.get("segmentation", {})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [3, 1.3]})
    axes[0].barh(names[::-1], values[::-1], color="#4c72b0")
    axes[0].set_xlim(0, 1)
    axes[0].set_title("higher is better")
    vi = [("vi_split", seg.get("vi_split")), ("vi_merge", seg.get("vi_merge")), ("arand", seg.get("arand"))]
    vi = [(k, v) for k, v in vi if isinstance(v, (int, float))]
    axes[1].bar([k for k, _ in vi], [v for _, v in vi], color="#dd8452")
    axes[1].set_title("lower is better")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "n/a" if v is None else html.escape(str(v))


def write_html_report(card: dict, path: Path) -> None:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>neural-pretty-printer scorecard</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;margin-bottom:1.5em}"
             "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}th{background:#eee}</style></head><body>",
             f"<h1>Scorecard</h1><p>modality <b>{_fmt(card.get('modality'))}</b>, method <b>{_fmt(card.get('method'))}</b></p>",
             f"<img alt='scores' src='data:image/png;base64,{_plot_png(card)}'>"]
    for sec in SECTIONS:
        if sec in card:
            rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in card[sec].items())
            parts.append(f"<h2>{sec}</h2><table><tr><th>metric</th><th>value</th></tr>{rows}</table>")
    parts.append("<p>Conventions: VI in bits (vi_split = H(S|G), vi_merge = H(G|S)), ground-truth label 0 excluded; "
                 "ARAND = 1 - 2PR/(P+R); synapse matches one-to-one (Hungarian) within threshold_nm.</p></body></html>")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(parts))
