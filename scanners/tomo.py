"""Parallel-beam tomography on slices: a sparse projector, its adjoint, and filtered back-projection.

The projector is pixel-driven with linear interpolation onto detector bins; back-projection is its
exact transpose.  The matrix for one slice geometry is shared by every slice of a stack, so a whole
slab of slices is projected with one sparse product.  Angles are handled in blocks, which keeps the
matrix small for large slices.
"""

from __future__ import annotations

import numpy as np
from scipy import fft, sparse

_MAX_NNZ_PER_BLOCK = 20_000_000
_MAX_CACHED_NNZ = 60_000_000


class ParallelBeam:
    """Geometry of a parallel beam rotating about the z axis over slices of shape ``(ny, nx)``.

    Parameters
    ----------
    ny, nx : int
        Slice shape (square pixels).
    angles_deg : array
        Projection angles.
    """

    def __init__(self, ny: int, nx: int, angles_deg: np.ndarray):
        self.ny, self.nx = int(ny), int(nx)
        self.angles_deg = np.asarray(angles_deg, float)
        self.n_u = int(np.ceil(np.hypot(ny, nx))) + 3
        per_angle = 2 * ny * nx
        self.block = max(1, _MAX_NNZ_PER_BLOCK // per_angle)
        self._cache: dict[int, sparse.csr_matrix] | None = {} if per_angle * len(self.angles_deg) <= _MAX_CACHED_NNZ else None

    @property
    def n_angles(self) -> int:
        return len(self.angles_deg)

    def _matrix(self, start: int) -> sparse.csr_matrix:
        if self._cache is not None and start in self._cache:
            return self._cache[start]
        theta = np.deg2rad(self.angles_deg[start:start + self.block])
        yc = np.arange(self.ny) - (self.ny - 1) / 2.0
        xc = np.arange(self.nx) - (self.nx - 1) / 2.0
        u = (np.cos(theta)[:, None, None] * xc[None, None, :] + np.sin(theta)[:, None, None] * yc[None, :, None]
             + (self.n_u - 1) / 2.0)
        u0 = np.floor(u).astype(np.int64)
        w1 = (u - u0).astype(np.float32)
        a = np.arange(len(theta))[:, None, None] * self.n_u
        rows = np.concatenate([(a + u0).ravel(), (a + u0 + 1).ravel()])
        cols = np.tile(np.arange(self.ny * self.nx), 2 * len(theta))
        vals = np.concatenate([(1 - w1).ravel(), w1.ravel()])
        m = sparse.csr_matrix((vals, (rows, cols)), shape=(len(theta) * self.n_u, self.ny * self.nx))
        if self._cache is not None:
            self._cache[start] = m
        return m

    def project(self, stack: np.ndarray) -> np.ndarray:
        """Line sums (pixel units) of a (rows, ny, nx) stack: float32 (rows, n_angles, n_u)."""
        rows = stack.shape[0]
        flat = np.ascontiguousarray(stack.reshape(rows, -1).T, dtype=np.float32)
        out = np.empty((rows, self.n_angles, self.n_u), np.float32)
        for s in range(0, self.n_angles, self.block):
            m = self._matrix(s)
            k = m.shape[0] // self.n_u
            out[:, s:s + k, :] = (m @ flat).T.reshape(rows, k, self.n_u)
        return out

    def backproject(self, sino: np.ndarray) -> np.ndarray:
        """Transpose of :meth:`project`: (rows, n_angles, n_u) -> (rows, ny, nx)."""
        rows = sino.shape[0]
        acc = np.zeros((self.ny * self.nx, rows), np.float32)
        for s in range(0, self.n_angles, self.block):
            m = self._matrix(s)
            k = m.shape[0] // self.n_u
            acc += m.T @ np.ascontiguousarray(sino[:, s:s + k, :].reshape(rows, -1).T, dtype=np.float32)
        return acc.T.reshape(rows, self.ny, self.nx)

    def fbp(self, sino: np.ndarray, angle_step_rad: float) -> np.ndarray:
        """Filtered back-projection with the band-limited ramp filter (spatial-domain form).

        ``sino`` holds line integrals in pixel units; the result is the attenuation (or phase) per
        pixel, slice by slice.
        """
        n_pad = int(2 ** np.ceil(np.log2(2 * self.n_u)))
        k = np.arange(n_pad)
        k = np.minimum(k, n_pad - k)
        h = np.zeros(n_pad)
        h[0] = 0.25
        odd = k % 2 == 1
        h[odd] = -1.0 / (np.pi * k[odd]) ** 2
        ramp = np.real(fft.fft(h)).astype(np.float32)
        spec = fft.rfft(sino, n=n_pad, axis=-1, workers=2)
        filtered = fft.irfft(spec * ramp[: n_pad // 2 + 1], n=n_pad, axis=-1, workers=2)[..., : self.n_u]
        return self.backproject(filtered.astype(np.float32)) * np.float32(angle_step_rad)
