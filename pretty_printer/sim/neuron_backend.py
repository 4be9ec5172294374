"""The NEURON backend: circuits in NEURON (with :mod:`.membrane`, the only code touching ``neuron.h``).

It simulates a :class:`~pretty_printer.circuit.description.Circuit` on task inputs (cell f-I
curves are measured in :mod:`.membrane`).  In :func:`simulate` every cell is one isopotential
compartment of the circuit's soma area; :func:`simulate_morphological` builds the grown
multi-compartment cells of a :class:`~pretty_printer.sim.morphology.Morphology` instead (synapses
at their grown sites).  Synapses are conductance-based (``Exp2Syn``), one per (post cell,
receptor) shared by all incoming connections, which is exact because the synapse is linear in
its conductance.

Static inputs are simulated as independent copies of the circuit, one per sample, in a single
NEURON run (fixed dt, no CVode).  Temporal inputs play one stimulus bin after another into one
copy per sequence.  All objects are local to a call, so nothing survives between runs and the
same circuit simulated twice gives identical spikes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pretty_printer.circuit.cellmodels import RECEPTOR_KINETICS, CellModel, get_cell_model
from pretty_printer.circuit.description import Circuit
from pretty_printer.circuit.excitability import cell_densities
from pretty_printer.errors import ConfigError
from pretty_printer.sim import parallel
# the membrane half (mechanisms, single cells, f-I curves), re-exported for callers of this module
from pretty_printer.sim.mechanism_files import mechanism_hash  # noqa: F401
from pretty_printer.sim.membrane import (SPIKE_THRESHOLD_MV, V_INIT_MV, _insert_channels,  # noqa: F401
                                        _insert_tonic, _make_cell, _run, ensure_mechanisms, h,
                                        measure_fi)

# Cells per NEURON run: bounds memory for large test sets; results do not depend on it because
# copies are independent.
MAX_CELLS_PER_RUN = 20000


# --------------------------------------------------------------------------- circuits
@dataclass(frozen=True)
class SimResult:
    """Rates (Hz) of every cell, read over the readout window at the end of each bin.

    ``rates_Hz`` has shape (n_samples, n_cells) for static inputs and (n_seq, n_steps, n_cells)
    for temporal ones, columns ordered like ``cell_ids``.  ``spike_times[s][j]`` (ms, from the
    start of sample ``s``) is present when requested.
    """

    cell_ids: tuple[int, ...]
    rates_Hz: np.ndarray
    spike_times: list[list[np.ndarray]] | None = None

    def rates_of(self, ids) -> np.ndarray:
        """Rates of the given cell ids along the last axis; id -1 or a missing id reads 0 Hz."""
        col = {cid: j for j, cid in enumerate(self.cell_ids)}
        out = np.zeros(self.rates_Hz.shape[:-1] + (len(ids),))
        for k, cid in enumerate(ids):
            if cid in col:
                out[..., k] = self.rates_Hz[..., col[cid]]
        return out


def _validate_inputs(circuit: Circuit, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim not in (2, 3):
        raise ConfigError(f"X: expected shape (n, n_in) or (n_seq, n_steps, n_in), got {X.shape}")
    if X.shape[-1] != len(circuit.input_cells):
        raise ConfigError(f"X: expected {len(circuit.input_cells)} input columns "
                          f"(circuit.input_cells), got {X.shape[-1]}")
    return X if X.ndim == 3 else X[:, None, :]


class _PointCells:
    """Builds each cell as one isopotential compartment of the circuit's soma area."""

    def __init__(self, circuit: Circuit):
        self.models = {c.model: get_cell_model(c.model) for c in circuit.cells}
        self.area_um2 = circuit.soma_area_um2

    def build(self, cell, name: str) -> list:
        """The cell's sections; section 0 is the soma (spikes are read and currents injected there)."""
        secs = [_make_cell(self.models[cell.model], self.area_um2, name)]
        _insert_tonic(secs, cell_densities(cell))
        return secs

    def input_gain(self, cid: int) -> float:
        return 1.0

    def sites(self, con, post_secs: list):
        """(location key, segment, conductance share, extra delay ms) for each synapse of ``con``."""
        return ((None, post_secs[0](0.5), 1.0, 0.0),)


def _simulate_chunk(circuit: Circuit, X: np.ndarray, record_spikes: bool, builder=None):
    """Simulate copies of the circuit, one per row of X (n_copies, n_steps, n_in)."""
    builder = builder or _PointCells(circuit)
    n_copies, n_steps, _ = X.shape
    bin_ms, window_ms = circuit.readout.bin_ms, circuit.readout.window_ms
    cells = circuit.cells
    index = {c.id: j for j, c in enumerate(cells)}
    n_cells = len(cells)
    enc = circuit.encoding
    conns = [c for c in circuit.connections
             if c.pre in index and c.post in index and c.weight_uS > 0]
    t_vec, id_vec = h.Vector(), h.Vector()
    keep = []  # every NEURON object of this run; released when the function returns
    t_bins = h.Vector(np.arange(n_steps) * bin_ms)
    keep.append(t_bins)
    for s in range(n_copies):
        secs = [builder.build(c, f"c{s}_{c.id}") for c in cells]
        keep.extend(secs)
        somas = [cs[0] for cs in secs]
        for j, c in enumerate(cells):
            if c.bias_nA != 0.0:
                ic = h.IClamp(somas[j](0.5))
                ic.delay, ic.dur, ic.amp = 0.0, 1e9, c.bias_nA
                keep.append(ic)
            nc = h.NetCon(somas[j](0.5)._ref_v, None, sec=somas[j])
            nc.threshold = SPIKE_THRESHOLD_MV
            nc.record(t_vec, id_vec, s * n_cells + j)
            keep.append(nc)
        for k, cid in enumerate(circuit.input_cells):
            if cid not in index:  # -1 (no segment found) or a cell the rebuild lost
                continue
            amps = builder.input_gain(cid) * (enc.offset_nA + enc.scale_nA * X[s, :, k])
            ic = h.IClamp(somas[index[cid]](0.5))
            ic.delay, ic.dur, ic.amp = 0.0, 1e9, float(amps[0])
            keep.append(ic)
            if n_steps > 1:
                v = h.Vector(amps)
                v.play(ic._ref_amp, t_bins, 0)
                keep.append(v)
        # one Exp2Syn per (post cell, receptor, location), shared by every connection landing
        # there: exact, because the synapse is linear in its conductance
        syns: dict[tuple, object] = {}
        for con in conns:
            pre = somas[index[con.pre]]
            for loc, seg, share, extra_delay_ms in builder.sites(con, secs[index[con.post]]):
                key = (con.post, con.receptor, loc)
                if key not in syns:
                    kin = RECEPTOR_KINETICS[con.receptor]
                    syn = h.Exp2Syn(seg)
                    syn.tau1, syn.tau2, syn.e = kin.tau_rise_ms, kin.tau_decay_ms, kin.e_rev_mV
                    syns[key] = syn
                    keep.append(syn)
                nc = h.NetCon(pre(0.5)._ref_v, syns[key], sec=pre)
                nc.threshold = SPIKE_THRESHOLD_MV
                nc.delay = max(con.delay_ms + extra_delay_ms, circuit.dt_ms)
                nc.weight[0] = con.weight_uS * share
                keep.append(nc)
    _run(n_steps * bin_ms, circuit.dt_ms, circuit.temperature_C)
    times, gids = np.asarray(t_vec), np.asarray(id_vec).astype(np.int64)
    del keep
    copy, cell = gids // n_cells, gids % n_cells
    step = np.floor(times / bin_ms).astype(np.int64)
    in_window = (times - step * bin_ms >= bin_ms - window_ms) & (step < n_steps)
    counts = np.zeros((n_copies, n_steps, n_cells))
    np.add.at(counts, (copy[in_window], step[in_window], cell[in_window]), 1.0)
    spikes = None
    if record_spikes:
        order = np.lexsort((times, gids))
        times, gids = times[order], gids[order]
        spikes = [[times[gids == s * n_cells + j] for j in range(n_cells)]
                  for s in range(n_copies)]
    return counts * (1000.0 / window_ms), spikes


def simulate(circuit: Circuit, X: np.ndarray, *, record_spikes: bool = False) -> SimResult:
    """Simulate a circuit on task inputs.

    Parameters
    ----------
    circuit : Circuit
        Any circuit, including one rebuilt from a reconstruction: connections to missing cells
        are ignored, input ids of -1 receive nothing, and a repeated input id sums its currents.
    X : ndarray
        (n_samples, n_in) static inputs, or (n_seq, n_steps, n_in) sequences of stimulus bins.
    record_spikes : bool
        Also return every cell's spike times.

    Returns
    -------
    SimResult
    """
    return _simulate(circuit, X, record_spikes, None, len(circuit.cells))


def _simulate(circuit: Circuit, X: np.ndarray, record_spikes: bool, builder,
              compartments_per_copy: int) -> SimResult:
    X3 = _validate_inputs(circuit, X)
    if circuit.readout.window_ms <= 0 or circuit.readout.window_ms > circuit.readout.bin_ms:
        raise ConfigError(f"readout.window_ms: expected in (0, bin_ms], got "
                          f"{circuit.readout.window_ms}")
    n = X3.shape[0]
    steps = X3.shape[1] * circuit.readout.bin_ms / circuit.dt_ms
    k = parallel.n_parts(n, n * compartments_per_copy * steps)
    per_run = copies_per_run(compartments_per_copy)
    runs = math.ceil(n / per_run)  # NEURON runs of <= per_run copies each
    runs = k * math.ceil(runs / k)  # a multiple of the processes, which then finish together
    bounds = np.linspace(0, n, min(runs, n) + 1).round().astype(int)  # contiguous, in order
    parts = parallel.map_parts(_simulate_rows, [(circuit, X3[a:b], record_spikes, builder, compartments_per_copy)
                                                for a, b in zip(bounds[:-1], bounds[1:])],
                               processes=k > 1, sizes=np.diff(bounds).tolist())
    rates = [r for r, _ in parts]
    spikes = [s for _, sp in parts for s in sp] if record_spikes else None
    rates_Hz = np.concatenate(rates, axis=0) if n else np.zeros((0,) + X3.shape[1:2] + (len(circuit.cells),))
    return SimResult(tuple(c.id for c in circuit.cells), rates_like_inputs(rates_Hz, X), spikes)


def copies_per_run(compartments_per_copy: int) -> int:
    """Circuit copies in one NEURON run: :data:`MAX_CELLS_PER_RUN` compartments, at least one copy."""
    return max(1, MAX_CELLS_PER_RUN // max(1, compartments_per_copy))


def _simulate_rows(circuit: Circuit, X3: np.ndarray, record_spikes: bool, builder,
                   compartments_per_copy: int) -> tuple[np.ndarray, list]:
    """Rates (n, n_steps, n_cells) and spikes of the copies ``X3`` (n, n_steps, n_in), in NEURON
    runs of at most :data:`MAX_CELLS_PER_RUN` compartments (run in a worker process too)."""
    per_run = copies_per_run(compartments_per_copy)
    rates, spikes = [np.zeros((0,) + X3.shape[1:2] + (len(circuit.cells),))], []
    for start in range(0, X3.shape[0], per_run):
        r, sp = _simulate_chunk(circuit, X3[start:start + per_run], record_spikes, builder)
        rates.append(r)
        spikes.extend(sp or [])
    return np.concatenate(rates, axis=0), spikes


def rates_like_inputs(rates_Hz: np.ndarray, X) -> np.ndarray:
    """Per-step rates (n, n_steps, n_cells) shaped as :attr:`SimResult.rates_Hz` for inputs ``X``:
    (n, n_cells) for static (n, n_in) inputs, unchanged for sequences."""
    return rates_Hz[:, 0, :] if np.ndim(X) == 2 else rates_Hz


@dataclass(frozen=True)
class EvalResult:
    accuracy: float
    output_rates: np.ndarray  # (..., n_outputs) in Hz, ordered like circuit.output_cells
    predictions: np.ndarray


def evaluate_circuit(circuit: Circuit, task_data, split: str = "test", *,
                     rates_Hz: np.ndarray | None = None) -> EvalResult:
    """Simulate a circuit on a task split and decode its output rates into predictions.

    Parameters
    ----------
    circuit : Circuit
        The circuit; its ``output_cells`` are read in order (id -1 or missing: 0 Hz).
    task_data : TaskData
        From :func:`pretty_printer.task.tasks.make_task`.
    split : {"test", "train"}
    rates_Hz : ndarray, optional
        Every cell's rates on that split from a simulation already run, per step
        (n, n_steps, n_cells) or shaped as :attr:`SimResult.rates_Hz`, columns ordered like
        ``circuit.cells``: e.g. a :func:`~pretty_printer.sim.recording.record_activity` of the
        same circuit and inputs, whose rates are :func:`simulate`'s to the last bit.  Then
        nothing is simulated.
    """
    from pretty_printer.task.tasks import accuracy, decode

    if split not in ("test", "train"):
        raise ConfigError(f"split: expected 'test' or 'train', got {split!r}")
    X = task_data.X_test if split == "test" else task_data.X_train
    y = task_data.y_test if split == "test" else task_data.y_train
    if rates_Hz is None:
        sim = simulate(circuit, X)
    else:
        rates_Hz = np.asarray(rates_Hz)
        if rates_Hz.ndim == 3:
            rates_Hz = rates_like_inputs(rates_Hz, X)
        sim = SimResult(tuple(c.id for c in circuit.cells), rates_Hz)
        if sim.rates_Hz.shape != np.shape(X)[:-1] + (len(circuit.cells),):
            raise ConfigError(f"rates_Hz: expected shape {np.shape(X)[:-1] + (len(circuit.cells),)} "
                              f"(the {split} inputs by cells), got {sim.rates_Hz.shape}")
    out = sim.rates_of(circuit.output_cells)
    return EvalResult(float(accuracy(y, out)), out, decode(out))


# --------------------------------------------------------------------------- grown cells
@dataclass(frozen=True)
class MorphSimConfig:
    """How grown cells are discretised (see :func:`simulate_morphological`)."""

    ra_ohm_cm: float = 100.0  # axial resistivity (cortical cells: 70-200 ohm cm)
    d_lambda: float = 0.1  # segments no longer than this fraction of the AC length constant
    d_lambda_freq_Hz: float = 100.0  # frequency at which that length constant is taken
    max_nseg: int = 5  # cap for speed: the scaled-down arbors are electrotonically compact

    def __post_init__(self) -> None:
        for key in ("ra_ohm_cm", "d_lambda", "d_lambda_freq_Hz"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"{key}: expected > 0, got {getattr(self, key)!r}")
        if self.max_nseg < 1:
            raise ConfigError(f"max_nseg: expected >= 1, got {self.max_nseg!r}")


def nseg_d_lambda(length_um: float, diam_um: float, cm_uF_cm2: float, cfg: MorphSimConfig) -> int:
    """Compartments of a section by the d_lambda rule (Hines & Carnevale, The NEURON Book, ch. 5):
    odd, so the middle is a node, and capped at ``cfg.max_nseg``.  Also written into grown NeuroML
    (``numberInternalDivisions``) so outside simulators discretise the same way."""
    lam_um = 1e5 * np.sqrt(diam_um / (4 * np.pi * cfg.d_lambda_freq_Hz * cfg.ra_ohm_cm * cm_uF_cm2))
    n = int((length_um / (cfg.d_lambda * lam_um) + 0.9) / 2) * 2 + 1
    cap = cfg.max_nseg - (1 - cfg.max_nseg % 2)  # the largest odd count allowed
    return int(min(max(n, 1), cap))


def _make_morph_cell(cell_morph, model: CellModel, name: str, cfg: MorphSimConfig) -> list:
    """NEURON sections of one grown cell; section 0 is the soma."""
    if model.mechanism != "hh":
        ensure_mechanisms()
    secs = []
    for i, sd in enumerate(cell_morph.sections):
        sec = h.Section(name=f"{name}_{i}")
        x, y, z = (h.Vector(np.ascontiguousarray(col)) for col in np.asarray(sd.xyz_um, float).T)
        h.pt3dadd(x, y, z, h.Vector(np.asarray(sd.diam_um, float)), sec=sec)
        if sd.parent >= 0:
            sec.connect(secs[sd.parent](sd.parent_x), 0)
        sec.Ra = cfg.ra_ohm_cm
        sec.nseg = nseg_d_lambda(sd.length_um, float(np.mean(sd.diam_um)), model.cm_uF_cm2, cfg)
        _insert_channels(sec, model, sd.g_na_mS_cm2, sd.g_k_mS_cm2, sd.g_leak_mS_cm2)
        secs.append(sec)
    return secs


class _GrownCells:
    """Builds each cell from its grown morphology; synapses at their grown locations."""

    def __init__(self, circuit: Circuit, morphology, input_gain: dict | None, cfg: MorphSimConfig):
        self.models = {c.model: get_cell_model(c.model) for c in circuit.cells}
        self.morphology, self.cfg = morphology, cfg
        self.gain = {int(k): float(v) for k, v in (input_gain or {}).items()}
        for c in circuit.cells:
            morphology.cell(c.id)  # every cell must have been grown: a clear KeyError otherwise

    def build(self, cell, name: str) -> list:
        secs = _make_morph_cell(self.morphology.cell(cell.id), self.models[cell.model], name, self.cfg)
        _insert_tonic(secs, cell_densities(cell))  # uniform over the grown membrane
        return secs

    def input_gain(self, cid: int) -> float:
        return self.gain.get(int(cid), 1.0)

    def sites(self, con, post_secs: list):
        return tuple(((site.section, round(site.x, 6)), post_secs[site.section](site.x), site.share,
                      site.delay_ms) for site in self.morphology.sites_of(con.pre, con.post))


def simulate_morphological(circuit: Circuit, morphology, X: np.ndarray, *,
                           input_gain: dict | None = None, record_spikes: bool = False,
                           config: MorphSimConfig = MorphSimConfig()) -> SimResult:
    """Simulate a circuit whose cells are their grown multi-compartment morphologies.

    Every section carries the cell model's channels at the morphology's densities and the
    circuit cell's tonic channel densities (uniform over its membrane, so they set the same
    operating point at any area; a recalibrated circuit carries adjusted ones); each
    connection's conductance is split over its grown synapses (``Exp2Syn`` with the receptor's
    kinetics, on the nearest postsynaptic section); spikes are detected at the presynaptic soma
    and axonal conduction is folded into the delay; input and bias currents enter at the soma;
    rates are read at the soma.

    Parameters
    ----------
    circuit : Circuit
        Conductances and biases for *these* cells (see
        :func:`pretty_printer.sim.morphology_calibration.recalibrate`): a point-cell circuit's
        values are for ``circuit.soma_area_um2`` of membrane.
    morphology : pretty_printer.sim.morphology.Morphology
        One :class:`~pretty_printer.sim.morphology.CellMorphology` per cell of the circuit.
    X : ndarray
        (n_samples, n_in) or (n_seq, n_steps, n_in), as for :func:`simulate`.
    input_gain : dict, optional
        Input cell id -> factor on its encoded current (default 1).
    record_spikes : bool
    config : MorphSimConfig

    Returns
    -------
    SimResult
    """
    builder = _GrownCells(circuit, morphology, input_gain, config)
    n_comp = sum(len(morphology.cell(c.id).sections) for c in circuit.cells)
    return _simulate(circuit, X, record_spikes, builder, n_comp)


def evaluate_morphological(circuit: Circuit, morphology, task_data, split: str = "test", *,
                           input_gain: dict | None = None, max_samples: int | None = None,
                           config: MorphSimConfig = MorphSimConfig()) -> EvalResult:
    """Like :func:`evaluate_circuit`, on grown cells; ``max_samples`` keeps the first n samples."""
    from pretty_printer.task.tasks import accuracy, decode

    if split not in ("test", "train"):
        raise ConfigError(f"split: expected 'test' or 'train', got {split!r}")
    X = task_data.X_test if split == "test" else task_data.X_train
    y = task_data.y_test if split == "test" else task_data.y_train
    if max_samples is not None:
        X, y = X[:max_samples], y[:max_samples]
    sim = simulate_morphological(circuit, morphology, X, input_gain=input_gain, config=config)
    out = sim.rates_of(circuit.output_cells)
    return EvalResult(float(accuracy(y, out)), out, decode(out))
