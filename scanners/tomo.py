"""Parallel-beam tomography on slices: a sparse projector, its adjoint, and filtered back-projection.

The projector is pixel-driven with linear interpolation onto detector bins; back-projection is its
exact transpose.  The matrix for one slice geometry is shared by every slice of a stack, so a whole
slab of slices is projected with one sparse product, and it is built once per geometry (kept for
every later slab; ``_MAX_CACHED_NNZ`` bounds its memory, ~10 bytes per non-zero).  Angles are
handled in blocks, which keeps each product's temporaries small for large slices.
"""

from __future__ import annotations

import numpy as np
from scipy import fft, sparse

_MAX_NNZ_PER_BLOCK = 20_000_000
_MAX_CACHED_NNZ = 150_000_000  # 1.5 GB: every slice up to ~610 x 610 pixels at 200 angles


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

    def _matrix(self, start: int) -> sparse.csc_matrix:
        """The projector of one block of angles, (angles x n_u, ny x nx), built once per geometry.

        Every pixel feeds two neighbouring bins per angle, so the matrix is assembled directly in
        compressed-column form (no sort): pixel j's entries are bins ``a n_u + u0`` and ``+ 1`` of
        each angle ``a`` of the block, already in row order.
        """
        if self._cache is not None and start in self._cache:
            return self._cache[start]
        theta = np.deg2rad(self.angles_deg[start:start + self.block])
        k = len(theta)
        yc = np.arange(self.ny) - (self.ny - 1) / 2.0
        xc = np.arange(self.nx) - (self.nx - 1) / 2.0
        # (pixel, angle): detector coordinate of each pixel centre
        u = ((yc[:, None, None] * np.sin(theta)[None, None, :] + xc[None, :, None] * np.cos(theta)[None, None, :])
             .reshape(self.ny * self.nx, k) + (self.n_u - 1) / 2.0)
        u0 = np.floor(u)
        w1 = (u - u0).astype(np.float32)
        rows = u0.astype(np.int32) + (np.arange(k, dtype=np.int32) * self.n_u)[None, :]
        indices = np.stack([rows, rows + 1], axis=-1).reshape(-1)
        data = np.stack([1 - w1, w1], axis=-1).reshape(-1)
        indptr = np.arange(0, 2 * k * self.ny * self.nx + 1, 2 * k, dtype=np.int64)
        m = sparse.csc_matrix((data, indices, indptr), shape=(k * self.n_u, self.ny * self.nx))
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
