"""The ground-truth circuit's activity on the held-out inputs, as NWB (``truth/activity.nwb``).

Layout (pynwb):

* ``trials``: one row per held-out sample, laid back to back in time (sample ``s`` spans
  ``[s T, (s + 1) T)`` with ``T = n_steps * readout.bin_ms``; every sample is an independent
  copy of the circuit started from rest, as in the NEURON backend); columns ``input_<k>``
  (static tasks: the task input), ``label`` and ``readout_start`` / ``readout_stop`` (the
  window whose spike count, divided by its length, is the output rate).
* ``units``: one unit per cell with its spike times (s, on that shared clock) and the
  columns ``cell_id``, ``role``, ``layer``, ``model``, ``transmitter``.
* ``stimulus``: ``task_inputs`` (the task's input vector per stimulus bin) and
  ``input_currents`` (nA injected into each input cell: ``offset + scale * x``).
* ``acquisition``: ``soma_voltage_cell_<id>`` for a few cells (the first input cell, the
  first hidden cell, the output cells) during the first samples.

Same circuit and inputs give the same bytes: fixed dates and identifier, HDF5 without object
timestamps.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from pretty_printer.circuit.description import Circuit

N_VOLTAGE_SAMPLES = 4  # held-out samples whose somatic voltages are stored
VOLTAGE_DT_MS = 0.1
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)  # fixed: the data are synthetic, not dated


def voltage_cells(circuit: Circuit) -> list[int]:
    """The few cells whose voltages are stored: first input, first hidden, every output."""
    hidden = [c.id for c in circuit.cells if c.role == "hidden"]
    ids = list(circuit.input_cells[:1]) + hidden[:1] + list(circuit.output_cells)
    known = {c.id for c in circuit.cells}
    return list(dict.fromkeys(i for i in ids if i in known))


def record_for_nwb(circuit: Circuit, X, *, simulated=None):
    """Simulate ``circuit`` on ``X`` recording what :func:`write_activity_nwb` stores: every spike,
    and the somatic voltages of :func:`voltage_cells` in the first ``N_VOLTAGE_SAMPLES`` samples.

    ``simulated``: that held-out run of :func:`~pretty_printer.sim.neuron_backend.simulate`
    (with spikes) if already made; then only the voltage samples are simulated again (see
    :func:`~pretty_printer.sim.recording.record_activity`).

    Returns
    -------
    pretty_printer.sim.recording.Recording
        Its ``rates_Hz`` equal :func:`~pretty_printer.sim.neuron_backend.simulate`'s to the last bit.
    """
    from pretty_printer.sim.recording import record_activity

    X = np.asarray(X, float)
    return record_activity(circuit, X, v_cells=voltage_cells(circuit),
                           n_v_copies=min(N_VOLTAGE_SAMPLES, X.shape[0]), v_dt_ms=VOLTAGE_DT_MS,
                           simulated=simulated)


def write_activity_nwb(circuit: Circuit, X, y, path: str | Path, *, identifier: str | None = None,
                       recording=None) -> Path:
    """Simulate ``circuit`` on held-out inputs ``X`` (labels ``y``) and write the NWB file.

    Parameters
    ----------
    circuit : Circuit
    X : ndarray
        (n_samples, n_in) static or (n_seq, n_steps, n_in) temporal inputs.
    y : ndarray
        (n_samples,) or (n_seq, n_steps) class labels.
    path : path of the ``.nwb`` file to write
    identifier : str, optional
        NWB identifier (default: a hash of the circuit and inputs).
    recording : Recording, optional
        :func:`record_for_nwb` of this circuit on ``X``, if already made; else it is made here.
    """
    X = np.asarray(X, float)
    rec = recording if recording is not None else record_for_nwb(circuit, X)
    ident = identifier or hashlib.sha256(json.dumps(circuit.to_dict(), sort_keys=True).encode()
                                         + X.tobytes()).hexdigest()[:32]
    with _deterministic_object_ids(ident):
        nwb = _build(circuit, X, np.asarray(y), rec, ident)
        _write(nwb, Path(path))
    return Path(path)


@contextlib.contextmanager
def _deterministic_object_ids(seed: str):
    """NWB containers get random UUID4 object ids; draw them from ``seed`` so files are reproducible."""
    import random
    import uuid

    import hdmf.container

    rng = random.Random(seed)
    original = hdmf.container.uuid4
    hdmf.container.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
    try:
        yield
    finally:
        hdmf.container.uuid4 = original


def _build(circuit: Circuit, X, y, rec, ident: str):
    from pynwb import NWBFile, TimeSeries
    from pynwb.file import Subject

    X3 = X if X.ndim == 3 else X[:, None, :]
    n_s, n_steps, n_in = X3.shape
    bin_ms, win_ms = circuit.readout.bin_ms, circuit.readout.window_ms
    T = n_steps * bin_ms
    nwb = NWBFile(
        session_description=(f"Ground-truth activity of the compiled {circuit.task!r} circuit (NEURON) on the "
                             f"task's held-out inputs: {n_s} independent samples, each from rest, back to back"),
        identifier=ident, session_start_time=_EPOCH, file_create_date=[_EPOCH],
        experiment_description="synthetic ground truth written by neural-pretty-printer",
        source_script="pretty_printer.export.nwb", source_script_file_name="pretty_printer/export/nwb.py",
        keywords=["ground truth", "synthetic", "Hodgkin-Huxley", "NEURON", circuit.task])
    nwb.subject = Subject(subject_id=f"circuit-{ident[:8]}", species="in silico", sex="U", date_of_birth=_EPOCH, description=(
        f"compiled spiking circuit of {len(circuit.cells)} cells, no animal"))
    _trials(nwb, X3, y, T, bin_ms, win_ms)
    for col, desc in [("cell_id", "cell id in truth/circuit.json and the label volumes"),
                      ("role", "input, hidden or output"), ("layer", "layer (0 = input)"),
                      ("model", "cell model name"), ("transmitter", "glutamate or gaba")]:
        nwb.add_unit_column(name=col, description=desc)
    nwb.units.resolution = circuit.dt_ms / 1000.0  # spikes are threshold crossings on the dt grid
    for j, c in enumerate(circuit.cells):
        times = np.concatenate([s * T + np.asarray(rec.spike_times_ms[s][j], float) for s in range(n_s)]
                               ) if n_s else np.zeros(0)
        nwb.add_unit(spike_times=times / 1000.0, cell_id=int(c.id), role=c.role, layer=int(c.layer),
                     model=c.model, transmitter=c.transmitter)
    enc = circuit.encoding
    xs = X3.reshape(-1, n_in)  # bins back to back: bin i starts at i * bin_ms
    bins = {"starting_time": 0.0, "rate": 1000.0 / bin_ms}
    nwb.add_stimulus(TimeSeries(name="task_inputs", data=xs, unit="n/a", **bins,
                                description="task input vector, held over each stimulus bin"))
    nwb.add_stimulus(TimeSeries(name="input_currents", data=enc.offset_nA + enc.scale_nA * xs, unit="nA",
                                **bins, description=(
                                    "current injected into input cells " + ", ".join(map(str, circuit.input_cells))
                                    + " (columns), held over each stimulus bin: offset + scale * x")))
    for cid, v in sorted(rec.v_mV.items()):
        if v.size:
            nwb.add_acquisition(TimeSeries(
                name=f"soma_voltage_cell_{cid}", data=v.reshape(-1).astype(np.float32), unit="volts",
                conversion=1e-3, rate=1000.0 / rec.v_dt_ms, starting_time=0.0,
                description=f"somatic membrane potential (mV) of cell {cid} during the first {v.shape[0]} samples"))
    return nwb


def _trials(nwb, X3, y, T: float, bin_ms: float, win_ms: float) -> None:
    n_s, n_steps, n_in = X3.shape
    static = n_steps == 1
    if static:
        for k in range(n_in):
            nwb.add_trial_column(name=f"input_{k}", description=f"task input {k}")
        nwb.add_trial_column(name="label", description="class label")
    nwb.add_trial_column(name="readout_start", description="start (s) of the readout window of the last bin")
    nwb.add_trial_column(name="readout_stop", description="end (s) of the readout window of the last bin")
    for s in range(n_s):
        extra = {f"input_{k}": float(X3[s, 0, k]) for k in range(n_in)} if static else {}
        if static:
            extra["label"] = int(y[s])
        nwb.add_trial(start_time=s * T / 1000.0, stop_time=(s + 1) * T / 1000.0,
                      readout_start=(s * T + T - win_ms) / 1000.0, readout_stop=(s + 1) * T / 1000.0, **extra)


def _write(nwb, path: Path) -> None:
    from pynwb import NWBHDF5IO

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.nwb")
    with NWBHDF5IO(str(tmp), "w") as io:
        io.write(nwb)
    tmp.replace(path)


def output_rates(path: str | Path, circuit: Circuit) -> np.ndarray:
    """Output rates (Hz), (n_samples, n_steps, n_outputs), counted from the file's spike times.

    A spike at time ``t`` in sample ``s`` counts for bin ``b`` when it falls in the last
    ``readout.window_ms`` of that bin, exactly as the NEURON backend counts.
    """
    from pynwb import NWBHDF5IO

    bin_ms, win_ms = circuit.readout.bin_ms, circuit.readout.window_ms
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        n_s = len(nwb.trials)
        T = float(nwb.trials["stop_time"][0] - nwb.trials["start_time"][0]) * 1000.0
        n_steps = int(round(T / bin_ms))
        units = nwb.units.to_dataframe()
        out = np.zeros((n_s, n_steps, len(circuit.output_cells)))
        for j, cid in enumerate(circuit.output_cells):
            row = units[units["cell_id"] == cid]
            if row.empty:
                continue
            t_ms = np.asarray(row["spike_times"].iloc[0], float) * 1000.0
            s = np.floor(t_ms / T).astype(int)
            rel = t_ms - s * T
            b = np.floor(rel / bin_ms).astype(int)
            keep = (rel - b * bin_ms >= bin_ms - win_ms) & (s < n_s)
            np.add.at(out, (s[keep], b[keep], j), 1.0)
    return out * (1000.0 / win_ms)


def write_unit_activity(path: str | Path, trials_s, spikes_by_segment: dict, *,
                        description: str = "emulation of the rebuilt circuit on the held-out inputs") -> Path:
    """Write a submission's own activity (the ``activity`` file of a submission) as NWB.

    Parameters
    ----------
    path : path of the ``.nwb`` file to write
    trials_s : array-like of shape (n_trials, 2)
        Start and stop (s) of each held-out sample, in the order of ``truth/task.npz``, back to back
        as in ``truth/activity.nwb`` (:func:`pretty_printer.scoring.activity.read_unit_spikes`
        reads them back).
    spikes_by_segment : dict
        ``{segment id: spike times (s) on the trials' clock}``, one unit per segment.
    description : str
        The session description.
    """
    from pynwb import NWBFile

    trials = np.asarray(trials_s, float).reshape(-1, 2)
    ident = hashlib.sha256(trials.tobytes() + json.dumps(
        {str(k): np.asarray(v, float).round(9).tolist() for k, v in sorted(spikes_by_segment.items())}).encode()
    ).hexdigest()[:32]
    with _deterministic_object_ids(ident):
        nwb = NWBFile(session_description=description, identifier=ident, session_start_time=_EPOCH,
                      file_create_date=[_EPOCH])
        for start, stop in trials:
            nwb.add_trial(start_time=float(start), stop_time=float(stop))
        nwb.add_unit_column(name="segment_id", description="the submission's segment id of this unit")
        for seg, times in sorted(spikes_by_segment.items()):
            nwb.add_unit(spike_times=np.sort(np.asarray(times, float)), segment_id=int(seg))
        _write(nwb, Path(path))
    return Path(path)
