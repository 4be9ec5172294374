"""Phantoms built from explicit geometry, for tests with known answers (no growth)."""

from __future__ import annotations

import numpy as np

from .config import GrowthConfig
from .phantom import SWC_AXON, SWC_SOMA, Phantom, Skeleton, SynapseTable
from .spec import CellSpec, CircuitSpec


def cylinder_phantom(radius_nm: float, length_nm: float, *, axis=(0.0, 0.0, 1.0), center_nm=None,
                     overhang_nm: float | None = None, n_barcode_proteins: int = 4) -> Phantom:
    """One cell that is a straight cylinder of ``radius_nm`` crossing a block.

    The block is ``length_nm`` long along ``axis`` when ``axis`` is a coordinate axis, and the
    cylinder continues ``overhang_nm`` past both faces, so the block holds exactly a
    ``pi r^2 L`` cylinder (its round ends lie outside).  With a tilted ``axis`` the block is a
    cube that contains the whole capsule (volume ``pi r^2 L + 4/3 pi r^3``).

    The cell's "soma" is a sphere of the same radius at the cylinder's centre (inside it), so
    the skeleton is a valid SWC tree.
    """
    axis = np.asarray(axis, float)
    axis = axis / np.linalg.norm(axis)
    aligned = int(np.sum(np.abs(axis) > 1e-12)) == 1
    r, L = float(radius_nm), float(length_nm)
    if aligned:
        over = 2 * r + 10.0 if overhang_nm is None else float(overhang_nm)
        k = int(np.argmax(np.abs(axis)))
        size = np.full(3, 2 * r + 200.0)
        size[k] = L
        half = 0.5 * L + over
    else:
        size = np.full(3, float(np.max(np.abs(axis) * L)) + 2 * r + 200.0)
        half = 0.5 * L
    center = 0.5 * size if center_nm is None else np.asarray(center_nm, float)
    a, b = center - half * axis, center + half * axis
    n_seg = max(1, int(np.ceil(2 * half / 200.0)))
    pts = a + np.linspace(0.0, 1.0, n_seg + 1)[:, None] * (b - a)
    # node 0 is a soma sphere at the centre (inside the cylinder) so the skeleton is an SWC
    # tree; segments hanging off a soma node are not drawn, so the chain starts with a
    # zero-length stub at `a` and every piece of the cylinder is a drawn segment
    nodes = np.vstack([center[None], pts[:1], pts])
    parent = np.concatenate([[-1, 0], np.arange(1, n_seg + 2)])
    types = np.concatenate([[SWC_SOMA], np.full(n_seg + 2, SWC_AXON)]).astype(np.int8)
    sk = Skeleton(nodes, np.full(len(nodes), r), parent.astype(np.int64), types)
    cfg = GrowthConfig(block_nm=tuple(size), barcode_proteins=n_barcode_proteins, barcode_k=1,
                       axon_radius_nm=max(r, 10.0), membrane_nm=min(8.0, 0.5 * r))
    bits = np.zeros(n_barcode_proteins, np.uint8)
    bits[0] = 1
    return Phantom(cfg=cfg, spec=CircuitSpec(cells=(CellSpec(id=1, role="hidden", layer=1, excitatory=True),), edges=()),
                   cell_ids=(1,), soma_centers=center[None].copy(), soma_radii=np.array([r]), skeletons=(sk,),
                   synapses=SynapseTable.empty(), vesicles_nm=np.zeros((0, 4)), vesicle_synapse=np.zeros(0, np.int64),
                   barcodes={1: bits}, block_origin_nm=np.zeros(3), block_size_nm=size,
                   meta={"kind": "cylinder", "radius_nm": r, "length_nm": L})
