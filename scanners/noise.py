"""Chunk-independent randomness.

Image noise must not depend on how a volume is cut into chunks.  Two tools give that:

* *tiled draws*: the global voxel grid is cut into fixed noise tiles; each tile has its own
  generator, seeded from ``(seed, stream, tile index)``.  A chunk draws every tile it overlaps and
  keeps its part, so a voxel's variate depends only on its global index.
* *hashing*: a counter-based hash of integer coordinates, for small fields defined in tissue
  coordinates (texture lattices, per-cell constants).

Poisson counts come from one standard normal per voxel (a quantile transform), so the variate a
voxel gets does not depend on the mean of its neighbours, unlike ``Generator.poisson``.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np
from scipy import special

NOISE_TILE = (4, 128, 128)
_SMALL_MEAN = 12.0  # below this mean, exact inverse-CDF Poisson; above, a skew-corrected normal


def as_seed_sequence(seed: np.random.SeedSequence | int | None) -> np.random.SeedSequence:
    """Normalize a seed to a ``SeedSequence`` (an int or None seeds a fresh one)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed: expected a non-negative integer or SeedSequence, got {seed!r}")
    return np.random.SeedSequence(None if seed is None else int(seed))


def name_key(name: str) -> int:
    """A stable 32-bit integer for a stream name (order-free seed-tree branches)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def child_seed(seed: np.random.SeedSequence | int, *path: str | int) -> np.random.SeedSequence:
    """The child of ``seed`` at a named path, independent of the order children are asked for."""
    ss = as_seed_sequence(seed)
    keys = tuple(name_key(p) if isinstance(p, str) else int(p) for p in path)
    return np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + keys)


def child_rng(seed: np.random.SeedSequence | int, *path: str | int) -> np.random.Generator:
    """A Generator for a named path of the seed tree."""
    return np.random.default_rng(child_seed(seed, *path))


def seed_int(seed: np.random.SeedSequence | int, *path: str | int) -> int:
    """A 64-bit integer key for hashing, derived from the seed tree."""
    return int(child_seed(seed, *path).generate_state(1, np.uint64)[0])


def tiled_normal(
    seed: np.random.SeedSequence | int,
    stream: str,
    start: Sequence[int],
    shape: Sequence[int],
    tile: Sequence[int] = NOISE_TILE,
) -> np.ndarray:
    """Standard normal float32 variates for the box ``[start, start + shape)`` of a global grid.

    Parameters
    ----------
    seed : SeedSequence or int
        Root of this noise; ``stream`` names an independent stream under it.
    start, shape : sequences of int
        The box in global voxel indices (any dimensionality equal to ``len(tile)``).
    tile : sequence of int
        Noise-tile shape.  Fixed per stream: changing it changes the noise.

    Returns
    -------
    numpy.ndarray
        float32 array of ``shape``; voxel values depend only on (seed, stream, global index).
    """
    start = np.asarray(start, int)
    shape = np.asarray(shape, int)
    tile = np.asarray(tile, int)
    if start.shape != tile.shape or shape.shape != tile.shape:
        raise ValueError(f"start/shape: expected {len(tile)} dimensions, got {start.shape} and {shape.shape}")
    out = np.empty(tuple(shape), np.float32)
    if shape.prod() == 0:
        return out
    base = child_seed(seed, "noise", stream)
    t0 = start // tile
    t1 = (start + shape - 1) // tile
    for tidx in np.ndindex(*(t1 - t0 + 1)):
        ti = t0 + np.asarray(tidx)
        # zigzag keeps negative tile indices (halo rows above a region) distinct and non-negative
        key = tuple(2 * int(t) if t >= 0 else -2 * int(t) - 1 for t in ti)
        rng = np.random.default_rng(np.random.SeedSequence(base.entropy, spawn_key=tuple(base.spawn_key) + key))
        block = rng.standard_normal(tuple(tile), dtype=np.float32)
        lo = np.maximum(ti * tile, start)
        hi = np.minimum((ti + 1) * tile, start + shape)
        src = tuple(slice(a - t * s, b - t * s) for a, b, t, s in zip(lo, hi, ti, tile))
        dst = tuple(slice(a - s0, b - s0) for a, b, s0 in zip(lo, hi, start))
        out[dst] = block[src]
    return out


def poisson_from_normal(mean: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Poisson counts with the given means, one per standard-normal variate ``z``.

    Large means use the normal quantile with its first skewness correction,
    ``k = round(m + sqrt(m) z + (z^2 - 1) / 6)``; small means invert the Poisson CDF exactly at
    ``u = Phi(z)``.  Either way a count is a monotone function of its own ``z`` only.

    Returns
    -------
    numpy.ndarray
        float32 counts, same shape as ``mean``.
    """
    mean = np.asarray(mean, np.float32)
    z = np.asarray(z, np.float32)
    if np.any(mean < 0) or not np.all(np.isfinite(mean)):
        raise ValueError("poisson mean: expected finite values >= 0, got negative or non-finite values")
    out = np.sqrt(mean) * z
    out += mean
    out += (z * z - 1.0) * np.float32(1.0 / 6.0)
    np.rint(out, out=out)
    np.maximum(out, 0, out=out)
    small = mean < _SMALL_MEAN
    if small.any():
        m = mean[small].astype(np.float64)
        u = special.ndtr(z[small].astype(np.float64))
        out[small] = poisson_cdf_inverse(m, u, int(_SMALL_MEAN + 8 * np.sqrt(_SMALL_MEAN) + 10))
    return out


def poisson_cdf_inverse(m: np.ndarray, u: np.ndarray, kmax: int) -> np.ndarray:
    """The smallest ``k <= kmax`` with ``u <= CDF_Poisson(k; m)``, element-wise (float64 counts).

    The CDF is summed term by term in float64; since it only grows, a value whose ``u`` is
    reached is final, so each step carries on with the values still above their CDF only (the
    same sums, element for element, as stepping every value ``kmax`` times).
    """
    shape = np.shape(m)
    m, u = np.ravel(m), np.ravel(u)
    pmf = np.exp(-m)
    if m.dtype == np.float64 and u.dtype.kind == "f" and m.size:  # compiled, the same sums (noise_kernel.py)
        from .noise_kernel import poisson_cdf_inverse_flat

        u = np.ascontiguousarray(u, np.float64)  # exact: only compared with the float64 CDF
        return poisson_cdf_inverse_flat(np.ascontiguousarray(m), u, pmf, int(kmax)).reshape(shape)
    k = np.zeros(shape)
    idx = np.arange(k.size)
    cdf = pmf.copy()
    for j in range(kmax):
        above = u > cdf
        if not above.any():
            break
        if not above.all():
            idx, m, u, pmf, cdf = idx[above], m[above], u[above], pmf[above], cdf[above]
        k.flat[idx] += 1.0
        pmf = pmf * m / (j + 1)
        cdf = cdf + pmf
    return k


def hash_uniform(key: int, *coords: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) values from a counter-based hash of integer coordinates (splitmix64 rounds).

    ``coords`` broadcast against each other; the result depends only on ``key`` and the values.
    """
    shape = np.broadcast_shapes(*[np.shape(c) for c in coords])
    if len(coords) == 1 and len(shape) > 0:  # one coordinate array (e.g. per-voxel cell ids): compiled
        from .noise_kernel import hash_uniform_1d

        flat = np.asarray(coords[0]).astype(np.int64).ravel()
        return hash_uniform_1d(np.uint64(key & 0xFFFFFFFFFFFFFFFF), flat).reshape(shape)
    grid = _open_grid_3d(coords)
    if grid is not None:  # scalars, then an open (z, y, x) grid (e.g. per-voxel speckle): compiled
        from .noise_kernel import hash_grid_3d

        return hash_grid_3d(np.uint64(key & 0xFFFFFFFFFFFFFFFF), *grid)
    with np.errstate(over="ignore"):
        # element-wise rounds, so hashing open (broadcastable) coordinates hashes each prefix of
        # them once: a lattice's first axes cost nothing next to its last (same bits as full grids)
        h = np.asarray(np.uint64(key & 0xFFFFFFFFFFFFFFFF))
        for c in coords:
            h = h ^ (np.asarray(c).astype(np.int64).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15))
            h = _splitmix(h)
        h = np.broadcast_to(h, shape)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _open_grid_3d(coords):
    """``(prefix, z, y, x)`` int64 arrays if ``coords`` are scalars followed by the three axes of an
    open grid (shapes (n, 1, 1), (1, n, 1), (1, 1, n)), else None."""
    if len(coords) < 3 or not all(isinstance(c, (int, np.integer)) for c in coords[:-3]):
        return None
    axes = []
    for d, c in enumerate(coords[-3:]):
        c = np.asarray(c)
        if c.ndim != 3 or any(n != 1 for k, n in enumerate(c.shape) if k != d) or c.dtype.kind not in "iu":
            return None
        axes.append(np.ascontiguousarray(c.ravel().astype(np.int64)))
    prefix = np.array([int(np.int64(c)) for c in coords[:-3]], np.int64)
    return (prefix, *axes)


def _splitmix(h: np.ndarray) -> np.ndarray:
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def lattice_noise(key: int, axes_nm: Sequence[np.ndarray], length_nm: float) -> np.ndarray:
    """A smooth random field in tissue coordinates: hashed values on a lattice, interpolated.

    Parameters
    ----------
    key : int
        Hash key (from the seed tree).
    axes_nm : sequence of 1-D arrays
        Voxel-centre coordinates along each axis (nm, absolute tissue coordinates).
    length_nm : float
        Lattice spacing: the correlation length of the field.

    Returns
    -------
    numpy.ndarray
        float32 field of shape ``tuple(len(a) for a in axes_nm)``, values roughly uniform in
        [-1, 1]; the same at the same tissue coordinates whatever the box.
    """
    if len(axes_nm) == 3 and min(len(a) for a in axes_nm) > 0:  # compiled, same bits (scanners/noise_kernel.py)
        from .noise_kernel import lattice_noise_3d

        return lattice_noise_3d(np.uint64(key & 0xFFFFFFFFFFFFFFFF),
                                *(np.ascontiguousarray(a, np.float64).reshape(-1) for a in axes_nm), float(length_nm))
    idx0, frac, lo = [], [], []
    for a in axes_nm:
        t = np.asarray(a, np.float64) / length_nm
        i0 = np.floor(t).astype(np.int64)
        f = t - i0
        f = f * f * (3 - 2 * f)  # smoothstep: no kinks at lattice planes
        idx0.append(i0)
        frac.append(f.astype(np.float32))
        lo.append(int(i0.min()))
    grids = np.meshgrid(*[np.arange(l, int(i.max()) + 2) for l, i in zip(lo, idx0)], indexing="ij", sparse=True)
    field = (2.0 * hash_uniform(key, *grids) - 1.0).astype(np.float32)
    for ax, (i0, f, l) in enumerate(zip(idx0, frac, lo)):
        a = np.take(field, i0 - l, axis=ax)
        b = np.take(field, i0 - l + 1, axis=ax)
        shape = [1] * field.ndim
        shape[ax] = -1
        fr = f.reshape(shape)
        field = a + (b - a) * fr
    return field
