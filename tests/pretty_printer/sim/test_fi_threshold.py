"""The repetitive-firing threshold measured finer than the f-I grid (known bracket, both sides simulated)."""

import numpy as np

from pretty_printer.circuit.cellmodels import FIProtocol, get_cell_model
from pretty_printer.sim.fi import fi_curve, fi_threshold


def test_threshold_is_bracketed_by_the_grid_and_measured_on_both_sides():
    curve = fi_curve("hh")
    step = float(curve.current_uA_cm2[1] - curve.current_uA_cm2[0])
    threshold, resolution = fi_threshold("hh")
    # inside the grid step where firing starts, and much finer than it
    assert curve.threshold_uA_cm2 - step < threshold <= curve.threshold_uA_cm2
    assert 0 < resolution <= step / 10
    # re-simulated: the threshold fires repetitively, one resolution step below does not
    from pretty_printer.sim.membrane import measure_fi

    rates = measure_fi(get_cell_model("hh"), np.array([threshold - resolution, threshold]), FIProtocol())
    assert rates[0] == 0 and rates[1] > 0
