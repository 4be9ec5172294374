"""Tissue fields of the tonic channels: ``channel:<species>`` (see :mod:`phantoms.channels`).

A channel is a membrane protein, so its field lives on the plasma-membrane shell::

    channel:<s>[voxel] = g_s(cell) [pS/um^2] * membrane area in the voxel [um^2]

in pS of channel conductance per voxel (1 mS/cm^2 = 10 pS/um^2), where the membrane area is the
rasterized shell volume over its thickness: ``membrane * voxel_volume / membrane_nm``.  Each
cell's own shell is rasterized (``cell_membrane(cid)``), so voxels whose centre lies just outside
the cell still carry its channels, and where two cells' shells share a voxel both count: summed
over a cell the field is its total conductance of that species, whatever the voxel size.
"""

from __future__ import annotations

import numpy as np

from .channels import CHANNEL_SPECIES

CHANNEL_FIELDS = tuple(f"channel:{name}" for name in CHANNEL_SPECIES)
PS_UM2_PER_MS_CM2 = 10.0  # 1 mS/cm^2 = 1e-3 S / 1e8 um^2 = 10 pS/um^2


def channel_fields(ph, cell_membrane, voxel_nm, fields, cells=None) -> dict:
    """The requested ``channel:<species>`` fields (float32, pS per voxel) of one box.

    Parameters
    ----------
    ph : Phantom
    cell_membrane : callable
        ``cell_membrane(cid) -> (z, y, x) float32``: the ``membrane`` field of cell ``cid`` alone
        in the box (``rasterize`` passes it).
    voxel_nm : (3,) float
    fields : sequence of str
    cells : sequence of int, optional
        Only these cells.
    """
    wanted = [f for f in fields if f.startswith("channel:")]
    dens = {f: {c: float(np.mean(ph.channel_densities(c)[CHANNEL_SPECIES[f.split(":", 1)[1]].column]))
                for c in ph.cell_ids} for f in wanted}
    to_area = np.float32(np.prod(voxel_nm) / ph.cfg.membrane_nm * 1e-6)  # shell fraction -> um^2
    out = {}
    for c in (ph.cell_ids if cells is None else cells):
        if not any(dens[f][c] for f in wanted):
            continue
        area = cell_membrane(c) * to_area
        for f in wanted:
            if dens[f][c]:
                acc = out.setdefault(f, np.zeros(area.shape, np.float32))
                acc += np.float32(dens[f][c] * PS_UM2_PER_MS_CM2) * area
    return out
