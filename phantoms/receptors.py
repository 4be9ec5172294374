"""How a connection's conductance becomes synapses, PSD areas and receptor counts.

Receptor unit conductance
-------------------------
Each receptor contributes its single-channel conductance times its peak open probability:
AMPA 10 pS x 0.6 = 6 pS, NMDA 50 pS x 0.3 = 15 pS, GABA_A 20 pS x 0.6 = 12 pS (nominal
values from single-channel recordings, rounded).  A connection of conductance ``G`` gets
``N = max(n_synapses, round(G / unit))`` receptors of its type; its *effective* unit is ``G / N``
(within half a receptor of the nominal one), stored per synapse as ``receptor_unit_pS``, so
``sum(n_i) * G / N == G``: receptor counts convert back to the circuit's conductance exactly.

PSD area and ``receptor_size_correlation``
------------------------------------------
In log space, a synapse's PSD area is ``rho * (standardized log conductance) + sqrt(1 - rho^2)
* noise``, rescaled so that with ``rho = 1`` the area is exactly proportional to the receptor
count (morphology predicts receptors) and with ``rho = 0`` it carries no information about them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import GrowthConfig
from .spec import CircuitSpec, EdgeSpec

RECEPTOR_UNIT_pS = {"AMPA": 6.0, "NMDA": 15.0, "GABA_A": 12.0}


@dataclass(frozen=True)
class PlannedSynapse:
    edge_index: int
    k: int  # index of the synapse within its connection
    share: float  # planned fraction of the connection's conductance
    psd_area_nm2: float


def synapse_count(edge: EdgeSpec, cfg: GrowthConfig) -> int:
    """More synapses for stronger connections: ``round(G / synapse_unit_nS)``, clipped."""
    n = int(round(edge.conductance_nS / cfg.synapse_unit_nS))
    return int(np.clip(n, 1, cfg.max_synapses_per_connection))


def plan_synapses(spec: CircuitSpec, cfg: GrowthConfig, rng=None) -> list[PlannedSynapse]:
    """Synapse count, conductance shares and PSD area of every connection, before geometry.

    Parameters
    ----------
    spec : CircuitSpec
    cfg : GrowthConfig
    rng : np.random.Generator | int | None
    """
    rng = np.random.default_rng(rng)
    plans: list[tuple[int, int, float]] = []
    for e_i, edge in enumerate(spec.edges):
        n = synapse_count(edge, cfg)
        w = rng.lognormal(0.0, 0.4, size=n)
        w = w / w.sum()
        plans.extend((e_i, k, float(w[k])) for k in range(n))
    if not plans:
        return []
    g = np.array([spec.edges[e].conductance_nS * s for e, _, s in plans])
    x = np.log(g)
    mean = float(x.mean())
    sd = float(x.std()) if len(x) > 1 and x.std() > 1e-9 else 0.5
    rho = cfg.receptor_size_correlation
    y = rho * (x - mean) / sd + np.sqrt(1.0 - rho * rho) * rng.normal(size=len(x))
    area = cfg.psd_area_per_nS_nm2 * np.exp(mean + sd * y)
    area = np.clip(area, cfg.psd_area_min_nm2, cfg.psd_area_max_nm2)
    return [PlannedSynapse(e, k, s, float(a)) for (e, k, s), a in zip(plans, area)]


def receptor_counts(edge: EdgeSpec, shares: np.ndarray) -> tuple[np.ndarray, float]:
    """Integer receptor counts per synapse and the connection's effective unit conductance (pS).

    Counts follow the shares by largest remainder, every synapse gets at least one receptor,
    and ``counts.sum() * unit_pS / 1000 == edge.conductance_nS``.
    """
    shares = np.asarray(shares, float)
    shares = shares / shares.sum()
    nominal = RECEPTOR_UNIT_pS[edge.receptor]
    total = max(len(shares), int(round(edge.conductance_nS * 1000.0 / nominal)))
    ideal = shares * total
    counts = np.maximum(np.floor(ideal).astype(np.int64), 1)
    while counts.sum() > total:  # the floor of 1 can overshoot on tiny connections
        j = int(np.argmax(np.where(counts > 1, counts - ideal, -np.inf)))
        counts[j] -= 1
    order = np.argsort(-(ideal - counts), kind="stable")
    for j in order[: total - counts.sum()]:
        counts[j] += 1
    unit_pS = edge.conductance_nS * 1000.0 / total
    return counts, unit_pS
