"""
A parameter sweep
=================

``pretty-printer sweep`` answers "how does the score depend on X?" with one command: it
generates a dataset for every value of the varied preset keys, reconstructs each (here with the
EM baseline) and scores it, then writes a table and a plot of every score against every varied
key.  Rerunning the same command resumes: finished points are not recomputed.  Here: how does
the EM baseline's segmentation depend on the electron dose?

The command line equivalent::

    pretty-printer sweep --preset tiny --vary scan.em.dose_e_per_nm2=2,30 --no-function --out DIR \\
        --set compile.epochs=40
"""

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pretty_printer.studies.sweep import SweepConfig, draw_score, run_sweep

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

# %%
# Two doses on the ``tiny`` preset, made quick: shorter ANN training and only the EM scan (a
# sweep scans only the modality it reconstructs).  Function scores and the
# per-score plots are skipped here; the table is all we need.
cfg = SweepConfig(preset="tiny", vary=(("scan.em.dose_e_per_nm2", (2.0, 30.0)),), method="baseline",
                  overrides=("compile.epochs=40",), function=False)
result = run_sweep(cfg, OUT / "sweep-dose", progress=False, plots=False)
print(f"{len(result.computed)} points computed, {len(result.reused)} reused")

# %%
# Segmentation errors against dose, from the sweep's table (the same drawing as its plots).
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for ax, score_name in zip(axes, ("segmentation.vi_split", "segmentation.vi_merge", "segmentation.arand")):
    draw_score(ax, result.rows, cfg.keys[0], score_name, cfg.keys, title=score_name)
    ax.set_xlabel("EM dose (e/nm^2)")
fig.suptitle("EM baseline vs dose (lower is better)")
fig.tight_layout()
fig.savefig(OUT / "plot_sweep.png")
