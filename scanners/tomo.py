"""Parallel-beam tomography on slices: a projector, its adjoint, and filtered back-projection.

The projector is pixel-driven with linear interpolation onto detector bins; back-projection is its
exact transpose.  Its definition is a sparse matrix per block of angles
(:meth:`ParallelBeam.matrix_block`); the products are computed without storing it
(:mod:`scanners.tomo_kernel`: each pixel's bin is recomputed where it is used, and every element is
summed in the sparse products' order, so the results are the same bits).  A 500 x 500 slice at 200
angles has 100 M non-zeros (~1 GB): stored, it was the largest thing in a worker.  Back-projection
adds its angles in blocks (``_MAX_NNZ_PER_BLOCK`` non-zeros each, the blocks the sparse path used),
which fixes its float32 summation order.
"""

from __future__ import annotations

import numpy as np
from scipy import fft, sparse

from .tomo_kernel import backproject_rows, project_rows

_MAX_NNZ_PER_BLOCK = 20_000_000  # angles per block: this // (2 ny nx); sets back-projection's sum order


class ParallelBeam:
    """Geometry of a parallel beam rotating about the z axis over slices of shape ``(ny, nx)``.

    Parameters
    ----------
    ny, nx : int
        Slice shape (square pixels).
    angles_deg : array
        Projection angles.
    block : int, optional
        Angles per block (default: ``_MAX_NNZ_PER_BLOCK // (2 ny nx)``, at least 1).
    """

    def __init__(self, ny: int, nx: int, angles_deg: np.ndarray, block: int | None = None):
        self.ny, self.nx = int(ny), int(nx)
        self.angles_deg = np.asarray(angles_deg, float)
        self.n_u = int(np.ceil(np.hypot(ny, nx))) + 3
        self.block = max(1, _MAX_NNZ_PER_BLOCK // (2 * ny * nx)) if block is None else max(1, int(block))

    @property
    def n_angles(self) -> int:
        return len(self.angles_deg)

    def _trig(self):
        """Pixel-centre offsets (float64) and sin, cos of every angle, each block's as
        :meth:`matrix_block` computes them."""
        theta = [np.deg2rad(self.angles_deg[s:s + self.block]) for s in range(0, self.n_angles, self.block)]
        yc = np.arange(self.ny) - (self.ny - 1) / 2.0
        xc = np.arange(self.nx) - (self.nx - 1) / 2.0
        return yc, xc, np.concatenate([np.sin(t) for t in theta]), np.concatenate([np.cos(t) for t in theta])

    def matrix_block(self, start: int) -> sparse.csc_matrix:
        """The projector of the block of angles from ``start``: (angles x n_u, ny x nx), float32.

        The definition the compiled products follow (and the tests' reference).  Every pixel feeds
        two neighbouring bins per angle, so the matrix is assembled directly in compressed-column
        form: pixel j's entries are bins ``a n_u + u0`` and ``+ 1`` of each angle ``a`` of the
        block, in row order, with weights ``1 - w1`` and ``w1``
        (``u = y sin + x cos + (n_u - 1) / 2`` in float64, ``u0 = floor(u)``, ``w1 = float32(u - u0)``).
        """
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
        return sparse.csc_matrix((data, indices, indptr), shape=(k * self.n_u, self.ny * self.nx))

    def project(self, stack: np.ndarray) -> np.ndarray:
        """Line sums (pixel units) of a (rows, ny, nx) stack: float32 (rows, n_angles, n_u).

        The product of :meth:`matrix_block` with the stack's pixels (same bits), matrix-free.
        """
        rows = stack.shape[0]
        flat = np.ascontiguousarray(stack.reshape(rows, -1).T, dtype=np.float32)
        out = np.zeros((self.n_angles * self.n_u, rows), np.float32)
        yc, xc, sin, cos = self._trig()
        project_rows(flat, yc, xc, sin, cos, (self.n_u - 1) / 2.0, self.n_u, out)
        return np.ascontiguousarray(out.T).reshape(rows, self.n_angles, self.n_u)

    def backproject(self, sino: np.ndarray) -> np.ndarray:
        """Transpose of :meth:`project`: (rows, n_angles, n_u) -> float32 (rows, ny, nx)."""
        rows = sino.shape[0]
        flat = np.ascontiguousarray(sino.reshape(rows, -1).T, dtype=np.float32)
        acc = np.zeros((self.ny * self.nx, rows), np.float32)
        yc, xc, sin, cos = self._trig()
        backproject_rows(flat, yc, xc, sin, cos, (self.n_u - 1) / 2.0, self.n_u, self.block, acc)
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
