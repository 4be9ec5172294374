"""Artifacts drawn once per region, with their ground truth.

Every artifact is drawn for the whole region from its own named branch of the seed tree, before
any chunk is rendered, so chunks never depend on each other and the truth can be recomputed from
the seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import child_rng


# -- serial sections (EM) ---------------------------------------------------------------------
TEAR_FOLD, TEAR_CRACK = 0, 1


@dataclass(frozen=True)
class SectionArtifacts:
    """Per-section defects of a serial-section (or block-face) stack of ``n`` sections.

    ``shift_nm[k] = (dy, dx)``: pixel ``p`` of section ``k`` shows the tissue at ``p + shift``;
    undo it by sampling the image at ``p - shift``.  ``z_offset_nm[k]``: section ``k``'s centre
    lies this far from its nominal plane (uneven cutting: the thicknesses ``thickness_scale *
    voxel_z`` add up).  A *tear* (fold or crack) in section ``k`` splits the section along a line
    (point, unit normal ``n``, width ``w``); with ``d`` the signed distance of a pixel from the line:

    * fold: a strip ``[0, 2w)`` of tissue is doubled over into ``[0, w)``; pixels with ``d < 0``
      show tissue at ``p``, the band ``0 <= d < w`` shows two layers (``p`` and ``p + w n``), and
      pixels with ``d >= w`` show tissue at ``p + w n`` (the far side is displaced);
    * crack: the section splits and its far side slides away; ``0 <= d < w`` is empty resin and
      ``d >= w`` shows tissue at ``p - w n``.

    ``debris_*``: opaque dark particles lying on a section (centre, radius, section).
    ``focus``: per-section multiplier of the probe width (focus drift); ``brightness``: of the signal.
    """

    shift_nm: np.ndarray  # (n, 2)
    missing: np.ndarray  # (n,) bool
    z_offset_nm: np.ndarray  # (n,)
    thickness_scale: np.ndarray  # (n,)
    tear_section: np.ndarray  # (m,) int
    tear_kind: np.ndarray  # (m,) int: TEAR_FOLD or TEAR_CRACK
    tear_point_nm: np.ndarray  # (m, 2) absolute (y, x) tissue coordinates on the tear line
    tear_normal: np.ndarray  # (m, 2) unit normal of the tear line
    tear_width_nm: np.ndarray  # (m,)
    debris_section: np.ndarray  # (q,) int
    debris_center_nm: np.ndarray  # (q, 2) absolute (y, x) detector-frame coordinates
    debris_radius_nm: np.ndarray  # (q,)
    focus: np.ndarray  # (n,) probe-width multiplier
    brightness: np.ndarray  # (n,) multiplicative drift of the signal

    def layers(self, k: int, ys: np.ndarray, xs: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """How section ``k`` maps pixels to tissue: ``[(offset_yx_nm, mask (y, x) bool), ...]``.

        Pixel ``p`` (absolute (y, x) nm, ``ys`` and ``xs`` its axes, already shifted by
        misalignment) shows the tissue at ``p + offset`` wherever a layer's mask is true; where no
        mask is true the section holds no tissue, where two are the tissue is doubled (a fold).
        """
        full = np.ones((len(ys), len(xs)), bool)
        out = [(np.zeros(2), full)]
        for j in np.flatnonzero(self.tear_section == k):
            n, w = self.tear_normal[j], float(self.tear_width_nm[j])
            d = ((ys[:, None] - self.tear_point_nm[j, 0]) * n[0] + (xs[None, :] - self.tear_point_nm[j, 1]) * n[1])
            near, far = d < 0, d >= w
            if self.tear_kind[j] == TEAR_FOLD:
                new = [(o, m & ~far) for o, m in out] + [(o + w * n, m & (d >= 0)) for o, m in out]
            else:
                new = [(o, m & near) for o, m in out] + [(o - w * n, m & far) for o, m in out]
            out = [(o, m) for o, m in new if m.any()]
        return out

    def debris_mask(self, k: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """(y, x) bool: pixels of section ``k`` covered by debris (detector frame)."""
        mask = np.zeros((len(ys), len(xs)), bool)
        for j in np.flatnonzero(self.debris_section == k):
            c, r = self.debris_center_nm[j], float(self.debris_radius_nm[j])
            mask |= (ys[:, None] - c[0]) ** 2 + (xs[None, :] - c[1]) ** 2 < r * r
        return mask

    def max_tear_nm(self) -> float:
        return float(self.tear_width_nm.max()) if self.tear_width_nm.size else 0.0

    def truth(self) -> dict[str, np.ndarray]:
        fold = self.tear_kind == TEAR_FOLD
        crack = ~fold
        return {
            "section_shift_nm": self.shift_nm.astype(np.float64),
            "missing_sections": np.flatnonzero(self.missing).astype(np.int64),
            "section_z_offset_nm": self.z_offset_nm.astype(np.float64),
            "section_thickness_scale": self.thickness_scale.astype(np.float64),
            "fold_sections": self.tear_section[fold].astype(np.int64),
            "fold_point_nm": self.tear_point_nm[fold].astype(np.float64),
            "fold_normal": self.tear_normal[fold].astype(np.float64),
            "fold_width_nm": self.tear_width_nm[fold].astype(np.float64),
            "crack_sections": self.tear_section[crack].astype(np.int64),
            "crack_point_nm": self.tear_point_nm[crack].astype(np.float64),
            "crack_normal": self.tear_normal[crack].astype(np.float64),
            "crack_width_nm": self.tear_width_nm[crack].astype(np.float64),
            "debris_sections": self.debris_section.astype(np.int64),
            "debris_center_nm": self.debris_center_nm.astype(np.float64),
            "debris_radius_nm": self.debris_radius_nm.astype(np.float64),
            "section_focus": self.focus.astype(np.float64),
            "section_brightness": self.brightness.astype(np.float64),
        }


def _tears(seed, n: int, kind: int, rate: float, width_nm: float, region_origin_nm, region_size_nm, stream: str):
    rng = child_rng(seed, "artifacts", stream)
    sec = np.flatnonzero(rng.random(n) < rate)
    m = sec.size
    angle = rng.uniform(0, np.pi, m)
    point = region_origin_nm[1:] + rng.random((m, 2)) * region_size_nm[1:]
    normal = np.stack([np.cos(angle), np.sin(angle)], axis=1).reshape(m, 2)
    return sec, np.full(m, kind), point.reshape(m, 2), normal, np.full(m, float(width_nm))


def draw_section_artifacts(
    seed: np.random.SeedSequence,
    n_sections: int,
    region_origin_nm: np.ndarray,
    region_size_nm: np.ndarray,
    *,
    step_nm: float,
    jitter_nm: float,
    missing_rate: float,
    fold_rate: float,
    fold_width_nm: float,
    brightness_drift: float,
    thickness_cv: float = 0.0,
    section_nm: float = 0.0,
    crack_rate: float = 0.0,
    crack_width_nm: float = 0.0,
    debris_rate: float = 0.0,
    debris_radius_nm: float = 0.0,
    focus_drift: float = 0.0,
) -> SectionArtifacts:
    """Draw the defects of a section stack, each from its own named branch of the seed tree.

    Parameters
    ----------
    seed : SeedSequence
        The scanner seed; each artifact uses its own named child.
    n_sections : int
    region_origin_nm, region_size_nm : arrays (3,)
        The imaged region (tears and debris are placed inside it).
    step_nm, jitter_nm : float
        Std of the random-walk step between sections and of the independent per-section jitter.
    missing_rate, fold_rate, crack_rate : float
        Probability that a section is lost / folded / cracked.
    fold_width_nm, crack_width_nm : float
        Width of the doubled-over band of a fold / of the gap a crack opens.
    brightness_drift, focus_drift : float
        Std of the per-section relative step of a brightness / probe-width random walk.
    thickness_cv : float
        Coefficient of variation of the cut thickness (``section_nm`` nominal); section centres
        follow the cumulative thicknesses (the stack's mean position is kept).
    debris_rate : float
        Expected debris particles per section; radii exponential with mean ``debris_radius_nm``.

    Returns
    -------
    SectionArtifacts
    """
    n = int(n_sections)
    rng = child_rng(seed, "artifacts", "misalignment")
    walk = np.cumsum(rng.normal(0.0, 1.0, (n, 2)), axis=0) * step_nm
    shift = walk + rng.normal(0.0, 1.0, (n, 2)) * jitter_nm
    shift -= shift.mean(axis=0) if n else 0.0  # the stack as a whole stays put
    missing = child_rng(seed, "artifacts", "missing").random(n) < missing_rate
    folds = _tears(seed, n, TEAR_FOLD, fold_rate, fold_width_nm, region_origin_nm, region_size_nm, "folds")
    cracks = _tears(seed, n, TEAR_CRACK, crack_rate, crack_width_nm, region_origin_nm, region_size_nm, "cracks")
    tears = [np.concatenate([a, b]) for a, b in zip(folds, cracks)]
    rng = child_rng(seed, "artifacts", "brightness")
    bright = np.clip(1.0 + np.cumsum(rng.normal(0.0, brightness_drift, n)), 0.2, 5.0)
    rng = child_rng(seed, "artifacts", "thickness")
    scale = np.clip(1.0 + rng.normal(0.0, thickness_cv, n), 0.3, 3.0) if thickness_cv > 0 else np.ones(n)
    # centre of section k: the sum of the thicknesses before it plus half its own
    centre = (np.cumsum(scale) - 0.5 * scale) * section_nm
    z_off = centre - (np.arange(n) + 0.5) * section_nm
    z_off -= z_off.mean() if n else 0.0
    rng = child_rng(seed, "artifacts", "debris")
    count = rng.poisson(debris_rate, n) if debris_rate > 0 else np.zeros(n, int)
    dsec = np.repeat(np.arange(n), count)
    dctr = region_origin_nm[1:] + rng.random((dsec.size, 2)) * region_size_nm[1:]
    drad = rng.exponential(debris_radius_nm, dsec.size) + 0.25 * debris_radius_nm
    rng = child_rng(seed, "artifacts", "focus")
    focus = np.clip(1.0 + np.cumsum(rng.normal(0.0, focus_drift, n)), 0.5, 4.0) if focus_drift > 0 else np.ones(n)
    return SectionArtifacts(shift, missing, z_off, scale, tears[0].astype(int), tears[1].astype(int),
                            tears[2].reshape(-1, 2), tears[3].reshape(-1, 2), tears[4],
                            dsec, dctr.reshape(-1, 2), drad, focus, bright)


# -- expansion distortion ---------------------------------------------------------------------
@dataclass(frozen=True)
class SmoothDeformation:
    """A smooth displacement field ``u(p) = sum_k a_k sin(q_k . p + phi_k)`` in tissue nm.

    The expanded sample is imaged where a perfectly isotropic expansion would have put ``p + u(p)``:
    the image at ``p`` shows the tissue at ``p + u(p)``.
    """

    wavevector_per_nm: np.ndarray  # (K, 3) angular wave vectors (z, y, x)
    amplitude_nm: np.ndarray  # (K, 3) displacement amplitude of each mode per component
    phase: np.ndarray  # (K,)

    @property
    def max_displacement_nm(self) -> np.ndarray:
        return np.abs(self.amplitude_nm).sum(axis=0)

    def displacement(self, axes_nm: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        """u on the grid spanned by absolute coordinates ``axes_nm``: float32 (3, z, y, x)."""
        shape = tuple(len(a) for a in axes_nm)
        out = np.zeros((3,) + shape, np.float32)
        for q, a, ph in zip(self.wavevector_per_nm, self.amplitude_nm, self.phase):
            # exp(i q.p) is a product of three 1-D factors: cheap on a whole grid
            e = [np.exp(1j * q[d] * np.asarray(axes_nm[d], float)).astype(np.complex64) for d in range(3)]
            wave = (e[0][:, None, None] * e[1][None, :, None]) * (e[2][None, None, :] * np.complex64(np.exp(1j * ph)))
            s = wave.imag
            for d in range(3):
                if a[d] != 0:
                    out[d] += np.float32(a[d]) * s
        return out


def draw_deformation(seed: np.random.SeedSequence, rms_nm: float, length_nm: float,
                     n_modes: int = 6, stream: str = "distortion") -> SmoothDeformation:
    """Draw a smooth random deformation with per-component rms ``rms_nm`` and scale ``length_nm``."""
    rng = child_rng(seed, "artifacts", stream)
    direction = rng.normal(size=(n_modes, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    q = direction * (2 * np.pi / length_nm) * rng.uniform(0.7, 1.3, (n_modes, 1))
    amp = rng.normal(size=(n_modes, 3))
    # sum of K sines with amplitudes a_k has variance sum(a_k^2) / 2 per component
    amp *= rms_nm / np.sqrt((amp ** 2).sum(axis=0, keepdims=True) / 2.0 + 1e-30)
    return SmoothDeformation(q, amp if rms_nm > 0 else np.zeros_like(amp), rng.uniform(0, 2 * np.pi, n_modes))
