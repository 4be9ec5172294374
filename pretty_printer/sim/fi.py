"""Measured f-I curves of the registered cell models, cached on disk.

A curve is measured by simulating the model in NEURON (:func:`pretty_printer.sim.neuron_backend.measure_fi`)
and cached under a key of everything that could change it (model parameters, protocol, current
grid, the shipped .mod files).  A cached lookup does not import NEURON.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from functools import lru_cache

import numpy as np

from pretty_printer.circuit.cellmodels import (_FI_PROTOCOL_VERSION, CellModel, FICurve, FIProtocol,
                                               cache_dir, get_cell_model)
from pretty_printer.sim.mechanism_files import mechanism_hash


def _fi_key(model: CellModel, protocol: FIProtocol, currents: np.ndarray) -> str:
    payload = json.dumps(
        {"model": asdict(model), "protocol": asdict(protocol), "v": _FI_PROTOCOL_VERSION,
         "currents": currents.round(9).tolist(), "mech": mechanism_hash()},
        sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def fi_currents(model: CellModel) -> np.ndarray:
    """The current grid (uA/cm2) on which a model's f-I curve is measured."""
    return np.linspace(0.0, model.fi_max_uA_cm2, model.fi_n_points)


@lru_cache(maxsize=None)
def _fi_curve_cached(name: str, protocol: FIProtocol) -> FICurve:
    model = get_cell_model(name)
    currents = fi_currents(model)
    path = cache_dir() / "fi" / f"{name}-{_fi_key(model, protocol, currents)}.npz"
    if path.exists():
        with np.load(path) as z:
            return FICurve(name, z["current_uA_cm2"], z["rate_Hz"], protocol.temperature_C,
                           z["v_mean_mV"])
    from pretty_printer.sim.neuron_backend import measure_fi  # NEURON only on a cache miss

    rates, v_mean = measure_fi(model, currents, protocol, with_v_mean=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, current_uA_cm2=currents, rate_Hz=rates, v_mean_mV=v_mean)
    os.replace(tmp, path)  # atomic: concurrent writers of identical content never clash
    return FICurve(name, currents, rates, protocol.temperature_C, v_mean)


def fi_curve(name: str, protocol: FIProtocol | None = None) -> FICurve:
    """The measured (and cached) f-I curve of a registered cell model.

    Parameters
    ----------
    name : str
        Registered cell-model name.
    protocol : FIProtocol, optional
        Measuring protocol; defaults to :class:`FIProtocol()` at 6.3 C.

    Returns
    -------
    FICurve
    """
    get_cell_model(name)  # unknown name -> clear error before any simulation
    return _fi_curve_cached(name, protocol or FIProtocol())
