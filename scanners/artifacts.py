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
@dataclass(frozen=True)
class SectionArtifacts:
    """Per-section defects of a serial-section (or block-face) stack of ``n`` sections.

    ``shift_nm[k] = (dy, dx)``: pixel ``p`` of section ``k`` shows the tissue at ``p + shift``;
    undo it by sampling the image at ``p - shift``.
    """

    shift_nm: np.ndarray  # (n, 2)
    missing: np.ndarray  # (n,) bool
    fold_section: np.ndarray  # (m,) int
    fold_point_nm: np.ndarray  # (m, 2) absolute (y, x) tissue coordinates on the fold line
    fold_normal: np.ndarray  # (m, 2) unit normal of the fold line
    fold_width_nm: np.ndarray  # (m,)
    brightness: np.ndarray  # (n,) multiplicative drift of the signal

    def truth(self) -> dict[str, np.ndarray]:
        return {
            "section_shift_nm": self.shift_nm.astype(np.float64),
            "missing_sections": np.flatnonzero(self.missing).astype(np.int64),
            "fold_sections": self.fold_section.astype(np.int64),
            "fold_point_nm": self.fold_point_nm.astype(np.float64),
            "fold_normal": self.fold_normal.astype(np.float64),
            "fold_width_nm": self.fold_width_nm.astype(np.float64),
            "section_brightness": self.brightness.astype(np.float64),
        }


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
) -> SectionArtifacts:
    """Draw misalignment (a random walk plus jitter), missing sections, folds and brightness drift.

    Parameters
    ----------
    seed : SeedSequence
        The scanner seed; each artifact uses its own named child.
    n_sections : int
    region_origin_nm, region_size_nm : arrays (3,)
        The imaged region (folds are placed inside it).
    step_nm, jitter_nm : float
        Std of the random-walk step between sections and of the independent per-section jitter.
    missing_rate, fold_rate : float
        Probability that a section is lost / folded.
    fold_width_nm : float
        Width of the doubled-over band of a fold.
    brightness_drift : float
        Std of the per-section relative step of a brightness random walk.

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
    rng = child_rng(seed, "artifacts", "folds")
    folded = np.flatnonzero(rng.random(n) < fold_rate)
    m = folded.size
    angle = rng.uniform(0, np.pi, m)
    point = region_origin_nm[1:] + rng.random((m, 2)) * region_size_nm[1:]
    normal = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    rng = child_rng(seed, "artifacts", "brightness")
    bright = np.clip(1.0 + np.cumsum(rng.normal(0.0, brightness_drift, n)), 0.2, 5.0)
    return SectionArtifacts(shift, missing, folded, point, normal, np.full(m, float(fold_width_nm)), bright)


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
