"""Small circuits to grow in tests, benchmarks and docs (no trained network needed)."""

from __future__ import annotations

import numpy as np

from .spec import CellSpec, CircuitSpec, EdgeSpec


def layered_spec(n_in: int = 2, n_hidden: int = 5, n_out: int = 1, *, inhibitory_hidden: int = 1,
                 density: float = 1.0, rng=None) -> CircuitSpec:
    """A feed-forward circuit: inputs -> hidden (some GABAergic) -> outputs.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Population sizes; cell ids are 1.. in that order.
    inhibitory_hidden : int
        How many hidden cells are GABAergic (Dale's law: their edges use GABA_A).
    density : float
        Probability that each input->hidden and hidden->output edge exists (each hidden and
        output cell keeps at least one input).
    rng : np.random.Generator | int | None
        Draws edges and conductances (1-6 nS).
    """
    rng = np.random.default_rng(rng)
    cells = []
    cid = 1
    for role, n, layer in (("input", n_in, 0), ("hidden", n_hidden, 1), ("output", n_out, 2)):
        for j in range(n):
            exc = not (role == "hidden" and j >= n_hidden - inhibitory_hidden)
            cells.append(CellSpec(id=cid, role=role, layer=layer, excitatory=exc))
            cid += 1
    by_layer = [[c for c in cells if c.layer == k] for k in range(3)]
    edges = []
    for k in (1, 2):
        for post in by_layer[k]:
            pres = [pre for pre in by_layer[k - 1] if rng.random() < density]
            if not pres:
                pres = [by_layer[k - 1][int(rng.integers(len(by_layer[k - 1])))]]
            for pre in pres:
                receptor = "AMPA" if pre.excitatory else "GABA_A"
                edges.append(EdgeSpec(pre=pre.id, post=post.id,
                                      conductance_nS=float(rng.uniform(1.0, 6.0)), receptor=receptor))
    return CircuitSpec(cells=tuple(cells), edges=tuple(edges))


def xor_spec(rng=0) -> CircuitSpec:
    """The ``tiny`` scale: 2 inputs, 5 hidden (one GABAergic), 1 output, fully connected."""
    return layered_spec(2, 5, 1, inhibitory_hidden=1, density=1.0, rng=rng)
