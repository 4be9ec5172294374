"""The NEURON backend: rates match the measured f-I curve; robust to rebuilt circuits."""

import numpy as np
import pytest

from pretty_printer.circuit.cellmodels import cache_dir, nA_per_uA_cm2
from pretty_printer.sim.fi import fi_curve
from pretty_printer.circuit.description import Cell, Circuit, Connection, Encoding, Readout
from pretty_printer.errors import ConfigError
from pretty_printer.sim.neuron_backend import ensure_mechanisms, mechanism_hash, simulate

AREA = 1000.0


def _single(model="wang_buzsaki", **kw):
    k = nA_per_uA_cm2(AREA)
    return Circuit(task="t", cells=(Cell(5, "input", 0, model, "glutamate"),),
                   connections=(), input_cells=(5,), output_cells=(5,),
                   encoding=Encoding(scale_nA=k, offset_nA=0.0), soma_area_um2=AREA, **kw)


def test_mechanisms_compiled_once_into_hash_keyed_cache():
    path = ensure_mechanisms()
    assert path.parent == cache_dir() / "mechanisms" and path.name == mechanism_hash()
    assert (path / ".complete").exists()
    assert ensure_mechanisms() == path


def test_input_cell_rate_matches_measured_fi_curve():
    # inputs are current densities in uA/cm2 (scale = nA per uA/cm2)
    X = np.array([[0.0], [0.5], [1.0], [2.0], [4.0]])
    sim = simulate(_single(), X)
    fi = fi_curve("wang_buzsaki")
    # a 200 ms count window quantises to 5 Hz
    np.testing.assert_allclose(sim.rates_Hz[:, 0], fi.rate(X[:, 0]), atol=6.0)
    assert sim.rates_Hz[0, 0] == 0.0


def test_excitatory_synapse_drives_and_inhibitory_silences():
    k = nA_per_uA_cm2(AREA)
    cells = (Cell(0, "input", 0, "wang_buzsaki", "glutamate"),
             Cell(1, "input", 0, "wang_buzsaki", "gaba"),
             Cell(2, "output", 1, "wang_buzsaki", "glutamate", bias_nA=1.0 * k))
    base = Circuit("t", cells, (), (0, 1), (2,), Encoding(scale_nA=2 * k), soma_area_um2=AREA)
    # 1 nS peak at ~100 Hz: a mean current of a few uA/cm2 (far stronger synapses push a
    # point cell into depolarisation block)
    exc = base.with_connections([Connection(0, 2, "AMPA", 0.001)])
    inh = base.with_connections([Connection(1, 2, "GABA_A", 0.003)])
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    r0 = simulate(base, X).rates_of((2,))[:, 0]
    re = simulate(exc, X).rates_of((2,))[:, 0]
    ri = simulate(inh, X).rates_of((2,))[:, 0]
    assert r0[0] == pytest.approx(r0[1]) and r0[0] > 20  # no synapse: bias only
    assert re[1] > re[0] + 20  # excitatory input raises the rate
    assert ri[2] < ri[0] - 20  # inhibitory input lowers it


def test_rebuilt_circuits_with_odd_ids_do_not_crash():
    k = nA_per_uA_cm2(AREA)
    cells = (Cell(1001, "input", 0, "wang_buzsaki", "glutamate"),
             Cell(77, "hidden", 1, "wang_buzsaki", "glutamate"),
             Cell(3, "output", 2, "hh", "glutamate"))
    conns = (Connection(1001, 77, "AMPA", 0.002), Connection(77, 3, "AMPA", 0.05),
             Connection(999, 3, "GABA_A", 0.1),  # pre cell missing
             Connection(77, 12345, "AMPA", 0.1))  # post cell missing
    c = Circuit("t", cells, conns, input_cells=(1001, -1, 1001), output_cells=(3, -1, 77, 77),
                encoding=Encoding(scale_nA=2 * k), soma_area_um2=AREA)
    X = np.array([[1.0, 5.0, 1.0], [0.0, 5.0, 0.0]])
    sim = simulate(c, X)
    out = sim.rates_of(c.output_cells)
    assert out.shape == (2, 4)
    assert np.all(out[:, 1] == 0)  # -1: no segment, reads 0 Hz
    np.testing.assert_array_equal(out[:, 2], out[:, 3])  # a merged id read twice
    assert out[0, 2] > 0 and out[1, 2] == 0  # the input drives the hidden cell


def test_same_circuit_twice_identical_spikes():
    k = nA_per_uA_cm2(AREA)
    cells = (Cell(0, "input", 0, "wang_buzsaki", "glutamate"),
             Cell(1, "hidden", 1, "wang_buzsaki", "gaba", 0.5 * k),
             Cell(2, "output", 2, "wang_buzsaki", "glutamate", 1.5 * k))
    c = Circuit("t", cells, (Connection(0, 1, "AMPA", 0.001), Connection(1, 2, "GABA_A", 0.002)),
                (0,), (2,), Encoding(scale_nA=2 * k), soma_area_um2=AREA)
    X = np.array([[0.3], [1.0]])
    a = simulate(c, X, record_spikes=True)
    b = simulate(c, X, record_spikes=True)
    np.testing.assert_array_equal(a.rates_Hz, b.rates_Hz)
    for sa, sb in zip(a.spike_times, b.spike_times):
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)
    assert sum(len(x) for x in a.spike_times[1]) > 10


def test_temporal_inputs_play_bin_by_bin():
    X = np.array([[[0.0], [2.0], [0.0], [1.0]]])  # one sequence, 4 bins
    sim = simulate(_single(readout=Readout(bin_ms=150.0, window_ms=100.0)), X)
    r = sim.rates_Hz[0, :, 0]
    fi = fi_curve("wang_buzsaki")
    np.testing.assert_allclose(r, fi.rate(X[0, :, 0]), atol=11.0)
    assert r[0] == 0 and r[2] == 0 and r[1] > r[3] > 0


def test_bad_input_shape_is_a_clear_error():
    with pytest.raises(ConfigError, match="input columns"):
        simulate(_single(), np.zeros((3, 2)))
