"""Tonic membrane channels that set a cell's excitability, and how far morphology reveals them.

Species
-------
Two non-gated conductances set each cell's operating point (its "bias"), instead of an injected
current (see ``pretty_printer/circuit/excitability.py``):

* ``cation_leak`` -- a depolarizing non-selective cation leak (NALCN-like; Lu et al., Cell
  129:371, 2007), reversal 0 mV (a non-selective cation conductance);
* ``tonic_gabaa`` -- tonic extrasynaptic GABA_A receptors (delta-subunit; Farrant & Nusser,
  Nat Rev Neurosci 6:215, 2005), reversal -80 mV (as the synaptic GABA_A).

Densities are in mS/cm^2 of membrane (1 mS/cm^2 = 10 pS/um^2); each cell has one value per
species, uniform over its membrane (stored per compartment).

Size principle and ``excitability_morphology_correlation``
----------------------------------------------------------
Henneman's size principle: smaller neurons have a higher input resistance and are recruited
first (Henneman, Somjen & Carpenter, J Neurophysiol 28:560, 1965).  Here a cell's *tonic drive*
``D = sum_s g_s (E_s - V_rest)`` (uA/cm^2, at ``V_rest`` = -65 mV) sets its soma radius::

    r / soma_radius_nm = 1 + soma_radius_jitter * (rho * t + sqrt(1 - rho^2) * u)
    t = -clip((D - excitability_ref_uA_cm2) / (2 * excitability_scale_uA_cm2), -1, 1)
    u ~ U(-1, 1)

with ``rho = excitability_morphology_correlation``: with ``rho = 1`` the soma radius gives ``D``
exactly (more tonic depolarization, smaller soma; within +-2 scales of the centre); with
``rho = 0`` it says nothing (the radius is the plain ``soma_radius_jitter`` spread, exactly as
placed without the law).  The law's
constants are properties of the simulated biology (``GrowthConfig``); :func:`drive_from_radius`
is the inverse a pipeline that measures soma sizes can apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChannelSpecies:
    name: str
    column: str  # per-cell density field (mS/cm^2), as in cells.csv
    e_rev_mV: float
    antibody: str  # what an ExM stain for it targets


CHANNEL_SPECIES: dict[str, ChannelSpecies] = {
    "cation_leak": ChannelSpecies("cation_leak", "g_cation_leak_mS_cm2", 0.0, "NALCN"),
    "tonic_gabaa": ChannelSpecies("tonic_gabaa", "g_tonic_gabaa_mS_cm2", -80.0, "GABA_A delta (GABRD)"),
}
CHANNEL_COLUMNS = tuple(s.column for s in CHANNEL_SPECIES.values())
V_REST_MV = -65.0  # where the size law evaluates the tonic drive


def tonic_drive(densities: dict, v_mV: float = V_REST_MV) -> float:
    """``sum_s g_s (E_s - v)`` in uA/cm^2 for densities keyed by column name (mS/cm^2)."""
    return float(sum(float(densities.get(s.column, 0.0)) * (s.e_rev_mV - v_mV)
                     for s in CHANNEL_SPECIES.values()))


def soma_radius_factor(drive: float, cfg, u: float) -> float:
    """Soma radius / ``cfg.soma_radius_nm`` of a cell of tonic drive ``drive`` (uA/cm^2).

    ``u`` in [-1, 1] is the cell's morphology-independent draw (see the module docstring).
    """
    rho = cfg.excitability_morphology_correlation
    t = -float(np.clip((drive - cfg.excitability_ref_uA_cm2) / (2 * cfg.excitability_scale_uA_cm2), -1, 1))
    noise = u if rho == 0 else np.sqrt(1.0 - rho * rho) * u  # rho = 0: exactly the plain jitter
    return 1.0 + cfg.soma_radius_jitter * (rho * t + noise)


def drive_from_radius(radius_nm, cfg) -> np.ndarray:
    """The law's inverse: tonic drive (uA/cm^2) a soma radius implies when ``rho = 1``."""
    if cfg.soma_radius_jitter <= 0:  # every soma the same size: no information, the law's centre
        return np.full(np.shape(radius_nm), cfg.excitability_ref_uA_cm2)
    t = (np.asarray(radius_nm, float) / cfg.soma_radius_nm - 1.0) / cfg.soma_radius_jitter
    return cfg.excitability_ref_uA_cm2 - 2 * cfg.excitability_scale_uA_cm2 * np.clip(t, -1.0, 1.0)


def densities_from_drive(drive_uA_cm2: float, v_mV: float = V_REST_MV) -> dict[str, float]:
    """The one-species densities giving tonic drive ``drive`` at ``v``: cation if > 0, else GABA_A."""
    out = {s.column: 0.0 for s in CHANNEL_SPECIES.values()}
    sp = CHANNEL_SPECIES["cation_leak" if drive_uA_cm2 > 0 else "tonic_gabaa"]
    out[sp.column] = float(drive_uA_cm2 / (sp.e_rev_mV - v_mV))
    return out


_COMPARTMENTS = {1: "soma", 2: "axon", 3: "dendrite"}  # SWC types


def channels_doc(phantom) -> dict:
    """``truth/channels.json``: every cell's densities (mS/cm^2) per compartment kind.

    ``cells[id][compartment][column]`` is the mean over that compartment's skeleton nodes (all
    nodes of a cell carry the same value today); ``species`` lists reversal potentials and the
    antibody an ExM stain targets.
    """
    cells = {}
    for cid in phantom.cell_ids:
        dens = phantom.channel_densities(cid)
        types = np.asarray(phantom.skeleton(cid).types)
        cells[str(cid)] = {
            name: {k: float(np.mean(np.asarray(v)[types == t])) for k, v in sorted(dens.items())}
            for t, name in _COMPARTMENTS.items() if np.any(types == t)}
    species = {s.name: {"column": s.column, "e_rev_mV": s.e_rev_mV, "antibody": s.antibody}
               for s in CHANNEL_SPECIES.values()}
    return {"units": "mS/cm^2", "cells": cells, "species": species}
