"""Excitability as membrane channels: a cell's operating point from tonic conductance densities.

The trained ANN gives every unit a constant input current at the reference potential
``ann.v_ref_mV`` (its "bias").  The compiled cell carries it as a tonic conductance instead:
a depolarizing cation leak (reversal 0 mV) for a positive current, a tonic extrasynaptic GABA_A
conductance (reversal -80 mV) for a negative one (species in :mod:`phantoms.channels`)::

    g = I_ref / (E_rev - v_ref)        (uA/cm^2 / mV = mS/cm^2)

so the tonic current ``g (E_rev - V)`` equals the bias at ``v_ref`` and follows the cell's mean
potential elsewhere, which the ANN models exactly as it does synaptic driving forces (see
:mod:`pretty_printer.task.training`).  An injected ``bias_nA`` remains only as the explicit
``excitability="current"`` test option of the compiler (and for submissions that fit one).

Default densities -- what a pipeline that knows nothing about excitability gets -- are zero:
every cell has the cell model's own membrane.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from phantoms.channels import CHANNEL_COLUMNS, CHANNEL_SPECIES, densities_from_drive

__all__ = ["CHANNEL_COLUMNS", "CHANNEL_SPECIES", "EXCITABILITY_MODES", "DEFAULT_DENSITIES",
           "densities_for_current", "tonic_current", "cell_densities", "with_densities"]

#: How the compiler sets operating points: tonic channels (default) or an injected current.
EXCITABILITY_MODES = ("channels", "current")
#: Densities (mS/cm^2) of a cell about which nothing is known: the cell model's own membrane.
DEFAULT_DENSITIES: dict[str, float] = {c: 0.0 for c in CHANNEL_COLUMNS}


def densities_for_current(current_uA_cm2: float, v_mV: float) -> dict[str, float]:
    """Tonic densities (mS/cm^2) whose current at ``v_mV`` is ``current_uA_cm2``."""
    return densities_from_drive(float(current_uA_cm2), float(v_mV))


def tonic_current(densities: dict, v_mV) -> np.ndarray:
    """Tonic current density (uA/cm^2, depolarizing positive) at potential(s) ``v_mV``."""
    v = np.asarray(v_mV, float)
    return sum(float(densities.get(s.column, 0.0)) * (s.e_rev_mV - v)
               for s in CHANNEL_SPECIES.values())


def cell_densities(cell) -> dict[str, float]:
    """A :class:`~pretty_printer.circuit.description.Cell`'s tonic densities by column name."""
    return {c: float(getattr(cell, c)) for c in CHANNEL_COLUMNS}


def with_densities(cell, densities: dict):
    """The cell with its tonic densities replaced (missing columns: unchanged)."""
    return replace(cell, **{c: float(densities[c]) for c in CHANNEL_COLUMNS if c in densities})
