"""The f-I surface under conductance load: known answers against NEURON itself."""

import numpy as np

from pretty_printer.circuit.cellmodels import FIProtocol, get_cell_model
from pretty_printer.sim.fi import fi_curve, fi_surface
from pretty_printer.sim.membrane import measure_fi


def test_surface_without_load_is_the_fi_curve():
    surface, fi = fi_surface("wang_buzsaki"), fi_curve("wang_buzsaki")
    np.testing.assert_array_equal(surface.rate_Hz[0], fi.rate_Hz)
    assert surface.v_ref_mV == fi.v_mean(fi.threshold_uA_cm2)
    # grid points are returned exactly; load raises rheobase (a shunt)
    g = surface.conductance_mS_cm2
    np.testing.assert_allclose(surface.rate(surface.current_uA_cm2[40], g[7]), surface.rate_Hz[7, 40])
    first = [np.flatnonzero(row > 0)[0] for row in surface.rate_Hz]
    assert first[-1] > first[0] and np.all(np.diff(first) >= 0)


def test_tonic_gabaa_cell_fires_at_the_surface_rate():
    # a cell with tonic GABA_A (-80 mV) and an injected current I: exactly a current
    # I + g (-80 - v_ref) under a conductance g reversing at v_ref
    surface = fi_surface("wang_buzsaki")
    v_ref, g = surface.v_ref_mV, surface.conductance_mS_cm2[10]
    currents = np.array([3.5, 4.5, 5.5])
    measured = measure_fi(get_cell_model("wang_buzsaki"), currents, FIProtocol(),
                          shunt_mS_cm2=g, shunt_e_mV=-80.0)
    predicted = surface.rate(currents + g * (-80.0 - v_ref), g)
    assert measured.min() > 20.0
    np.testing.assert_allclose(measured, predicted, rtol=0.005)  # exact but for interpolation


def test_current_for_rate_inverts_the_surface():
    surface = fi_surface("wang_buzsaki")
    g = np.array([0.0, 0.03, 0.2, 0.45])
    current = np.array([1.0, 2.0, 3.0, 5.0])
    rate = surface.rate(current, g)
    assert rate.min() > 10.0
    np.testing.assert_allclose(surface.current_for_rate(rate, g), current, atol=1e-6)
