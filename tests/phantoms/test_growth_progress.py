"""grow(progress=...) reports dendrites and synapses and does not change the phantom."""

import numpy as np

import phantoms
from phantoms.examples import xor_spec


def test_progress_callback_counts_to_total_and_changes_nothing(tiny):
    """Grown with a callback, the session's ``tiny`` phantom (same spec, config and seed, grown
    without one) comes out the same."""
    calls = []
    a = phantoms.grow(xor_spec(0), phantoms.GrowthConfig(), 0, progress=lambda *c: calls.append(c))
    b = tiny
    n = len(xor_spec(0).cells)
    assert calls[0] == ("dendrites", n, n)
    syn = [c for c in calls if c[0] == "synapses"]
    assert [c[1] for c in syn] == list(range(1, syn[0][2] + 1)) and syn[-1][1] == syn[-1][2]
    assert np.array_equal(a.soma_centers, b.soma_centers)
    assert all(np.array_equal(a.synapses.data[k], b.synapses.data[k]) for k in a.synapses.data)
