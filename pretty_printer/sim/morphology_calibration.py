"""Recalibration: a point-cell circuit's conductances and currents, re-fitted for its grown cells.

The compiler maps ANN weights onto cells of ``circuit.soma_area_um2`` of membrane.  A grown cell
has another area (the scaled-down phantom cells have ~10 um2, not 1000) and its synapses sit out
on dendrites and spines.  Two steps make the grown circuit compute the task again:

1. **Area scaling** (no simulation): every current and conductance that reaches a cell is scaled
   by ``area(grown) / soma_area_um2``.  For a cell with the same channel densities everywhere that
   is electrotonically compact this is exact: the membrane equation divided by area is unchanged.
2. **Fitted rounds** (NEURON): the grown circuit and the point circuit are simulated on the same
   *training* inputs; each cell's measured rates are mapped through the inverse f-I curve to an
   effective current density, and a per-cell gain (on everything it receives: synapses, or the
   encoded input for input cells) and offset (its bias) are fitted by ridge regression so that
   its effective current matches the point cell's.  This absorbs dendritic filtering, spine-neck
   and axonal loading, and non-isopotential spiking.  For a cell whose operating point is set by
   tonic channels (:mod:`pretty_printer.circuit.excitability`) the offset is their current at
   the cell's mean potential and the fitted offset becomes new densities; an injected bias
   (the compiler's ``excitability="current"`` test option) is refitted as a current.

Everything is deterministic (NEURON at fixed dt, no random draws).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from pretty_printer.sim.fi import fi_curve
from pretty_printer.circuit.cellmodels import FICurve, nA_per_uA_cm2
from pretty_printer.circuit.description import Circuit
from pretty_printer.circuit.excitability import (cell_densities, densities_for_current,
                                                 tonic_current, with_densities)
from pretty_printer.errors import ConfigError

FORMAT = "neural-pretty-printer/circuit_morphology@1"


@dataclass(frozen=True)
class RecalibrationConfig:
    """Settings of :func:`recalibrate`."""

    rounds: int = 1  # fitted rounds after area scaling (each simulates n_samples grown circuits)
    n_samples: int = 16  # training samples (sequences for temporal tasks) per round
    ridge: float = 1.0  # pull towards "no change", in units of one sample's squared residual
    min_gain: float = 0.5
    max_gain: float = 2.0
    rate_lo_frac: float = 0.05  # samples are used when both rates lie in (lo, hi) * max f-I rate,
    rate_hi_frac: float = 0.9  # where the f-I curve is invertible and not saturated

    def __post_init__(self) -> None:
        if self.rounds < 0:
            raise ConfigError(f"rounds: expected >= 0, got {self.rounds!r}")
        if self.n_samples < 1:
            raise ConfigError(f"n_samples: expected >= 1, got {self.n_samples!r}")
        if self.ridge < 0:
            raise ConfigError(f"ridge: expected >= 0, got {self.ridge!r}")
        if not 0 < self.min_gain <= 1 <= self.max_gain:
            raise ConfigError(f"min_gain/max_gain: expected 0 < min <= 1 <= max, got "
                              f"{self.min_gain}/{self.max_gain}")
        if not 0 <= self.rate_lo_frac < self.rate_hi_frac <= 1:
            raise ConfigError(f"rate_lo_frac/rate_hi_frac: expected 0 <= lo < hi <= 1, got "
                              f"{self.rate_lo_frac}/{self.rate_hi_frac}")


@dataclass(frozen=True)
class Recalibration:
    """A circuit ready for its grown cells, and how far it moved from the point-cell circuit.

    ``circuit`` has the same cells and connections as the point circuit with biases (nA) and
    peak conductances (uS) for the grown membranes; ``input_gain`` multiplies each input cell's
    encoded current.  Simulate with
    ``simulate_morphological(r.circuit, morphology, X, input_gain=r.input_gain)``.
    """

    circuit: Circuit
    input_gain: dict
    area_um2: dict  # cell id -> grown membrane area
    report: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "circuit": self.circuit.to_dict(),
                "input_gain": {str(k): float(v) for k, v in sorted(self.input_gain.items())},
                "area_um2": {str(k): float(v) for k, v in sorted(self.area_um2.items())},
                "report": self.report}

    def save(self, path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))
        return path

    @classmethod
    def load(cls, path) -> "Recalibration":
        d = json.loads(Path(path).read_text())
        if d.get("format") != FORMAT:
            raise ConfigError(f"{path}: expected format {FORMAT!r}, got {d.get('format')!r}")
        return cls(Circuit.from_dict(d["circuit"]), {int(k): v for k, v in d["input_gain"].items()},
                   {int(k): v for k, v in d["area_um2"].items()}, d.get("report", {}))


# --------------------------------------------------------------------------- step 1
def area_scaled(circuit: Circuit, morphology) -> Recalibration:
    """Scale every cell's bias, incoming conductances and input current by its area ratio."""
    areas = {c.id: morphology.cell(c.id).area_um2 for c in circuit.cells}
    ratio = {cid: a / circuit.soma_area_um2 for cid, a in areas.items()}
    cells = tuple(replace(c, bias_nA=c.bias_nA * ratio[c.id]) for c in circuit.cells)
    conns = tuple(replace(k, weight_uS=k.weight_uS * ratio[k.post]) if k.post in ratio else k
                  for k in circuit.connections)
    gain = {cid: ratio[cid] for cid in circuit.input_cells if cid in ratio}
    return Recalibration(replace(circuit, cells=cells, connections=conns), gain, areas)


# --------------------------------------------------------------------------- step 2
def _inverse_fi(fi: FICurve, rate_Hz: np.ndarray) -> np.ndarray:
    """Current density (uA/cm2) at which the f-I curve reaches ``rate_Hz`` (its rising part)."""
    keep = fi.current_uA_cm2 >= fi.threshold_uA_cm2
    r, i = fi.rate_Hz[keep], fi.current_uA_cm2[keep]
    r_mono = np.maximum.accumulate(r)  # np.interp needs increasing abscissae
    first = np.concatenate([[True], np.diff(r_mono) > 0])
    return np.interp(rate_Hz, r_mono[first], i[first])


def _fit_cell(j_morph, j_point, bias_density, cfg: RecalibrationConfig) -> tuple[float, float]:
    """Gain on the drive and new bias density so that ``bias + gain * drive`` matches the target."""
    drive = j_morph - bias_density
    A = np.stack([drive, np.ones_like(drive)], axis=1)
    scale = np.abs(A).max(axis=0) + 1e-12  # ridge in relative units per column
    prior = np.array([1.0, bias_density])
    M = (A / scale).T @ (A / scale) + cfg.ridge * np.eye(2)
    rhs = (A / scale).T @ j_point + cfg.ridge * prior * scale
    gain, beta = np.linalg.solve(M, rhs) / scale
    if not cfg.min_gain <= gain <= cfg.max_gain:  # clipped: refit the offset for that gain
        gain = float(np.clip(gain, cfg.min_gain, cfg.max_gain))
        beta = np.mean(j_point - gain * drive)
    return float(gain), float(beta)


def fit_round(rec: Recalibration, morphology, target: np.ndarray, X: np.ndarray,
              cfg: RecalibrationConfig, *, sim_config=None) -> tuple[Recalibration, dict]:
    """One fitted round: simulate the grown circuit on ``X`` and match the ``target`` rates.

    Parameters
    ----------
    rec : Recalibration
        The current state (from :func:`area_scaled` or a previous round).
    morphology : pretty_printer.sim.morphology.Morphology
    target : ndarray
        The point circuit's rates on ``X``, (n_samples, n_cells) ordered like ``rec.circuit.cells``.
    X : ndarray
        Calibration inputs (training data).
    cfg : RecalibrationConfig

    Returns
    -------
    (Recalibration, dict)
        The updated state and this round's statistics (the rate mismatch *before* the update).
    """
    from pretty_printer.sim.neuron_backend import MorphSimConfig, simulate_morphological

    circuit = rec.circuit
    sim = simulate_morphological(circuit, morphology, X, input_gain=rec.input_gain,
                                 config=sim_config or MorphSimConfig())
    R = sim.rates_Hz.reshape(-1, sim.rates_Hz.shape[-1])
    T = np.asarray(target, float).reshape(-1, R.shape[-1])
    gains, biases, dens = {}, {}, {}
    for j, c in enumerate(circuit.cells):
        fi = fi_curve(c.model)
        lo, hi = cfg.rate_lo_frac * fi.rate_Hz.max(), cfg.rate_hi_frac * fi.rate_Hz.max()
        ok = (R[:, j] > lo) & (R[:, j] < hi) & (T[:, j] > lo) & (T[:, j] < hi)
        if ok.sum() < 3:  # too few samples in the invertible range: keep the cell as it is
            continue
        k = nA_per_uA_cm2(rec.area_um2[c.id])
        j_morph = _inverse_fi(fi, R[ok, j])
        v_bar = float(np.mean(fi.v_mean(j_morph)))  # the cell's operating potential
        tonic = float(tonic_current(cell_densities(c), v_bar))
        g, beta = _fit_cell(j_morph, _inverse_fi(fi, T[ok, j]), c.bias_nA / k + tonic, cfg)
        gains[c.id] = g
        if c.bias_nA != 0.0:  # an injected bias (test option) is refitted as a current
            biases[c.id] = (beta - tonic) * k
        else:
            dens[c.id] = densities_for_current(beta, v_bar)
    inputs = set(circuit.input_cells)
    cells = tuple(with_densities(replace(c, bias_nA=biases.get(c.id, c.bias_nA)), dens.get(c.id, {}))
                  for c in circuit.cells)
    conns = tuple(replace(k, weight_uS=k.weight_uS * gains.get(k.post, 1.0)) for k in circuit.connections)
    gain_in = {cid: g * (gains.get(cid, 1.0) if cid in inputs else 1.0) for cid, g in rec.input_gain.items()}
    hidden = [j for j, c in enumerate(circuit.cells) if c.id not in inputs]
    stats = {"rms_rate_error_Hz": float(np.sqrt(np.mean((R[:, hidden] - T[:, hidden]) ** 2))),
             "cells_fitted": len(gains),
             "gain_min": float(min(gains.values(), default=1.0)),
             "gain_max": float(max(gains.values(), default=1.0))}
    new = Recalibration(replace(circuit, cells=cells, connections=conns), gain_in, rec.area_um2, rec.report)
    return new, stats


def _movement(point: Circuit, rec: Recalibration) -> dict:
    """How far conductances and biases moved: from the point circuit, and beyond area scaling."""
    ratio = {cid: a / point.soma_area_um2 for cid, a in rec.area_um2.items()}
    old = {(k.pre, k.post): k.weight_uS for k in point.connections if k.weight_uS > 0}
    new = {(k.pre, k.post): k.weight_uS for k in rec.circuit.connections}
    to_point = np.array([new[key] / w for key, w in old.items()])
    beyond = np.array([new[key] / (w * ratio[key[1]]) for key, w in old.items()])
    bias_old = {c.id: c.bias_nA * ratio[c.id] for c in point.cells}
    bias_shift = [abs(c.bias_nA - bias_old[c.id]) / (nA_per_uA_cm2(rec.area_um2[c.id]))
                  for c in rec.circuit.cells]
    f = (lambda a: {"min": float(a.min()), "median": float(np.median(a)), "max": float(a.max())}) \
        if len(old) else (lambda a: {})
    return {"weight_ratio_to_point": f(to_point),
            "weight_ratio_beyond_area_scaling": f(beyond),
            "max_abs_log2_beyond_area_scaling": float(np.abs(np.log2(beyond)).max()) if len(old) else 0.0,
            "max_bias_shift_uA_cm2": float(max(bias_shift, default=0.0)),
            "max_tonic_density_shift_mS_cm2": float(max(
                (abs(rec_d - pt_d) for c in rec.circuit.cells
                 for rec_d, pt_d in zip(cell_densities(c).values(),
                                        cell_densities(point.cell(c.id)).values())), default=0.0)),
            "area_ratio": {"min": float(min(ratio.values())), "max": float(max(ratio.values()))}}


def recalibrate(circuit: Circuit, morphology, X_cal: np.ndarray,
                cfg: RecalibrationConfig = RecalibrationConfig(), *, sim_config=None) -> Recalibration:
    """Fit a point-cell circuit's conductances and currents to its grown cells.

    Parameters
    ----------
    circuit : Circuit
        The compiled (point-cell) circuit; its rates on ``X_cal`` are the target.
    morphology : pretty_printer.sim.morphology.Morphology
        The grown cells (see :func:`pretty_printer.sim.morphology.morphology_from_phantom`).
    X_cal : ndarray
        Training inputs; the first ``cfg.n_samples`` are used.
    cfg : RecalibrationConfig
    sim_config : MorphSimConfig, optional

    Returns
    -------
    Recalibration
        With ``report``: per-round rate mismatch and how far conductances moved.
    """
    from pretty_printer.sim.neuron_backend import simulate

    rec = area_scaled(circuit, morphology)
    X = np.asarray(X_cal)[:cfg.n_samples]
    rounds = []
    if cfg.rounds:
        target = simulate(circuit, X).rates_Hz
        for _ in range(cfg.rounds):
            rec, stats = fit_round(rec, morphology, target, X, cfg, sim_config=sim_config)
            rounds.append(stats)
    report = {"config": asdict(cfg), "rounds": rounds, "n_calibration_samples": int(len(X)),
              "movement": _movement(circuit, rec)}
    return replace(rec, report=report)


def morphology_fidelity(circuit: Circuit, phantom, task_data, path=None, *,
                        cfg: RecalibrationConfig = RecalibrationConfig(),
                        max_test: int | None = 48, point_output_rates=None) -> dict:
    """Grow-aware check for ``generate``: recalibrate on training data, test on held-out data.

    Writes the recalibrated circuit to ``path`` (e.g. ``truth/circuit_morphology.json``) when
    given and returns the figures for ``truth/fidelity.json``: ``morphology_accuracy`` on the
    first ``max_test`` test samples (all when None), ``morphology_n_test``, and
    ``morphology_subset_circuit_accuracy`` (the point circuit on the same samples).
    ``point_output_rates``: the point circuit's output rates on all held-out samples, if already
    simulated (``truth/reference_activity.npz``); samples are independent copies of the circuit,
    so its first rows are exactly a run of the first samples, and nothing is simulated again.
    """
    from pretty_printer.sim.morphology import morphology_from_phantom
    from pretty_printer.sim.neuron_backend import evaluate_morphological, simulate
    from pretty_printer.task.tasks import accuracy

    morph = morphology_from_phantom(phantom)
    rec = recalibrate(circuit, morph, task_data.X_train, cfg)
    if path is not None:
        rec.save(path)
    ev = evaluate_morphological(rec.circuit, morph, task_data, input_gain=rec.input_gain,
                                max_samples=max_test)
    n = len(ev.predictions)
    if point_output_rates is None:
        point = simulate(circuit, task_data.X_test[:n]).rates_of(circuit.output_cells)
    else:
        point = np.asarray(point_output_rates)[:n]
    return {"morphology_accuracy": float(ev.accuracy), "morphology_n_test": int(n),
            "morphology_subset_circuit_accuracy": float(accuracy(task_data.y_test[:n], point))}
