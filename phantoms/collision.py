"""A spatial hash of capsules, so that growth can ask "is this segment clear?" in O(local).

Every placed primitive (a soma sphere or a skeleton segment) is stored as a capsule with its
*largest* radius.  The rasterized shape of a segment (radius interpolated along it) lies inside
that capsule, so capsules kept ``gap`` apart guarantee shapes kept ``gap`` apart.
"""

from __future__ import annotations

import numpy as np

from .geometry import segment_distances


class CapsuleIndex:
    """Capsules of many cells in a uniform hash grid.

    Parameters
    ----------
    cell_nm : float
        Grid spacing.  A capsule is filed under every grid cell its bounding box touches.
    """

    def __init__(self, cell_nm: float = 400.0):
        self.h = float(cell_nm)
        self._a = np.zeros((1024, 3))
        self._b = np.zeros((1024, 3))
        self._r = np.zeros(1024)
        self._cid = np.zeros(1024, dtype=np.int64)
        self.n = 0
        self._grid: dict[tuple[int, int, int], list[int]] = {}

    def _keys(self, lo: np.ndarray, hi: np.ndarray):
        k0 = np.floor(lo / self.h).astype(int)
        k1 = np.floor(hi / self.h).astype(int)
        for i in range(k0[0], k1[0] + 1):
            for j in range(k0[1], k1[1] + 1):
                for k in range(k0[2], k1[2] + 1):
                    yield (i, j, k)

    def add(self, a, b, radius: float, cid: int) -> None:
        """File a capsule ``a-b`` of ``radius`` belonging to cell ``cid``."""
        if self.n == len(self._r):
            grow = len(self._r)
            self._a = np.concatenate([self._a, np.zeros((grow, 3))])
            self._b = np.concatenate([self._b, np.zeros((grow, 3))])
            self._r = np.concatenate([self._r, np.zeros(grow)])
            self._cid = np.concatenate([self._cid, np.zeros(grow, dtype=np.int64)])
        a = np.asarray(a, float)
        b = np.asarray(b, float)
        i = self.n
        self._a[i], self._b[i], self._r[i], self._cid[i] = a, b, radius, cid
        self.n += 1
        lo = np.minimum(a, b) - radius
        hi = np.maximum(a, b) + radius
        for key in self._keys(lo, hi):
            self._grid.setdefault(key, []).append(i)

    def near(self, lo, hi) -> np.ndarray:
        """Indices of the capsules filed under the grid cells that ``[lo, hi]`` touches."""
        found: list[int] = []
        for key in self._keys(np.asarray(lo, float), np.asarray(hi, float)):
            lst = self._grid.get(key)
            if lst:
                found.extend(lst)
        return np.unique(np.asarray(found, dtype=np.int64))

    def capsules(self, idx) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(a, b, radius, cid)`` of capsules ``idx``."""
        return self._a[idx], self._b[idx], self._r[idx], self._cid[idx]

    def clearance(self, a, b, radius: float, cid: int, gap: float) -> float:
        """Least ``distance - radii - gap`` to capsules of *other* cells near ``a-b``.

        Positive means clear.  Returns ``inf`` when nothing is near.
        """
        a = np.asarray(a, float)
        b = np.asarray(b, float)
        reach = radius + gap
        lo = np.minimum(a, b) - reach
        hi = np.maximum(a, b) + reach
        found: list[int] = []
        for key in self._keys(lo, hi):
            lst = self._grid.get(key)
            if lst:
                found.extend(lst)
        if not found:
            return np.inf
        idx = np.unique(np.asarray(found))
        idx = idx[self._cid[idx] != cid]
        if len(idx) == 0:
            return np.inf
        d = segment_distances(a, b, self._a[idx], self._b[idx])
        return float(np.min(d - self._r[idx] - radius - gap))


def extra_clearance(a, b, radius: float, gap: float, extra: list[tuple]) -> float:
    """Like :meth:`CapsuleIndex.clearance` against an explicit list of ``(a, b, r)`` capsules."""
    if not extra:
        return np.inf
    qa = np.array([e[0] for e in extra], float)
    qb = np.array([e[1] for e in extra], float)
    qr = np.array([e[2] for e in extra], float)
    d = segment_distances(np.asarray(a, float), np.asarray(b, float), qa, qb)
    return float(np.min(d - qr - radius - gap))
