"""Excitability as tonic channels: densities <-> currents, and NEURON cells that obey them."""

import numpy as np
import pytest

from pretty_printer.circuit.cellmodels import nA_per_uA_cm2
from pretty_printer.circuit.description import Cell, Circuit, Encoding
from pretty_printer.circuit.excitability import (CHANNEL_COLUMNS, DEFAULT_DENSITIES, densities_for_current,
                                                 tonic_current, with_densities)

AREA = 1000.0


@pytest.mark.parametrize("current", [-1.5, -0.2, 0.05, 0.7, 3.0])
@pytest.mark.parametrize("v", [-70.0, -60.0, -55.0])
def test_densities_reproduce_the_current_at_their_potential(current, v):
    d = densities_for_current(current, v)
    assert set(d) == set(CHANNEL_COLUMNS) and all(g >= 0 for g in d.values())
    assert sum(g > 0 for g in d.values()) == 1  # one species: cation leak up, tonic GABA_A down
    assert float(tonic_current(d, v)) == pytest.approx(current)
    # a conductance, not a current: less drive as V approaches the reversal potential
    assert abs(float(tonic_current(d, v + 5.0 * np.sign(current)))) < abs(current)


def test_default_densities_are_the_bare_membrane():
    assert DEFAULT_DENSITIES == {c: 0.0 for c in CHANNEL_COLUMNS}


def _cells(densities_list):
    cells = tuple(with_densities(Cell(i, "input", 0, "wang_buzsaki", "glutamate"), d)
                  for i, d in enumerate(densities_list))
    ids = tuple(c.id for c in cells)
    return Circuit("t", cells, (), input_cells=ids, output_cells=ids,
                   encoding=Encoding(scale_nA=nA_per_uA_cm2(AREA)), soma_area_um2=AREA)


def test_tonic_cation_leak_excites_and_tonic_gabaa_inhibits_in_neuron():
    from pretty_printer.sim.fi import fi_curve
    from pretty_printer.sim.neuron_backend import simulate

    fi = fi_curve("wang_buzsaki")
    v = float(fi.v_mean(1.0))
    c = _cells([DEFAULT_DENSITIES, densities_for_current(1.0, v), densities_for_current(2.0, v),
                densities_for_current(-1.0, v)])
    # every cell also gets 1 uA/cm2 injected (x = 1): the channels add to it
    r = simulate(c, np.ones((1, 4))).rates_Hz[0]
    assert r[1] > r[0] + 10 and r[2] > r[1]  # more cation leak: faster
    assert r[3] < r[0]  # tonic GABA_A: slower
    # at its operating point the cation leak acts like the current it was set for
    # (2 uA/cm2 in total); 200 ms windows quantise rates to 5 Hz
    assert r[1] == pytest.approx(float(fi.rate(2.0)), abs=0.15 * float(fi.rate(2.0)) + 5)
