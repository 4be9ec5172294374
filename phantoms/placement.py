"""Soma placement: layers side by side along one axis, a minimum spacing between somata."""

from __future__ import annotations

import numpy as np

from .config import GrowthConfig, GrowthError
from .channels import soma_radius_factor, tonic_drive
from .spec import CircuitSpec

_CANDIDATES = 48  # best-candidate sampling: spreads somata far better than first-fit


def place_somata(spec: CircuitSpec, cfg: GrowthConfig, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Soma centres and radii (nm) for the cells of ``spec``, in the order of ``spec.cells``.

    Layers (input -> hidden -> output) occupy consecutive bands along ``cfg.layer_axis``, each
    as wide as its share of cells (plus one, so small layers keep room); within its band a
    soma goes to the best of a few random candidates (farthest from the somata already placed),
    at least ``min_soma_spacing_nm`` (and the two radii plus the gap) from every other centre.
    With ``soma_rind_nm > 0`` every soma also lies within that distance of the block's z = 0 face.

    Raises
    ------
    GrowthError
        If a soma cannot be placed (block too small or too crowded), naming the cell.
    """
    rng = np.random.default_rng(rng)
    block = np.asarray(cfg.block_nm)
    layers = sorted({c.layer for c in spec.cells})
    counts = np.array([sum(c.layer == layer for c in spec.cells) + 1 for layer in layers], float)
    edges = np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])
    rank = {layer: i for i, layer in enumerate(layers)}
    ax = cfg.layer_axis
    centers = np.zeros((len(spec.cells), 3))
    radii = np.zeros(len(spec.cells))
    for i, cell in enumerate(spec.cells):
        # the size principle: the soma follows the cell's tonic drive as far as
        # excitability_morphology_correlation says (phantoms/channels.py)
        r = cfg.soma_radius_nm * soma_radius_factor(tonic_drive(vars(cell)), cfg, rng.uniform(-1.0, 1.0))
        pad = r + cfg.block_margin_nm + 0.5 * cfg.dendrite_radius_nm
        lo = np.full(3, pad)
        hi = block - pad
        span = block[ax] - 2 * pad
        k = rank[cell.layer]
        lo[ax], hi[ax] = pad + edges[k] * span, pad + edges[k + 1] * span
        if cfg.soma_rind_nm > 0 and ax != 0:  # somata in a rind along z, outside the neuropil
            hi[0] = min(hi[0], cfg.soma_rind_nm - r)
        if np.any(hi < lo):
            raise GrowthError(f"cell {cell.id}: block_nm {tuple(block)} is too small for a soma of "
                              f"radius {r:.0f} nm in layer band {k} of {len(layers)}")
        best, best_margin = None, -np.inf
        for _ in range(40):  # rounds of candidates; most cells settle in the first
            cand = rng.uniform(lo, hi, size=(_CANDIDATES, 3))
            if i == 0:
                best, best_margin = cand[0], 0.0
                break
            dist = np.linalg.norm(cand[:, None, :] - centers[None, :i], axis=2)
            need = np.maximum(cfg.min_soma_spacing_nm, r + radii[:i] + cfg.extracellular_gap_nm)
            margin = np.min(dist - need[None, :], axis=1)
            j = int(np.argmax(margin))
            if margin[j] > best_margin:
                best, best_margin = cand[j], margin[j]
            if best_margin >= 0:
                break
        if best_margin < 0:
            raise GrowthError(f"cell {cell.id}: no room for its soma in layer band {k} "
                              f"with min_soma_spacing_nm={cfg.min_soma_spacing_nm}; enlarge block_nm")
        centers[i] = best
        radii[i] = r
    return centers, radii
