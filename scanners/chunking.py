"""The chunk grid over an output volume, and the halo a chunk needs around it."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np


def normalize_chunk_shape(shape: Sequence[int], chunk_shape: Sequence[int] | None) -> tuple[int, ...]:
    """Clip ``chunk_shape`` to ``shape``; ``None`` means one chunk for the whole volume."""
    if chunk_shape is None:
        return tuple(int(s) for s in shape)
    if len(chunk_shape) != len(shape):
        raise ValueError(f"chunk_shape: expected {len(shape)} integers (z, y, x), got {tuple(chunk_shape)!r}")
    out = []
    for c, s in zip(chunk_shape, shape):
        if int(c) <= 0:
            raise ValueError(f"chunk_shape: expected positive integers, got {tuple(chunk_shape)!r}")
        out.append(min(int(c), int(s)))
    return tuple(out)


def iter_chunks(shape: Sequence[int], chunk_shape: Sequence[int] | None) -> Iterator[tuple[slice, ...]]:
    """Slices of each chunk of a regular grid over ``shape``, in C order (z slowest)."""
    cs = normalize_chunk_shape(shape, chunk_shape)
    ranges = [range(0, s, c) for s, c in zip(shape, cs)]
    for starts in np.ndindex(*[len(r) for r in ranges]):
        yield tuple(slice(r[i], min(r[i] + c, s)) for r, i, c, s in zip(ranges, starts, cs, shape))


def gaussian_halo(sigma_vox: Sequence[float], truncate: float = 4.0) -> tuple[int, ...]:
    """Halo that makes ``scipy.ndimage.gaussian_filter(truncate=...)`` exact inside a chunk.

    The filter's kernel radius is ``int(truncate * sigma + 0.5)``; a halo of that many voxels means
    every output voxel of the chunk sees exactly the same input values as in a whole-volume render.
    """
    return tuple(int(truncate * float(s) + 0.5) if s > 0 else 0 for s in sigma_vox)


def voxel_grid_origin(region_origin_nm: np.ndarray, voxel_nm: np.ndarray, start_vox: Sequence[int]) -> np.ndarray:
    """Origin (corner, nm) of the box whose first voxel has output index ``start_vox``."""
    return np.asarray(region_origin_nm, float) + np.asarray(start_vox, float) * np.asarray(voxel_nm, float)
