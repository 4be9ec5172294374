"""Hodgkin-Huxley-formalism cell models and their measured f-I curves.

A :class:`CellModel` is a plain description (channel densities, reversal potentials, which NEURON
mechanism implements it).  Its f-I curve -- the steady firing rate for a constant injected current
-- is *measured* by simulating the model in NEURON (:mod:`pretty_printer.sim.fi`); this module
only describes models and curves and never imports the simulator.
The ANN uses that measured curve as its activation, so a unit and the cell it becomes agree in the
rate limit.

Currents here are densities (uA/cm2); :meth:`FICurve.rate_from_nA` converts for a point cell of a
given membrane area.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from pretty_printer.errors import ConfigError
from pretty_printer.registry import Registry

#: Where measured f-I curves and compiled mechanisms live (override with this variable).
CACHE_ENV = "NEURAL_PRETTY_PRINTER_CACHE"

# Bump when the measuring protocol changes so stale caches are never reused.
_FI_PROTOCOL_VERSION = 2


def cache_dir() -> Path:
    """The per-user cache directory (``$NEURAL_PRETTY_PRINTER_CACHE`` or ``~/.cache/...``)."""
    env = os.environ.get(CACHE_ENV)
    base = Path(env) if env else Path.home() / ".cache" / "neural-pretty-printer"
    existing = next((q for q in (base, *base.parents) if q.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(f"${CACHE_ENV} cache {str(base)!r}: expected a directory, got {str(existing)!r}, a file")
    return base


@contextlib.contextmanager
def cache_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created, with its parent) while building a cache entry.

    Concurrent processes (test workers, sweep points) building the same entry wait here; the
    holder builds it once and the others, re-checking after the lock, read it.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@dataclass(frozen=True)
class CellModel:
    """A single-compartment Hodgkin-Huxley-formalism cell model.

    Parameters
    ----------
    name : str
        Registered name.
    mechanism : str
        NEURON density mechanism providing the Na and K currents (``"hh"`` is NEURON's built-in
        squid-axon model, which includes its own leak; ``"wb"`` is shipped in ``mechanisms/``).
    g_na_mS_cm2, g_k_mS_cm2, g_leak_mS_cm2 : float
        Maximal conductance densities.
    e_na_mV, e_k_mV, e_leak_mV : float
        Reversal potentials.
    excitability : str
        ``"type I"`` (continuous f-I) or ``"type II"`` (a jump to a nonzero rate at threshold).
    fi_max_uA_cm2 : float
        Upper end of the current range over which the f-I curve is measured.
    """

    name: str
    description: str
    mechanism: str
    g_na_mS_cm2: float
    g_k_mS_cm2: float
    g_leak_mS_cm2: float
    e_na_mV: float
    e_k_mV: float
    e_leak_mV: float
    excitability: str
    fi_max_uA_cm2: float
    cm_uF_cm2: float = 1.0
    fi_n_points: int = 161

    def __post_init__(self) -> None:
        if self.excitability not in ("type I", "type II"):
            raise ConfigError(
                f"excitability: expected 'type I' or 'type II', got {self.excitability!r}")
        for key in ("g_na_mS_cm2", "g_k_mS_cm2", "g_leak_mS_cm2", "fi_max_uA_cm2", "cm_uF_cm2"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"{key}: expected > 0, got {getattr(self, key)!r}")

    def summary(self) -> str:
        """One line for ``--list``."""
        return (f"{self.name}: {self.description} ({self.excitability}; gNa={self.g_na_mS_cm2:g}, "
                f"gK={self.g_k_mS_cm2:g}, gL={self.g_leak_mS_cm2:g} mS/cm2)")


CELL_MODELS: Registry[CellModel] = Registry("cell model")

#: The cell model the compiler uses when none is named: continuous f-I, so conversion is smooth.
DEFAULT_CELL = "wang_buzsaki"


def _register(model: CellModel) -> CellModel:
    return CELL_MODELS.register(model.name)(model)


# Hodgkin & Huxley (1952), J Physiol 117:500, in the modern sign convention (rest near -65 mV),
# as implemented by NEURON's built-in `hh` mechanism (Q10 = 3 from 6.3 C).
HH = _register(CellModel(
    name="hh", description="classic squid giant axon (Hodgkin & Huxley 1952)", mechanism="hh",
    g_na_mS_cm2=120.0, g_k_mS_cm2=36.0, g_leak_mS_cm2=0.3,
    e_na_mV=50.0, e_k_mV=-77.0, e_leak_mV=-54.3, excitability="type II", fi_max_uA_cm2=60.0,
))

# Wang & Buzsaki (1996), J Neurosci 16:6402: a fast-spiking interneuron model, type I.
WANG_BUZSAKI = _register(CellModel(
    name="wang_buzsaki", description="fast-spiking interneuron (Wang & Buzsaki 1996)",
    mechanism="wb", g_na_mS_cm2=35.0, g_k_mS_cm2=9.0, g_leak_mS_cm2=0.1,
    e_na_mV=55.0, e_k_mV=-90.0, e_leak_mV=-65.0, excitability="type I", fi_max_uA_cm2=8.0,
))


def get_cell_model(name: str) -> CellModel:
    """Look a cell model up by name; an unknown name lists the valid ones."""
    return CELL_MODELS.get(name)


@dataclass(frozen=True)
class FIProtocol:
    """How an f-I curve is measured: a current step from rest, rate over a late window."""

    settle_ms: float = 50.0  # at rest before the step
    step_ms: float = 1000.0
    window_ms: float = 600.0  # rate = spikes in the last window_ms of the step / window
    dt_ms: float = 0.025
    temperature_C: float = 6.3


@dataclass(frozen=True)
class FICurve:
    """A measured f-I curve: steady firing rate (Hz) for constant current density (uA/cm2)."""

    model: str
    current_uA_cm2: np.ndarray = field(repr=False)
    rate_Hz: np.ndarray = field(repr=False)
    temperature_C: float = 6.3
    v_mean_mV: np.ndarray | None = field(repr=False, default=None)  # time-averaged V per current

    def v_mean(self, current_uA_cm2) -> np.ndarray:
        """Time-averaged membrane potential (mV) for a constant current (held beyond the grid)."""
        if self.v_mean_mV is None:
            raise ValueError("v_mean_mV: this f-I curve was measured without it")
        return np.interp(current_uA_cm2, self.current_uA_cm2, self.v_mean_mV)

    def rate(self, current_uA_cm2) -> np.ndarray:
        """Interpolated rate; zero below the measured range, held at the top above it."""
        return np.interp(current_uA_cm2, self.current_uA_cm2, self.rate_Hz, left=0.0)

    def rate_from_nA(self, current_nA, area_um2: float) -> np.ndarray:
        """Rate of a point cell of membrane area ``area_um2`` for a current in nA."""
        return self.rate(np.asarray(current_nA) / nA_per_uA_cm2(area_um2))

    @property
    def threshold_uA_cm2(self) -> float:
        """Smallest measured current with a nonzero rate (rheobase for repetitive firing)."""
        firing = np.flatnonzero(self.rate_Hz > 0)
        return float(self.current_uA_cm2[firing[0]]) if firing.size else float("inf")


@dataclass(frozen=True)
class FISurface:
    """Measured steady rate (Hz) for a current J and an added conductance G reversing at ``v_ref``.

    Any conductance ``g`` reversing at ``E`` is a current ``g (E - v_ref)`` plus a conductance
    ``g`` reversing at ``v_ref``: ``g (E - V) = g (E - v_ref) - g (V - v_ref)``.  So a cell under
    tonic channels and (mean) synaptic conductances fires at ``rate(J, G)``, with ``J`` the sum
    of their currents at ``v_ref`` and ``G`` the sum of their conductances -- exact for constant
    conductances, with no mean-potential approximation.  ``rate_Hz[g, j]`` is measured at
    ``conductance_mS_cm2[g]`` and ``current_uA_cm2[j]``; the conductance grid is uniform in
    ``log1p(G / conductance_scale_mS_cm2)`` (fine near 0, where most cells are), and
    :meth:`rate` interpolates bilinearly in that coordinate and the current.
    """

    model: str
    current_uA_cm2: np.ndarray = field(repr=False)  # (n_J,) uniform
    conductance_mS_cm2: np.ndarray = field(repr=False)  # (n_G,)
    rate_Hz: np.ndarray = field(repr=False)  # (n_G, n_J)
    v_ref_mV: float
    conductance_scale_mS_cm2: float
    temperature_C: float = 6.3

    def conductance_index(self, conductance_mS_cm2) -> np.ndarray:
        """Fractional row index of a conductance (the grid's warped coordinate)."""
        g0, top = self.conductance_scale_mS_cm2, float(self.conductance_mS_cm2[-1])
        n = len(self.conductance_mS_cm2)
        return np.log1p(np.maximum(conductance_mS_cm2, 0.0) / g0) / np.log1p(top / g0) * (n - 1)

    def rate(self, current_uA_cm2, conductance_mS_cm2) -> np.ndarray:
        """Bilinear rate (Hz); zero below the current grid, held at the other edges."""
        j_grid = self.current_uA_cm2
        step = float(j_grid[1] - j_grid[0])
        cur = np.asarray(current_uA_cm2, float)
        pj = np.clip((cur - j_grid[0]) / step, 0, len(j_grid) - 1 - 1e-9)
        pg = np.clip(self.conductance_index(conductance_mS_cm2), 0, len(self.conductance_mS_cm2) - 1 - 1e-9)
        pj, pg = np.broadcast_arrays(pj, pg)
        j, g = np.floor(pj).astype(int), np.floor(pg).astype(int)
        fj, fg = pj - j, pg - g
        r = self.rate_Hz
        j1, g1 = np.minimum(j + 1, r.shape[1] - 1), np.minimum(g + 1, r.shape[0] - 1)
        out = ((r[g, j] * (1 - fj) + r[g, j1] * fj) * (1 - fg)
               + (r[g1, j] * (1 - fj) + r[g1, j1] * fj) * fg)
        return np.where(cur < j_grid[0], 0.0, out)

    def current_for_rate(self, rate_Hz, conductance_mS_cm2) -> np.ndarray:
        """Current (uA/cm2) at which the cell under load ``G`` fires at ``rate_Hz`` (per sample).

        Inverts the surface row at each ``G`` (bilinear between rows) over its firing part;
        rates beyond that row's range give its end currents.
        """
        rate, g = np.broadcast_arrays(np.asarray(rate_Hz, float),
                                      np.asarray(conductance_mS_cm2, float))
        pg = np.clip(self.conductance_index(g), 0, len(self.conductance_mS_cm2) - 1 - 1e-9)
        out = np.empty(rate.shape)
        for n, (r, p) in enumerate(zip(rate.ravel(), pg.ravel())):
            lo = int(p)
            hi = min(lo + 1, self.rate_Hz.shape[0] - 1)
            row = self.rate_Hz[lo] * (1 - (p - lo)) + self.rate_Hz[hi] * (p - lo)
            firing = np.flatnonzero(row > 0)
            start = max(firing[0] - 1, 0) if firing.size else len(row) - 1
            out.flat[n] = np.interp(r, np.maximum.accumulate(row[start:]), self.current_uA_cm2[start:])
        return out


def nA_per_uA_cm2(area_um2: float) -> float:
    """Current (nA) that a density of 1 uA/cm2 makes over ``area_um2`` (1 um2 = 1e-8 cm2)."""
    return area_um2 * 1e-8 * 1e3


@dataclass(frozen=True)
class ReceptorKinetics:
    """A receptor as a difference of exponentials with a reversal potential.

    The conductance after one presynaptic spike is ``g_peak * k(t)`` with ``k`` normalised to a
    peak of 1 (NEURON's ``Exp2Syn`` convention); :attr:`kernel_integral_ms` is the area under
    ``k``, which turns a presynaptic rate into a mean conductance: ``g_mean = g_peak * rate * area``.
    """

    tau_rise_ms: float
    tau_decay_ms: float
    e_rev_mV: float

    @property
    def kernel_integral_ms(self) -> float:
        tr, td = self.tau_rise_ms, self.tau_decay_ms
        t_peak = tr * td / (td - tr) * np.log(td / tr)
        peak = np.exp(-t_peak / td) - np.exp(-t_peak / tr)
        return float((td - tr) / peak)


#: Kinetics per receptor type.  NMDA is modelled without its Mg block (a slow AMPA-like
#: conductance); the compiler uses AMPA and GABA_A only.
RECEPTOR_KINETICS: dict[str, ReceptorKinetics] = {
    "AMPA": ReceptorKinetics(tau_rise_ms=0.5, tau_decay_ms=5.0, e_rev_mV=0.0),
    "NMDA": ReceptorKinetics(tau_rise_ms=2.0, tau_decay_ms=80.0, e_rev_mV=0.0),
    "GABA_A": ReceptorKinetics(tau_rise_ms=1.0, tau_decay_ms=10.0, e_rev_mV=-80.0),
}
