"""Per-cell fluorescent barcodes: each cell expresses a random k-of-N subset, unique per cell."""

from __future__ import annotations

import itertools
import math

import numpy as np

from .config import GrowthError


def assign_barcodes(cell_ids, n_proteins: int, k: int, rng=None) -> dict[int, np.ndarray]:
    """Draw a distinct k-of-N bit string for every cell.

    Parameters
    ----------
    cell_ids : sequence of int
    n_proteins, k : int
        N tagged proteins, k expressed per cell.
    rng : np.random.Generator | int | None

    Returns
    -------
    dict
        cell id -> (N,) uint8 array with exactly ``k`` ones; no two cells share one.
    """
    rng = np.random.default_rng(rng)
    cell_ids = list(cell_ids)
    total = math.comb(n_proteins, k)
    if total < len(cell_ids):
        raise GrowthError(f"barcodes: C(barcode_proteins={n_proteins}, barcode_k={k}) = {total} "
                          f"combinations cannot label {len(cell_ids)} cells uniquely")
    if total <= 200_000:
        combos = list(itertools.combinations(range(n_proteins), k))
        picks = rng.choice(total, size=len(cell_ids), replace=False)
        chosen = [combos[int(i)] for i in picks]
    else:
        seen: set[tuple[int, ...]] = set()
        chosen = []
        while len(chosen) < len(cell_ids):
            c = tuple(sorted(int(v) for v in rng.choice(n_proteins, size=k, replace=False)))
            if c not in seen:
                seen.add(c)
                chosen.append(c)
    out = {}
    for cid, combo in zip(cell_ids, chosen):
        bits = np.zeros(n_proteins, np.uint8)
        bits[list(combo)] = 1
        out[int(cid)] = bits
    return out
