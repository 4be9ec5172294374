"""Record spikes and somatic voltages while simulating a circuit on task inputs.

:func:`record_activity` runs exactly the simulation of
:func:`pretty_printer.sim.neuron_backend.simulate` (same cells, synapses, inputs and run loop)
and also records the somatic membrane potential of chosen cells in chosen copies, by wrapping
the backend's point-cell builder: recording does not change the dynamics, so the rates equal
those of ``simulate`` to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pretty_printer.circuit.description import Circuit
from pretty_printer.errors import SimulationError
from pretty_printer.sim import neuron_backend as nb


@dataclass(frozen=True)
class Recording:
    """Activity of a circuit on a batch of inputs.

    ``rates_Hz`` is (n_copies, n_steps, n_cells) and ``spike_times_ms[s][j]`` the spike times
    (ms from the start of copy ``s``) of ``cell_ids[j]``; ``v_mV[cid]`` is (n_v_copies, n_t),
    sampled every ``v_dt_ms`` from t = 0 in the first ``n_v_copies`` copies.
    """

    cell_ids: tuple[int, ...]
    rates_Hz: np.ndarray
    spike_times_ms: list[list[np.ndarray]]
    v_mV: dict[int, np.ndarray]
    v_dt_ms: float


class _RecordingBuilder:
    """The backend's point-cell builder, recording the soma of selected cells in early copies."""

    def __init__(self, circuit: Circuit, v_cells, n_v_copies: int, v_dt_ms: float, first_copy: int):
        self.inner = nb._PointCells(circuit)
        self.v_cells, self.n_v, self.dt, self.first = set(v_cells), n_v_copies, v_dt_ms, first_copy
        self.n_cells, self.n_built, self.vecs = len(circuit.cells), 0, {}

    def build(self, cell, name: str) -> list:
        copy = self.first + self.n_built // self.n_cells  # all cells of a copy, copy after copy
        self.n_built += 1
        secs = self.inner.build(cell, name)
        if cell.id in self.v_cells and copy < self.n_v:
            vec = nb.h.Vector()
            vec.record(secs[0](0.5)._ref_v, self.dt)
            self.vecs[(copy, cell.id)] = vec
        return secs

    def input_gain(self, cid: int) -> float:
        return self.inner.input_gain(cid)

    def sites(self, con, post_secs: list):
        return self.inner.sites(con, post_secs)


def record_activity(circuit: Circuit, X: np.ndarray, *, v_cells=(), n_v_copies: int = 0,
                    v_dt_ms: float = 0.1, simulated=None) -> Recording:
    """Simulate ``circuit`` on ``X`` (as :func:`~pretty_printer.sim.neuron_backend.simulate`).

    Parameters
    ----------
    circuit : Circuit
    X : ndarray
        (n_samples, n_in) static inputs or (n_seq, n_steps, n_in) sequences.
    v_cells : iterable of int
        Cell ids whose somatic voltage is recorded.
    n_v_copies : int
        Record voltages in copies ``0 .. n_v_copies - 1`` only (bounds memory and file size).
    v_dt_ms : float
        Voltage sampling interval (ms).
    simulated : SimResult, optional
        ``simulate(circuit, X, record_spikes=True)`` already run: only the voltage copies are
        simulated again, the other copies' rates and spikes are taken from it.

    Raises
    ------
    SimulationError
        ``simulated`` is not a run of this circuit on ``X``: its shape differs, or the copies
        simulated again here spiked otherwise.
    """
    X3 = nb._validate_inputs(circuit, X)
    n_v = min(max(0, int(n_v_copies)), X3.shape[0]) if v_cells else 0
    per_run = nb.copies_per_run(len(circuit.cells))
    rates, spikes, v = [], [], {c: [] for c in v_cells}
    for start in range(0, n_v, per_run):  # the copies whose voltages are recorded, here
        builder = _RecordingBuilder(circuit, v_cells, n_v, v_dt_ms, start)
        r, sp = nb._simulate_chunk(circuit, X3[start:min(start + per_run, n_v)], True, builder)
        rates.append(r)
        spikes.extend(sp)
        for (s, cid), vec in sorted(builder.vecs.items()):
            v[cid].append(np.asarray(vec)[:-1] if len(vec) > 1 else np.asarray(vec))
    shape = (X3.shape[0],) + X3.shape[1:2] + (len(circuit.cells),)  # (copies, steps, cells)
    if simulated is None and n_v < X3.shape[0]:  # the rest as simulate() runs them (in worker processes when large)
        run = nb.simulate(circuit, X3[n_v:], record_spikes=True)
        rates.append(run.rates_Hz.reshape((-1,) + shape[1:]))
        spikes.extend(run.spike_times)
    elif simulated is not None:  # a run of every copy: check the copies run here against it, take the rest
        known = np.asarray(simulated.rates_Hz)
        ok = known.size == np.prod(shape) and len(simulated.spike_times or ()) == shape[0]
        if ok:
            known = known.reshape(shape)
            ok = not rates or np.array_equal(known[:n_v], np.concatenate(rates, 0))
        if not ok:
            raise SimulationError(f"simulated: expected simulate(circuit, X, record_spikes=True) of these "
                                  f"{shape[0]} samples, got rates of shape {known.shape} that differ")
        rates.append(known[n_v:])
        spikes.extend(simulated.spike_times[n_v:])
    n_t = int(round(X3.shape[1] * circuit.readout.bin_ms / v_dt_ms))
    v_mV = {cid: np.stack([a[:n_t] for a in arrs]) if arrs else np.zeros((0, n_t))
            for cid, arrs in v.items()}
    return Recording(tuple(c.id for c in circuit.cells), np.concatenate(rates, 0), spikes, v_mV, v_dt_ms)
