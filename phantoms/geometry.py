"""Small vector helpers: segment distances, directions, rotations (all (z, y, x), nm)."""

from __future__ import annotations

import numpy as np


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (a zero vector stays zero)."""
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def random_unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return unit(v)


def perpendicular(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random unit vector perpendicular to unit vector ``v``."""
    while True:
        w = rng.normal(size=3)
        w = w - np.dot(w, v) * v
        n = np.linalg.norm(w)
        if n > 1e-6:
            return w / n


def tilt(v: np.ndarray, angle_rad: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vector at ``angle_rad`` from unit vector ``v``, random azimuth."""
    p = perpendicular(v, rng)
    return unit(np.cos(angle_rad) * v + np.sin(angle_rad) * p)


def segment_distances(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> np.ndarray:
    """Closest distance between segment ``p0-p1`` and each segment ``q0[i]-q1[i]``.

    ``p0, p1``: (3,); ``q0, q1``: (M, 3).  Degenerate segments (points) are handled.
    Follows the clamped closest-point construction for two segments.
    """
    d1 = p1 - p0
    d2 = q1 - q0
    r = p0 - q0
    a = float(np.dot(d1, d1))
    e = np.einsum("ij,ij->i", d2, d2)
    f = np.einsum("ij,ij->i", d2, r)
    c = r @ d1
    b = d2 @ d1
    m = len(q0)
    s = np.zeros(m)
    t = np.zeros(m)
    eps = 1e-12
    e_pos = e > eps
    if a <= eps:
        # p is a point: project it on each q segment
        t = np.where(e_pos, np.clip(f / np.where(e_pos, e, 1.0), 0.0, 1.0), 0.0)
    else:
        denom = a * e - b * b
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(denom > eps, np.clip((b * f - c * e) / denom, 0.0, 1.0), 0.0)
            s = np.where(e_pos, s, np.clip(-c / a, 0.0, 1.0))
            t = np.where(e_pos, (b * s + f) / np.where(e_pos, e, 1.0), 0.0)
            lo = t < 0.0
            hi = t > 1.0
            s = np.where(lo & e_pos, np.clip(-c / a, 0.0, 1.0), s)
            s = np.where(hi & e_pos, np.clip((b - c) / a, 0.0, 1.0), s)
            t = np.clip(t, 0.0, 1.0)
    cp = p0[None, :] + s[:, None] * d1[None, :]
    cq = q0 + t[:, None] * d2
    return np.linalg.norm(cp - cq, axis=1)


def point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points ``p`` (M, 3) to segment ``a-b``."""
    d = b - a
    L2 = float(np.dot(d, d))
    if L2 == 0:
        return np.linalg.norm(p - a, axis=1)
    t = np.clip((p - a) @ d / L2, 0.0, 1.0)
    return np.linalg.norm(p - (a + t[:, None] * d), axis=1)


def within_block(points, block_nm, margin: float) -> bool:
    """True when every point (nm, shape (n, 3) or (3,)) lies at least ``margin`` nm inside ``[0, block_nm]``."""
    p = np.asarray(points, float).reshape(-1, 3)
    return bool(np.all(p >= margin) and np.all(p <= np.asarray(block_nm, float) - margin))
