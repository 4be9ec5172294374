"""NEURON mechanisms, single cells and f-I measurement: the membrane half of the NEURON backend.

Compiles and loads the shipped ``.mod`` files (:func:`ensure_mechanisms`), builds one cell's
membrane (the cell model's channels, tonic channels), runs NEURON with fixed steps and measures
f-I curves (:func:`measure_fi`).  Circuits are simulated by
:mod:`pretty_printer.sim.neuron_backend`, which builds on these pieces.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from pretty_printer.circuit.cellmodels import CellModel, FIProtocol, cache_dir, cache_lock
from pretty_printer.circuit.cellmodels import nA_per_uA_cm2
from pretty_printer.sim.mechanism_files import mechanism_hash, mod_files
from pretty_printer.errors import SimulationError
from pretty_printer.sim import parallel

os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
from neuron import h  # noqa: E402

h.load_file("stdrun.hoc")

SPIKE_THRESHOLD_MV = 0.0
V_INIT_MV = -65.0

_loaded_mechanisms: str | None = None


# --------------------------------------------------------------------------- mechanisms
def _nrnivmodl() -> str:
    exe = Path(sys.executable).with_name("nrnivmodl")
    found = str(exe) if exe.exists() else shutil.which("nrnivmodl")
    if not found:
        raise SimulationError("nrnivmodl: expected it next to the Python executable or on PATH")
    return found


def ensure_mechanisms() -> Path:
    """Compile the shipped mechanisms once per user (cached by hash) and load them.

    Compilation happens in a temporary directory that is renamed into place, under a file lock,
    so concurrent processes never see a half-built library.
    """
    global _loaded_mechanisms
    key = mechanism_hash()
    target = cache_dir() / "mechanisms" / key
    if _loaded_mechanisms == key:
        return target
    with cache_lock(target.parent / f"{key}.lock"):
        if not (target / ".complete").exists():
            tmp = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=target.parent))
            for name, data in mod_files():
                (tmp / name).write_bytes(data)
            proc = subprocess.run([_nrnivmodl(), "."], cwd=tmp, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SimulationError(f"nrnivmodl failed in {tmp}:\n{proc.stderr[-2000:]}")
            (tmp / ".complete").write_text(key)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
    import neuron

    if not neuron.load_mechanisms(str(target)):
        raise SimulationError(f"could not load mechanisms from {target}")
    _loaded_mechanisms = key
    return target


# --------------------------------------------------------------------------- cells
def _insert_channels(sec, model: CellModel, g_na_mS_cm2: float, g_k_mS_cm2: float,
                     g_leak_mS_cm2: float) -> None:
    """The cell model's membrane on every segment of ``sec`` at the given densities."""
    sec.cm = model.cm_uF_cm2
    sec.insert(model.mechanism)
    if model.mechanism != "hh":
        sec.insert("pas")  # the shipped mechanisms leave the leak to the built-in `pas`
    for seg in sec:
        mech = getattr(seg, model.mechanism)
        mech.gnabar = g_na_mS_cm2 * 1e-3
        mech.gkbar = g_k_mS_cm2 * 1e-3
        if model.mechanism == "hh":
            seg.hh.gl = g_leak_mS_cm2 * 1e-3
            seg.hh.el = model.e_leak_mV
        else:
            seg.pas.g = g_leak_mS_cm2 * 1e-3
            seg.pas.e = model.e_leak_mV
    sec.ena = model.e_na_mV
    sec.ek = model.e_k_mV


def _insert_tonic(secs, densities: dict) -> None:
    """Tonic channels (``mechanisms/tonic.mod``) at ``densities`` (mS/cm2) on every section.

    Nothing is inserted when every density is zero (the cell model's own membrane).
    """
    from pretty_printer.circuit.excitability import CHANNEL_SPECIES

    if not any(densities.get(s.column, 0.0) for s in CHANNEL_SPECIES.values()):
        return
    ensure_mechanisms()
    cat, gaba = CHANNEL_SPECIES["cation_leak"], CHANNEL_SPECIES["tonic_gabaa"]
    for sec in secs:
        sec.insert("tonic")
        for seg in sec:
            seg.tonic.g_cat = float(densities.get(cat.column, 0.0)) * 1e-3  # mS/cm2 -> S/cm2
            seg.tonic.e_cat = cat.e_rev_mV
            seg.tonic.g_gaba = float(densities.get(gaba.column, 0.0)) * 1e-3
            seg.tonic.e_gaba = gaba.e_rev_mV


def _insert_shunt(sec, g_mS_cm2: float, e_mV: float) -> None:
    """A constant conductance (mS/cm2) reversing at ``e_mV`` on ``sec`` (f-I surfaces)."""
    ensure_mechanisms()
    sec.insert("tonic")
    for seg in sec:
        seg.tonic.g_cat, seg.tonic.e_cat = float(g_mS_cm2) * 1e-3, float(e_mV)
        seg.tonic.g_gaba = 0.0


def _make_cell(model: CellModel, area_um2: float, name: str):
    if model.mechanism != "hh":
        ensure_mechanisms()
    sec = h.Section(name=name)
    diam = float(np.sqrt(area_um2 / np.pi))  # cylinder with L = diam has lateral area pi d^2
    sec.L = sec.diam = diam
    sec.nseg = 1
    _insert_channels(sec, model, model.g_na_mS_cm2, model.g_k_mS_cm2, model.g_leak_mS_cm2)
    return sec


def _run(tstop_ms: float, dt_ms: float, temperature_C: float) -> None:
    h.celsius = temperature_C
    h.dt = dt_ms
    h.steps_per_ms = 1.0 / dt_ms
    cvode = h.CVode()
    cvode.active(0)
    h.finitialize(V_INIT_MV)
    h.continuerun(tstop_ms)


# --------------------------------------------------------------------------- f-I curves
def measure_fi(model: CellModel, currents_uA_cm2: np.ndarray, protocol: FIProtocol,
               *, with_v_mean: bool = False, shunt_mS_cm2: float = 0.0, shunt_e_mV: float = 0.0):
    """Measure a model's steady firing rate (Hz) for each current density (uA/cm2).

    Each current drives its own cell, stepped on from rest after ``settle_ms``; the rate is the
    inverse mean inter-spike interval over the last ``window_ms`` of the step (0 when fewer than
    two spikes fall there).  With ``with_v_mean`` also return the time-averaged membrane
    potential (mV) over the same window, which sets the mean synaptic driving force.  A nonzero
    ``shunt_mS_cm2`` adds a constant conductance reversing at ``shunt_e_mV`` to every cell (the
    ``tonic`` mechanism's cation slot), present from the start.
    """
    area_um2 = 1000.0  # densities are area-independent for a single compartment
    secs, clamps, recs, ncs, vrecs = [], [], [], [], []
    v_dt_ms = 0.05
    for i, cur in enumerate(np.asarray(currents_uA_cm2, float)):
        sec = _make_cell(model, area_um2, f"fi_{i}")
        if shunt_mS_cm2:
            _insert_shunt(sec, shunt_mS_cm2, shunt_e_mV)
        ic = h.IClamp(sec(0.5))
        ic.delay, ic.dur = protocol.settle_ms, protocol.step_ms
        ic.amp = float(cur) * nA_per_uA_cm2(area_um2)
        rec = h.Vector()
        nc = h.NetCon(sec(0.5)._ref_v, None, sec=sec)
        nc.threshold = SPIKE_THRESHOLD_MV
        nc.record(rec)
        secs.append(sec), clamps.append(ic), recs.append(rec), ncs.append(nc)
        if with_v_mean:
            vrec = h.Vector()
            vrec.record(sec(0.5)._ref_v, v_dt_ms)
            vrecs.append(vrec)
    t_end = protocol.settle_ms + protocol.step_ms
    _run(t_end, protocol.dt_ms, protocol.temperature_C)
    rates = np.zeros(len(secs))
    for i, rec in enumerate(recs):
        t = np.asarray(rec)
        t = t[(t >= t_end - protocol.window_ms) & (t < t_end)]
        if t.size >= 2:
            rates[i] = 1000.0 * (t.size - 1) / (t[-1] - t[0])
    if not with_v_mean:
        return rates
    n_win = int(round(protocol.window_ms / v_dt_ms))
    v_mean = np.array([np.asarray(v)[-n_win - 1:-1].mean() for v in vrecs])
    return rates, v_mean


def measure_fi_surface(model: CellModel, currents_uA_cm2: np.ndarray,
                       conductances_mS_cm2: np.ndarray, e_mV: float,
                       protocol: FIProtocol) -> np.ndarray:
    """Steady rate (Hz), shape (n_conductances, n_currents), with an added conductance.

    Row ``g`` is :func:`measure_fi` of cells carrying an extra constant conductance
    ``conductances_mS_cm2[g]`` reversing at ``e_mV``: the f-I curve of the cell under a tonic or
    mean synaptic conductance load (one NEURON run per row).
    """
    rows = [(model, np.asarray(currents_uA_cm2, float), protocol, float(g), float(e_mV))
            for g in np.asarray(conductances_mS_cm2, float)]
    steps = (protocol.settle_ms + protocol.step_ms) / protocol.dt_ms
    # rows are independent runs: on worker processes inside parallel.simulation_workers
    return np.stack(parallel.map_items(_fi_row, rows, len(rows) * len(currents_uA_cm2) * steps,
                                       what="f-I rows"))


def _fi_row(model: CellModel, currents_uA_cm2: np.ndarray, protocol: FIProtocol, g_mS_cm2: float,
            e_mV: float) -> np.ndarray:
    """One row of :func:`measure_fi_surface` (a module function: worker processes import it)."""
    return measure_fi(model, currents_uA_cm2, protocol, shunt_mS_cm2=g_mS_cm2, shunt_e_mV=e_mV)
