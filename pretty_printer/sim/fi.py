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
from pathlib import Path
from typing import Callable

import numpy as np

from pretty_printer.circuit.cellmodels import (_FI_PROTOCOL_VERSION, CellModel, FICurve, FIProtocol,
                                               FISurface, cache_dir, cache_lock, get_cell_model)
from pretty_printer.sim.mechanism_files import mechanism_hash


def _fi_key(model: CellModel, protocol: FIProtocol, currents: np.ndarray, **extra) -> str:
    payload = json.dumps(
        {"model": asdict(model), "protocol": asdict(protocol), "v": _FI_PROTOCOL_VERSION,
         "currents": currents.round(9).tolist(), "mech": mechanism_hash(),
         **{k: np.asarray(v).round(9).tolist() for k, v in extra.items()}},
        sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _cached_arrays(path: Path, measure: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays stored at ``path`` (an ``.npz``), or ``measure()``'s, stored there first.

    A miss is measured under an exclusive lock on ``path.lock``, and the file is checked again once
    the lock is held: concurrent processes (test workers, sweep points) measure a curve once and
    the others read it.  The file is written to a temporary name and renamed (never half-written).
    """
    if not path.exists():
        with cache_lock(path.with_name(path.name + ".lock")):
            if not path.exists():
                arrays = measure()
                tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
                np.savez(tmp, **arrays)
                os.replace(tmp, path)
                return arrays
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def fi_currents(model: CellModel) -> np.ndarray:
    """The current grid (uA/cm2) on which a model's f-I curve is measured."""
    return np.linspace(0.0, model.fi_max_uA_cm2, model.fi_n_points)


@lru_cache(maxsize=None)
def _fi_curve_cached(name: str, protocol: FIProtocol) -> FICurve:
    model = get_cell_model(name)
    currents = fi_currents(model)
    path = cache_dir() / "fi" / f"{name}-{_fi_key(model, protocol, currents)}.npz"

    def measure() -> dict[str, np.ndarray]:
        from pretty_printer.sim.neuron_backend import measure_fi  # NEURON only on a cache miss

        rates, v_mean = measure_fi(model, currents, protocol, with_v_mean=True)
        return {"current_uA_cm2": currents, "rate_Hz": rates, "v_mean_mV": v_mean}

    z = _cached_arrays(path, measure)
    return FICurve(name, z["current_uA_cm2"], z["rate_Hz"], protocol.temperature_C, z["v_mean_mV"])


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


#: The f-I surface's conductance grid, in units of the model's leak conductance: up to
#: ``SURFACE_MAX_LEAKS`` leaks (total synaptic plus tonic load; training penalises large loads),
#: ``SURFACE_N_CONDUCTANCES`` rows uniform in ``log1p(G / (SURFACE_SCALE_LEAKS * g_leak))``.
SURFACE_MAX_LEAKS = 5.0
SURFACE_SCALE_LEAKS = 0.5
SURFACE_N_CONDUCTANCES = 21


def surface_conductances(model: CellModel) -> tuple[np.ndarray, float]:
    """The conductance grid (mS/cm2) of a model's f-I surface, and its warping scale."""
    g0 = SURFACE_SCALE_LEAKS * model.g_leak_mS_cm2
    top = SURFACE_MAX_LEAKS * model.g_leak_mS_cm2
    s = np.linspace(0.0, 1.0, SURFACE_N_CONDUCTANCES)
    return g0 * np.expm1(s * np.log1p(top / g0)), g0


@lru_cache(maxsize=None)
def _fi_surface_cached(name: str, protocol: FIProtocol) -> FISurface:
    model = get_cell_model(name)
    fi = _fi_curve_cached(name, protocol)
    v_ref = float(fi.v_mean(fi.threshold_uA_cm2))
    currents = fi_currents(model)
    conductances, g0 = surface_conductances(model)
    key = _fi_key(model, protocol, currents, g=conductances, v_ref=v_ref)
    path = cache_dir() / "fi" / f"{name}-surface-{key}.npz"

    def measure() -> dict[str, np.ndarray]:
        from pretty_printer.sim.membrane import measure_fi_surface  # NEURON only on a cache miss

        return {"rate_Hz": measure_fi_surface(model, currents, conductances, v_ref, protocol)}

    rates = _cached_arrays(path, measure)["rate_Hz"]
    return FISurface(name, currents, conductances, rates, v_ref, g0, protocol.temperature_C)


def fi_surface(name: str, protocol: FIProtocol | None = None) -> FISurface:
    """The measured (and cached) f-I surface of a registered cell model.

    Rates for an injected current and an added conductance reversing at ``v_ref`` (the model's
    mean potential at rheobase, from :func:`fi_curve`); see
    :class:`~pretty_printer.circuit.cellmodels.FISurface`.  A cache miss measures
    ``SURFACE_N_CONDUCTANCES`` f-I curves in NEURON (about a minute on one core).
    """
    get_cell_model(name)
    return _fi_surface_cached(name, protocol or FIProtocol())


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

    def measure() -> dict[str, np.ndarray]:
        from pretty_printer.sim.neuron_backend import measure_fi  # NEURON only on a cache miss

        return {"current_uA_cm2": currents, "rate_Hz": measure_fi(model, currents, protocol)}

    rates = _cached_arrays(path, measure)["rate_Hz"]
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
