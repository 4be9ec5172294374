"""Built-in studies: sweeps that answer one of the field's questions in miniature.

``receptor_predictability``
    Can synaptic strength be read off morphology?  X-ray nanotomography sees membranes and
    synapse size but carries little molecular information; expansion microscopy with antibody
    stains counts receptors.  We vary ``tissue.receptor_size_correlation`` (how well PSD area
    predicts a synapse's receptor count; 0 = not at all, 1 = exactly) and, at every point, score
    two submissions that differ **only** in how synaptic strength was measured:

    * ``xray_morphology``: strength = PSD area / ``psd_area_per_nS_nm2`` -- a single
      size-to-strength law, as if calibrated once in the literature (it is the tissue's own law,
      so at correlation 1 it is exact).  No receptor counts are submitted.
    * ``exm_receptors``: strength = sum over receptor types of the stained count times the
      nominal unit conductance (AMPA 6 pS, NMDA 15 pS, GABA_A 12 pS).

    Both arms start from the truth segmentation, synapse positions, partners, transmitter sign and
    bias currents, so structure is perfect and the study isolates the receptor question.  Both
    read their quantity perfectly (true PSD areas, true receptor counts).  The study sets its own
    size-to-strength law (:data:`STUDY_AREA_LAW`) so that the circuit's synapses fall inside the
    PSD-area clip range; see ``docs/study.md`` for why and for the measured result.  The
    score is ``function.accuracy`` and ``function.output_correlation`` of the rebuilt circuit.

Run one with ``pretty-printer sweep --study NAME --out DIR``; it resumes like any sweep and
writes ``DIR/figure.png`` and ``DIR/study.json`` besides the sweep's table and plots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from pretty_printer.errors import ConfigError
from pretty_printer.registry import Registry
from pretty_printer.studies.sweep import SEED_KEY, Arm, SweepConfig, SweepResult, read_table, run_sweep, series


@dataclass(frozen=True)
class Study:
    """A named sweep with its own arms and summary figure."""

    name: str
    summary: str
    preset: str
    key: str  # the varied preset key
    values: tuple
    seeds: tuple[int, ...]  # replicate every point over these root seeds (offsets from --seed)
    modality: str
    arms: tuple[Arm, ...]
    overrides: tuple[str, ...] = ()
    figure: Callable[..., Path] | None = None


STUDIES: Registry[Study] = Registry("study")


@dataclass
class StudyResult(SweepResult):
    figure: Path | None = None
    summary: dict | None = None


# --------------------------------------------------------------------------- receptor study arms
def _psd_area_per_nS(ds) -> float:
    """The tissue's size-to-strength law (nm^2 of PSD per nS) from the dataset's resolved preset."""
    from phantoms.config import GrowthConfig

    seed_file = ds.truth / "seed.json"
    tissue = json.loads(seed_file.read_text()).get("config", {}).get("tissue", {}) if seed_file.is_file() else {}
    return float(tissue.get("psd_area_per_nS_nm2", GrowthConfig.psd_area_per_nS_nm2))


def morphology_strength_nS(psd_area_nm2: np.ndarray, psd_area_per_nS_nm2: float) -> np.ndarray:
    """Strength predicted from synapse size alone (what X-ray can measure)."""
    return np.asarray(psd_area_nm2, float) / float(psd_area_per_nS_nm2)


def receptor_strength_nS(counts: dict[str, np.ndarray]) -> np.ndarray:
    """Strength (nS) from stained receptor counts (columns ``n_AMPA``, ...) times each receptor's
    nominal unit conductance."""
    from phantoms.receptors import RECEPTOR_UNIT_pS

    n = len(next(iter(counts.values())))
    total = np.zeros(n)
    for receptor, unit_pS in RECEPTOR_UNIT_pS.items():
        if f"n_{receptor}" in counts:
            total += np.asarray(counts[f"n_{receptor}"], float) * unit_pS
    return total / 1000.0


def xray_morphology(ds, modality: str, *, rng=None):
    """Perfect structure; strength from PSD area only; no receptor counts."""
    from pretty_printer.reconstruct.truth import reconstruct_truth

    sub = reconstruct_truth(ds, modality, rng=rng)
    syn = {k: v for k, v in sub.synapses.items() if k not in ("n_AMPA", "n_NMDA", "n_GABA_A")}
    syn["conductance_nS"] = morphology_strength_nS(syn["psd_area_nm2"], _psd_area_per_nS(ds))
    return replace(sub, synapses=syn, method="study:xray_morphology")


def exm_receptors(ds, modality: str, *, rng=None):
    """Perfect structure; strength from receptor counts (the stains ExM can read)."""
    from pretty_printer.reconstruct.truth import reconstruct_truth

    sub = reconstruct_truth(ds, modality, rng=rng)
    syn = dict(sub.synapses)
    syn["conductance_nS"] = receptor_strength_nS(syn)
    return replace(sub, synapses=syn, method="study:exm_receptors")


def receptor_figure(rows: Sequence[dict], path: Path, *, key: str, keys: Sequence[str], arms: Sequence[Arm]) -> Path:
    """Recovered function against the receptor-size correlation, both arms on one figure."""
    from pretty_printer.viz import figures as plt

    labels = {a.name: a.label for a in arms}
    panels = [("function.accuracy", "task accuracy of the rebuilt circuit"),
              ("function.output_correlation", "output-rate correlation with truth"),
              ("connectome.weight_spearman", "connection-weight Spearman rho")]
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 4.2), dpi=100)
    for ax, (score, title) in zip(axes, panels):
        for label, xs, mean, std, n in series(rows, key, score, keys):
            ax.errorbar(np.asarray(xs, float), mean, yerr=std if np.any(n > 1) else None, marker="o",
                        capsize=3, label=labels.get(label, label))
        if score == "function.accuracy":
            ref = [r["function.reference_accuracy"] for r in rows if "function.reference_accuracy" in r]
            if ref:
                ax.axhline(float(np.mean(ref)), color="k", ls="--", lw=1, label="ground-truth circuit")
        ax.set_xlabel(key.split(".")[-1].replace("_", " "))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    n_seeds = len({r.get(SEED_KEY) for r in rows}) if SEED_KEY in keys else 1
    # one legend under the panels: inside a panel it hid the points it labels
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=9, frameon=False)
    fig.suptitle(f"Can synaptic strength be read off morphology? (mean +- sd over {n_seeds} seed(s))", fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return path


STUDY_AREA_LAW = ("tissue.psd_area_per_nS_nm2=18000.0", "tissue.psd_area_min_nm2=250.0",
                  "tissue.psd_area_max_nm2=40000.0")

STUDIES.register("receptor_predictability")(Study(
    name="receptor_predictability",
    summary="recovered function vs tissue.receptor_size_correlation: morphology-only X-ray vs ExM receptor stains",
    preset="tiny",
    key="tissue.receptor_size_correlation",
    values=(0.0, 0.25, 0.5, 0.75, 1.0),
    seeds=(0, 1, 2),
    modality="em",  # only its truth label grid is used: both arms start from the truth
    # The default size law (6000 nm^2 per nS, floor 3000 nm^2) puts the floor at 0.5 nS, above
    # nearly every synapse of a compiled `tiny` circuit (0.02-2 nS): 23 of 24 PSDs came out at the
    # floor whatever the correlation, so the knob never reached the morphology.  This law maps
    # 0.02-2 nS onto 360-36000 nm^2, inside the clip range, so the correlation is what varies.
    overrides=STUDY_AREA_LAW,
    arms=(Arm("xray_morphology", "X-ray, morphology only (strength from PSD area)", xray_morphology),
          Arm("exm_receptors", "ExM + receptor stains (strength from receptor counts)", exm_receptors)),
    figure=receptor_figure,
))


# --------------------------------------------------------------------------- running
def summarize(rows: Sequence[dict], key: str, keys: Sequence[str], scores: Sequence[str]) -> dict:
    """Mean, sd and n of each score at each value of ``key``, per arm (as measured)."""
    out: dict = {}
    for score in scores:
        for label, xs, mean, std, n in series(rows, key, score, keys):
            arm = out.setdefault(label, {}).setdefault(score, [])
            arm.extend({"value": x, "mean": float(m), "sd": float(s), "n": int(k)}
                       for x, m, s, k in zip(xs, mean, std, n))
    return out


def run_study(name: str, out: Path, *, seed: int = 0, preset: str | None = None, overrides: tuple[str, ...] = (),
              values: Sequence | None = None, seeds: Sequence[int] | None = None, progress: bool = True,
              force: bool = False) -> StudyResult:
    """Run (or resume) a built-in study into ``out``; write its figure and ``study.json``.

    Parameters
    ----------
    name : str
        A registered study (:data:`STUDIES`).
    out : Path
        Study directory.
    seed : int
        Base root seed; the study's replicate seeds are ``seed + offset``.
    preset, overrides, values, seeds
        Replace the study's preset, add fixed overrides, or change the varied values or seeds
        (e.g. fewer, for a quick look or a test).
    """
    study = STUDIES.get(name)
    values = tuple(study.values if values is None else values)
    seeds = tuple(seed + s for s in (study.seeds if seeds is None else seeds))
    if not values or not seeds:
        raise ConfigError(f"study {name!r}: expected at least one value and one seed, got {values} and {seeds}")
    vary = [(study.key, values)] + ([(SEED_KEY, seeds)] if len(seeds) > 1 else [])
    cfg = SweepConfig(preset=preset or study.preset, vary=tuple(vary), modality=study.modality, method="truth",
                      seed=seeds[0], overrides=tuple(study.overrides) + tuple(overrides))
    res = run_sweep(cfg, Path(out), arms=study.arms, progress=progress, force=force)
    result = StudyResult(**vars(res))
    rows = read_table(out)
    if study.figure is not None and rows:
        result.figure = study.figure(rows, Path(out) / "figure.png", key=study.key, keys=cfg.keys, arms=study.arms)
    result.summary = summarize(rows, study.key, cfg.keys,
                               ("function.accuracy", "function.reference_accuracy",
                                "function.output_correlation", "connectome.weight_spearman"))
    (Path(out) / "study.json").write_text(json.dumps(
        {"study": name, "summary_text": study.summary, "key": study.key, "values": list(values),
         "seeds": list(seeds), "arms": {a.name: a.label for a in study.arms}, "results": result.summary},
        indent=1, sort_keys=True) + "\n")
    return result
