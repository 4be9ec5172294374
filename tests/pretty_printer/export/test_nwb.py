"""truth/activity.nwb: opens with pynwb, passes nwbinspector, reproduces the reference rates exactly."""

import numpy as np
import pytest

from pretty_printer.circuit.description import Circuit
from pretty_printer.export.nwb import output_rates, voltage_cells

pynwb = pytest.importorskip("pynwb")


def test_activity_nwb_reproduces_reference_rates_exactly(tiny_dataset):
    t = tiny_dataset / "truth"
    circuit = Circuit.load(t / "circuit.json")
    ref = np.load(t / "reference_activity.npz")
    rates = output_rates(t / "activity.nwb", circuit)
    np.testing.assert_array_equal(rates[:, 0], ref["output_rates"])


def test_recording_leaves_the_dynamics_as_simulate_makes_them(tiny_dataset):
    """generate writes reference_activity.npz and activity.nwb from one recorded run; recording
    voltages must leave every spike (so every rate) exactly as simulate() makes them, and a run
    of the first samples must give exactly the reference's first rows (samples are independent)."""
    from pretty_printer.errors import ConfigError
    from pretty_printer.export.nwb import record_for_nwb
    from pretty_printer.sim.neuron_backend import evaluate_circuit, simulate
    from pretty_printer.dataset.layout import Dataset

    t = tiny_dataset / "truth"
    circuit = Circuit.load(t / "circuit.json")
    task, ref = np.load(t / "task.npz"), np.load(t / "reference_activity.npz")
    X = task["X_test"][:24]
    rec, sim = record_for_nwb(circuit, X), simulate(circuit, X, record_spikes=True)
    assert rec.v_mV and all(v.shape[0] == 4 for v in rec.v_mV.values())
    np.testing.assert_array_equal(rec.rates_Hz[:, 0], sim.rates_Hz)
    for a, b in zip(rec.spike_times_ms, sim.spike_times):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    np.testing.assert_array_equal(sim.rates_of(circuit.output_cells), ref["output_rates"][:24])
    with pytest.raises(ConfigError, match="rates_Hz"):  # 24 rows given for 200 held-out samples
        evaluate_circuit(circuit, Dataset(tiny_dataset).task_data(), rates_Hz=sim.rates_Hz)


def test_activity_nwb_content(tiny_dataset):
    t = tiny_dataset / "truth"
    circuit = Circuit.load(t / "circuit.json")
    task = np.load(t / "task.npz")
    with pynwb.NWBHDF5IO(str(t / "activity.nwb"), "r") as io:
        nwb = io.read()
        assert len(nwb.units) == len(circuit.cells)
        assert list(nwb.units["cell_id"][:]) == [c.id for c in circuit.cells]
        assert len(nwb.trials) == len(task["X_test"])
        np.testing.assert_array_equal(nwb.trials["input_0"][:], task["X_test"][:, 0])
        np.testing.assert_array_equal(nwb.trials["label"][:], task["y_test"])
        np.testing.assert_array_equal(nwb.stimulus["task_inputs"].data[:], task["X_test"])
        for cid in voltage_cells(circuit):
            v = nwb.acquisition[f"soma_voltage_cell_{cid}"].data[:]
            assert v.min() < -60 and v.max() > 0  # rest and at least one spike peak, in mV


def test_activity_nwb_passes_nwbinspector(tiny_dataset):
    from nwbinspector import Importance, inspect_nwbfile

    msgs = list(inspect_nwbfile(nwbfile_path=str(tiny_dataset / "truth" / "activity.nwb")))
    critical = [m for m in msgs if m.importance in (Importance.CRITICAL, Importance.PYNWB_VALIDATION, Importance.ERROR)]
    assert not critical, [f"{m.check_function_name}: {m.message}" for m in critical]
