"""Dense neuropil around a grown circuit: background cells, their synapses, and the fill calibration.

:func:`densify` takes the sparse circuit phantom and returns it packed: background neurites
(:mod:`phantoms.background`), decoy synapses among them, and ``packing`` (``fill_nm``, ``gap_nm``)
calibrated so that the block's extracellular volume fraction meets ``cfg.ecs_fraction``.  The
labels follow the nearest-surface rule of :mod:`phantoms.rasterize`; docs/tissue.md says why.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .background import grow_background
from .barcodes import assign_barcodes
from .collision import CapsuleIndex
from .config import GrowthError
from .decoys import background_synapses
from .phantom import Phantom

_CALIBRATION_VOXELS = 400_000
_MIN_GAP_NM = 8.0  # two membranes' worth: the narrowest extracellular band drawn


def densify(ph: Phantom, index: CapsuleIndex, rng) -> Phantom:
    """Pack ``ph`` (grown with ``index``) into dense neuropil; see the module docstring."""
    cfg = ph.cfg
    r_grow, r_syn, r_code = rng.spawn(3)
    first = (max(ph.cell_ids, default=0) // 1000 + 1) * 1000
    cells = grow_background(cfg, index, first, cfg.fill_max_nm, r_grow)
    bg_ids = tuple(c.cid for c in cells)
    codes = dict(ph.barcodes)
    for cid, bits in zip(bg_ids, _random_codes(len(cells), cfg, r_code)):
        codes[cid] = bits
    gap = cfg.extracellular_gap_nm
    syn, ves, ves_syn = background_synapses(cells, index, cfg, ph, r_syn)
    packed = replace(ph, background_ids=bg_ids, background_skeletons=tuple(c.arbor.skeleton() for c in cells),
                     background_classes=tuple(c.cell_class for c in cells),
                     background_excitatory=tuple(c.excitatory for c in cells),
                     background_transmitters=tuple(c.transmitter for c in cells), barcodes=codes,
                     packing={"fill_nm": cfg.fill_max_nm, "gap_nm": gap})
    fill, gap, reached = calibrate_packing(packed, cfg.ecs_fraction, gap, cfg.fill_max_nm)
    if abs(reached - cfg.ecs_fraction) > 0.01:
        raise GrowthError(f"ecs_fraction: {cfg.ecs_fraction} is not reachable, the packing reaches "
                          f"{reached:.3f} (raise background_*_um_per_um3 or fill_max_nm)")
    return replace(packed, packing={"fill_nm": float(fill), "gap_nm": float(gap),
                                    "ecs_fraction_target": float(cfg.ecs_fraction),
                                    "ecs_fraction_calibrated": float(reached)},
                   synapses=syn, vesicles_nm=ves, vesicle_synapse=ves_syn,
                   meta={**ph.meta, "background_cells": len(cells),
                         "background_synapses": int(len(syn) - len(ph.synapses))})


def _random_codes(n: int, cfg, rng) -> list[np.ndarray]:
    """k-of-N barcodes for background cells: random, and (as in real tissue) not unique."""
    out = []
    for _ in range(n):
        bits = np.zeros(cfg.barcode_proteins, np.uint8)
        bits[rng.choice(cfg.barcode_proteins, size=cfg.barcode_k, replace=False)] = 1
        out.append(bits)
    return out


def calibrate_packing(ph: Phantom, target: float, gap: float, fill_max: float):
    """``(fill_nm, gap_nm, fraction)`` at which the block's extracellular fraction is ``target``.

    The fraction is measured on a lattice of about ``_CALIBRATION_VOXELS`` voxel centres over the
    whole block (an unbiased point sample of the volume).  ``fill_nm`` is found by bisection.  If
    even ``fill_max`` leaves more than ``target`` (the gap bands alone hold more, as in
    chemically fixed tissue, where membranes come closer), the gap narrows in proportion, to at
    least ``_MIN_GAP_NM``.
    """
    from .rasterize import _Grid, dense_depth, nearest_surfaces, primitives

    block = np.asarray(ph.block_size_nm, float)
    vox = float((np.prod(block) / _CALIBRATION_VOXELS) ** (1.0 / 3.0)) * 1.0137  # off the growth step
    shape = np.maximum(1, np.floor(block / vox)).astype(int)
    g = _Grid(ph.block_origin_nm, shape, block / shape)
    s1, _, s2, _ = nearest_surfaces(primitives(ph), g)

    def ecs(fill, w):
        return float(np.mean(dense_depth(s1, s2, fill, w) <= 0))

    for _ in range(4):
        densest = ecs(fill_max, gap)
        if densest <= target or gap <= _MIN_GAP_NM:
            break
        gap = max(_MIN_GAP_NM, gap * (target / densest) * 0.95)
    lo, hi = 0.0, float(fill_max)
    if ecs(hi, gap) >= target:
        return hi, gap, ecs(hi, gap)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if ecs(mid, gap) > target:
            lo = mid
        else:
            hi = mid
    return hi, gap, ecs(hi, gap)
