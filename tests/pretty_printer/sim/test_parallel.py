"""Simulations split over worker processes give the calling process's rates and spikes, bit for bit."""

from dataclasses import replace

import numpy as np
import pytest

import phantoms
from pretty_printer.circuit.cellmodels import get_cell_model, nA_per_uA_cm2
from pretty_printer.circuit.description import Cell, Circuit, Connection, Encoding
from pretty_printer.errors import ConfigError
from pretty_printer.sim import parallel
from pretty_printer.sim.morphology import morphology_from_phantom
from pretty_printer.sim.neuron_backend import simulate, simulate_morphological
from pretty_printer.sim.parallel import simulation_workers

AREA = 1000.0


def _three_cells() -> Circuit:
    k = nA_per_uA_cm2(AREA)
    cells = (Cell(0, "input", 0, "wang_buzsaki", "glutamate"),
             Cell(1, "hidden", 1, "wang_buzsaki", "gaba", 0.5 * k),
             Cell(2, "output", 2, "wang_buzsaki", "glutamate", 1.5 * k))
    return Circuit("t", cells, (Connection(0, 1, "AMPA", 0.001), Connection(1, 2, "GABA_A", 0.002)),
                   (0,), (2,), Encoding(scale_nA=2 * k), soma_area_um2=AREA)


def _assert_same(a, b):
    np.testing.assert_array_equal(a.rates_Hz, b.rates_Hz)
    assert len(a.spike_times) == len(b.spike_times)
    for sa, sb in zip(a.spike_times, b.spike_times):
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)


def test_point_circuit_on_two_processes_matches_one():
    c, X = _three_cells(), np.linspace(0.0, 1.5, 7)[:, None]  # 7 samples: parts of 3 and 4 (uneven)
    one = simulate(c, X, record_spikes=True)
    with simulation_workers(2, min_work=0):
        assert parallel.n_parts(len(X), 1.0) == 2
        two = simulate(c, X, record_spikes=True)
        again = simulate(c, X, record_spikes=True)  # the same worker processes, reused
    _assert_same(one, two)
    _assert_same(one, again)
    assert one.rates_Hz[:, 2].max() > 0 and sum(len(s) for cell in one.spike_times for s in cell) > 20


def test_temporal_sequences_split_by_sequence():
    c = _three_cells()
    X = np.array([[[0.0], [1.0], [0.5]], [[1.2], [0.0], [0.8]], [[0.3], [0.3], [1.4]]])
    one = simulate(c, X)
    with simulation_workers(3, min_work=0):
        three = simulate(c, X)
    assert three.rates_Hz.shape == (3, 3, 3)
    np.testing.assert_array_equal(one.rates_Hz, three.rates_Hz)


def test_grown_cells_on_two_processes_match_one():
    spec = phantoms.xor_spec(0)
    wb = get_cell_model("wang_buzsaki")
    cells = tuple(replace(c, g_na_mS_cm2=wb.g_na_mS_cm2, g_k_mS_cm2=wb.g_k_mS_cm2,
                          g_leak_mS_cm2=wb.g_leak_mS_cm2) for c in spec.cells)
    phantom = phantoms.grow(phantoms.CircuitSpec(cells, spec.edges), phantoms.GrowthConfig(), 0)
    morph = morphology_from_phantom(phantom)
    k = nA_per_uA_cm2(AREA)
    inputs = tuple(c.id for c in spec.cells if c.role == "input")
    circuit = Circuit("t", tuple(Cell(c.id, c.role, c.layer, "wang_buzsaki", "glutamate" if c.excitatory else "gaba")
                                 for c in spec.cells),
                      tuple(Connection(a, b, "AMPA", 2e-5) for a, b in sorted(morph.sites)),  # grown synapses
                      inputs, tuple(c.id for c in spec.cells if c.role == "output"),
                      Encoding(scale_nA=0.05 * k), soma_area_um2=AREA)
    X = np.array([[0.0, 1.0], [0.6, 0.2], [1.0, 1.0], [1.5, 0.0]])
    one = simulate_morphological(circuit, morph, X, record_spikes=True)
    with simulation_workers(2, min_work=0):
        two = simulate_morphological(circuit, morph, X, record_spikes=True)
    _assert_same(one, two)
    assert sum(len(s) for cell in one.spike_times for s in cell) > 0


def test_small_runs_stay_in_the_calling_process():
    with simulation_workers(2):
        assert parallel.n_parts(100, parallel.MIN_PARALLEL_WORK / 2) == 1
        assert parallel.n_parts(1, 1e12) == 1  # one sample cannot be split
        assert parallel.n_parts(100, 1e12) == 2
        assert parallel._state["pool"] is None  # nothing started for runs that stayed here
    assert parallel.n_parts(100, 1e12) == 1  # outside the block: the calling process only


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_worker_count_is_a_clear_error(bad):
    with pytest.raises(ConfigError, match="workers: expected a positive integer"):
        with simulation_workers(bad):
            pass


def test_recording_with_workers_matches_simulate():
    from pretty_printer.sim.recording import record_activity

    c, X = _three_cells(), np.linspace(0.0, 1.5, 6)[:, None]
    one = simulate(c, X, record_spikes=True)
    with simulation_workers(2, min_work=0):  # copies 0-1 record voltages here, 2-5 go to the workers
        rec = record_activity(c, X, v_cells=(2,), n_v_copies=2)
    np.testing.assert_array_equal(rec.rates_Hz[:, 0, :], one.rates_Hz)
    for sa, sb in zip(rec.spike_times_ms, one.spike_times):
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)
    assert rec.v_mV[2].shape[0] == 2 and rec.v_mV[2].max() > 0  # the output cell spiked in copy 1


def test_fi_surface_rows_on_two_processes_match_one():
    from pretty_printer.circuit.cellmodels import FIProtocol
    from pretty_printer.sim.membrane import measure_fi_surface

    model, protocol = get_cell_model("wang_buzsaki"), FIProtocol(step_ms=300.0, window_ms=200.0)
    currents, g = np.array([0.5, 1.0, 2.0, 4.0]), np.array([0.0, 0.1, 0.3])
    one = measure_fi_surface(model, currents, g, -65.0, protocol)
    with simulation_workers(2, min_work=0):
        two = measure_fi_surface(model, currents, g, -65.0, protocol)
    np.testing.assert_array_equal(one, two)
    assert one.shape == (3, 4) and one[0, -1] > one[-1, -1] > 0  # a shunt lowers the rate


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_hears_every_sample(workers, monkeypatch):
    from pretty_printer.sim import neuron_backend

    monkeypatch.setattr(neuron_backend, "MAX_CELLS_PER_RUN", 6)  # 2 copies of 3 cells per NEURON run
    calls = []
    c, X = _three_cells(), np.linspace(0.0, 1.5, 7)[:, None]
    with simulation_workers(workers, min_work=0, progress=lambda *a: calls.append(a)):
        got = simulate(c, X)
    np.testing.assert_array_equal(got.rates_Hz, simulate(c, X).rates_Hz)
    assert len(calls) == 4 and {step for step, _, _ in calls} == {"run 1: samples"}  # 4 runs of 2, 2, 2, 1
    assert sorted(done for _, done, _ in calls)[-1] == 7 and all(total == 7 for _, _, total in calls)
