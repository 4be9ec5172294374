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


#: How many currents the refined threshold measurement places between the last silent and the
#: first firing point of the f-I grid (one NEURON run; resolution = grid step / (n - 1)).
THRESHOLD_REFINE_POINTS = 41


@lru_cache(maxsize=None)
def _fi_threshold_cached(name: str, protocol: FIProtocol) -> tuple[float, float]:
    curve = _fi_curve_cached(name, protocol)
    firing = np.flatnonzero(curve.rate_Hz > 0)
    if not firing.size or firing[0] == 0:  # no silent grid point below: the grid bounds it
        return curve.threshold_uA_cm2, 0.0
    lo, hi = float(curve.current_uA_cm2[firing[0] - 1]), float(curve.current_uA_cm2[firing[0]])
    currents = np.linspace(lo, hi, THRESHOLD_REFINE_POINTS)
    model = get_cell_model(name)
    key = _fi_key(model, protocol, currents)
    path = cache_dir() / "fi" / f"{name}-threshold-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            rates = z["rate_Hz"]
    else:
        from pretty_printer.sim.neuron_backend import measure_fi  # NEURON only on a cache miss

        rates = measure_fi(model, currents, protocol)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, current_uA_cm2=currents, rate_Hz=rates)
        os.replace(tmp, path)
    first = int(np.flatnonzero(rates > 0)[0])  # hi fired on the grid, so some point fires
    return float(currents[first]), float(currents[1] - currents[0])


def fi_threshold(name: str, protocol: FIProtocol | None = None) -> tuple[float, float]:
    """The repetitive-firing threshold (rheobase) of a model, measured finer than its f-I grid.

    :attr:`FICurve.threshold_uA_cm2` is the first *grid* current that fires, so it is only known
    to one grid step (0.375 uA/cm2 for ``hh``).  Here the step between the last silent and the
    first firing grid current is re-measured in NEURON at :data:`THRESHOLD_REFINE_POINTS`
    currents with the same protocol (cached on disk like the curve).

    Returns
    -------
    threshold_uA_cm2 : float
        The smallest refined current that fires repetitively.
    resolution_uA_cm2 : float
        The refined step: the true threshold lies in ``(threshold - resolution, threshold]``.
    """
    get_cell_model(name)
    return _fi_threshold_cached(name, protocol or FIProtocol())
