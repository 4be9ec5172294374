"""Recording voltages: a run already made supplies every copy not recorded, and is checked."""

import numpy as np
import pytest

from pretty_printer.circuit.cellmodels import nA_per_uA_cm2
from pretty_printer.circuit.description import Cell, Circuit, Connection, Encoding
from pretty_printer.errors import SimulationError
from pretty_printer.sim.neuron_backend import simulate
from pretty_printer.sim.recording import record_activity

AREA = 1000.0


def _circuit() -> Circuit:
    k = nA_per_uA_cm2(AREA)
    cells = (Cell(0, "input", 0, "wang_buzsaki", "glutamate"),
             Cell(1, "output", 1, "wang_buzsaki", "glutamate", 0.5 * k))
    return Circuit("t", cells, (Connection(0, 1, "AMPA", 0.002),), (0,), (1,), Encoding(scale_nA=2 * k),
                   soma_area_um2=AREA)


def test_recording_from_an_earlier_run_equals_recording_alone():
    c, X = _circuit(), np.array([[0.2], [1.0], [0.6], [1.4], [0.0]])
    alone = record_activity(c, X, v_cells=(1,), n_v_copies=2)
    reused = record_activity(c, X, v_cells=(1,), n_v_copies=2, simulated=simulate(c, X, record_spikes=True))
    np.testing.assert_array_equal(alone.rates_Hz, reused.rates_Hz)
    np.testing.assert_array_equal(alone.v_mV[1], reused.v_mV[1])
    for sa, sb in zip(alone.spike_times_ms, reused.spike_times_ms):
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)
    assert alone.rates_Hz[:, 0, 1].max() > 0 and alone.v_mV[1].shape[0] == 2


def test_a_run_of_other_inputs_is_refused():
    c, X = _circuit(), np.array([[0.2], [1.0], [0.6]])
    other = simulate(c, X[::-1], record_spikes=True)  # the same samples in another order
    with pytest.raises(SimulationError, match="simulated: expected"):
        record_activity(c, X, v_cells=(1,), n_v_copies=2, simulated=other)
    with pytest.raises(SimulationError, match="simulated: expected"):
        record_activity(c, X, v_cells=(1,), n_v_copies=1, simulated=simulate(c, X[:2], record_spikes=True))
