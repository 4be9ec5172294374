"""Compare a submitted activity file with the truth's: does *your* emulation compute the task?

A pipeline that also runs its own emulation of the rebuilt circuit may submit the spike times it
produced on the held-out inputs (``activity`` in ``submission.json``, an NWB file; write one with
:func:`pretty_printer.export.nwb.write_unit_activity`).  Its layout follows ``truth/activity.nwb``
(:mod:`pretty_printer.export.nwb`): ``trials`` hold the held-out samples back to back, one row
each, in the order of ``truth/task.npz``; ``units`` hold one unit per submitted segment, with the
segment's id in a ``segment_id`` column and spike times in seconds on the trials' clock.

Scoring: each truth output cell is read from the unit of the segment that covers most of that
cell's voxels (the scorer knows where the motor cells are, as for the function section's ports);
its rate is the spike count in the last ``readout.window_ms`` of each bin, divided by the window,
exactly as for the truth (:func:`pretty_printer.export.nwb.output_rates`).  Reported:
``accuracy`` (the arg-max read-out against the task labels), ``output_correlation`` (Pearson,
against the truth's output rates) and ``rate_mae_Hz`` (mean absolute difference).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pretty_printer.errors import SubmissionError


def read_unit_spikes(path: Path, id_column: str = "segment_id") -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Trials and per-unit spike times of an NWB activity file.

    Parameters
    ----------
    path : Path
        The NWB file (HDF5).
    id_column : str
        The units column that names each unit (``segment_id`` for submissions, ``cell_id`` for
        the truth).

    Returns
    -------
    trials : ndarray of shape (n_trials, 2)
        Start and stop times, s.
    spikes : dict
        ``{id: spike times (s)}``.

    Raises
    ------
    SubmissionError
        The file is not NWB, or lacks trials, units or the id column (one line each).
    """
    from pynwb import NWBHDF5IO

    try:
        io = NWBHDF5IO(str(path), "r")
        nwb = io.read()
    except Exception as e:  # h5py/hdmf raise many types for a damaged or foreign file
        raise SubmissionError(f"submission.json activity: expected an NWB file, got one that does not open "
                              f"({type(e).__name__})") from None
    try:
        if nwb.trials is None or nwb.units is None:
            raise SubmissionError("submission.json activity: expected an NWB file with trials and units, got one without")
        if id_column not in nwb.units.colnames:
            raise SubmissionError(f"submission.json activity: expected a units column {id_column!r}, "
                                  f"got columns {list(nwb.units.colnames)}")
        trials = np.stack([np.asarray(nwb.trials["start_time"][:], float),
                           np.asarray(nwb.trials["stop_time"][:], float)], axis=1)
        ids = [int(i) for i in nwb.units[id_column][:]]
        spikes = {i: np.asarray(nwb.units["spike_times"][k], float) for k, i in enumerate(ids)}
    finally:
        io.close()
    return trials, spikes


def _rates(trials: np.ndarray, times_s: np.ndarray, n_steps: int, bin_ms: float, win_ms: float) -> np.ndarray:
    """(n_trials, n_steps) rates (Hz): spikes in the last ``win_ms`` of each bin."""
    out = np.zeros((len(trials), n_steps))
    t_ms = np.asarray(times_s, float) * 1000.0
    for s, (start, _stop) in enumerate(trials):
        rel = t_ms - start * 1000.0
        b = np.floor(rel / bin_ms).astype(int)
        keep = (rel >= 0) & (b < n_steps) & (rel - b * bin_ms >= bin_ms - win_ms)
        np.add.at(out[s], b[keep], 1.0)
    return out * (1000.0 / win_ms)


def activity_scores(path: Path, truth_nwb: Path, circuit, segment_of_cell: dict[int, int], y) -> dict:
    """The ``function.submitted_activity`` section.

    Parameters
    ----------
    path : Path
        The submitted NWB file.
    truth_nwb : Path
        ``truth/activity.nwb``.
    circuit : Circuit
        The truth circuit (output cells and read-out timing).
    segment_of_cell : dict
        ``{truth cell id: submitted segment id}``, the segment covering most of each cell.
    y : ndarray
        The held-out labels, (n_trials,) or (n_trials, n_steps).

    Returns
    -------
    dict
        ``accuracy``, ``output_correlation`` (None when either side is constant),
        ``rate_mae_Hz``, ``n_trials`` and ``missing_outputs`` (output cells with no unit).

    Raises
    ------
    SubmissionError
        Wrong number of trials or trial length (one line, with both values).
    """
    t_trials, t_spikes = read_unit_spikes(truth_nwb, "cell_id")
    s_trials, s_spikes = read_unit_spikes(path, "segment_id")
    if len(s_trials) != len(t_trials):
        raise SubmissionError(f"submission.json activity trials: expected {len(t_trials)} held-out samples "
                              f"(truth/task.npz order), got {len(s_trials)}")
    T_truth, T_sub = np.diff(t_trials[0]) if len(t_trials) else 0.0, np.diff(s_trials[0]) if len(s_trials) else 0.0
    if len(t_trials) and not np.allclose(T_sub, T_truth, atol=1e-6):
        raise SubmissionError(f"submission.json activity trials: expected each {float(T_truth[0]) * 1000:g} ms long, "
                              f"got {float(T_sub[0]) * 1000:g} ms")
    bin_ms, win_ms = circuit.readout.bin_ms, circuit.readout.window_ms
    n_steps = max(1, int(round(float(T_truth[0]) * 1000.0 / bin_ms))) if len(t_trials) else 1
    truth = np.stack([_rates(t_trials, t_spikes.get(c, np.zeros(0)), n_steps, bin_ms, win_ms)
                      for c in circuit.output_cells], axis=-1)
    missing = [c for c in circuit.output_cells if segment_of_cell.get(c) not in s_spikes]
    got = np.stack([_rates(s_trials, s_spikes.get(segment_of_cell.get(c), np.zeros(0)), n_steps, bin_ms, win_ms)
                    for c in circuit.output_cells], axis=-1)
    labels = np.asarray(y).reshape(len(t_trials), -1)[:, -n_steps:]
    a, b = got.ravel(), truth.ravel()
    corr = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else None
    return {"accuracy": float(np.mean(got.argmax(-1) == labels)), "output_correlation": corr,
            "rate_mae_Hz": float(np.mean(np.abs(a - b))), "n_trials": int(len(t_trials)), "missing_outputs": missing}


def dominant_segments(table) -> dict[int, int]:
    """``{truth cell: the non-zero segment holding most of its voxels}`` (ties: smaller id) from a
    :class:`~pretty_printer.scoring.metrics.segmentation.Contingency`."""
    keep = (table.gt_ids != 0) & (table.seg_ids != 0)
    g, s, c = table.gt_ids[keep], table.seg_ids[keep], table.counts[keep]
    order = np.lexsort((s, -c, g))
    g, s = g[order], s[order]
    first = np.concatenate(([True], g[1:] != g[:-1])) if len(g) else np.zeros(0, bool)
    return {int(k): int(v) for k, v in zip(g[first], s[first])}
