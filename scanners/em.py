"""Electron microscopy: SBEM, FIB-SEM and ssTEM from one model.

Stages per section: stain density (heavy metals) -> electron signal fraction
``exp(-stain_contrast * density)`` averaged over the imaged depth (membranes dark) -> folds ->
beam PSF (Gaussian probe, in-plane) -> expected detected electrons from the dose ->
Poisson shot noise -> detector gain and offset.  Sections are imaged where misalignment put them;
missing sections come out blank (0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import validation as v
from .artifacts import SectionArtifacts, draw_section_artifacts
from .base import Scanner, to_dtype
from .chunking import gaussian_halo
from .noise import lattice_noise, poisson_from_normal, seed_int, tiled_normal
from .psf import blur, sigma_vox
from .registry import SCANNERS
from .stain import STAIN_FIELDS, StainModel, stain_density
from .tissue import TissueFunction

DTYPES = ("uint8", "uint16", "float32")


@dataclass(frozen=True)
class EMConfig:
    """Settings of an electron-microscope scan (all lengths in tissue nm)."""

    voxel_nm: tuple[float, float, float] = (30.0, 10.0, 10.0)
    section_thickness_nm: float = 30.0  # tissue depth integrated into one image
    depth_samples: int = 2  # sample planes across that depth
    psf_fwhm_nm: float = 12.0  # in-plane probe FWHM: the configured resolution
    dose_e_per_nm2: float = 15.0
    detector_yield: float = 0.12  # detected electrons per incident electron on unstained tissue
    stain_contrast: float = 1.2  # signal fraction is exp(-stain_contrast * density)
    stain_membrane: float = 2.5  # osmium: lipid bilayers take the most stain
    stain_synapse: float = 1.3
    stain_vesicles: float = 0.5
    stain_cytoplasm: float = 0.15
    stain_extracellular: float = 0.03
    texture_amplitude: float = 0.4
    texture_length_nm: float = 30.0
    cell_contrast: float = 0.2
    gain_adu_per_e: float = 0.0  # 0: automatic, unstained tissue reads white_level_adu
    white_level_adu: float = 220.0
    offset_adu: float = 10.0
    noise: bool = True
    dtype: str = "uint8"
    misalignment_step_nm: float = 0.0
    misalignment_jitter_nm: float = 0.0
    missing_section_rate: float = 0.0
    fold_rate: float = 0.0
    fold_width_nm: float = 120.0
    brightness_drift: float = 0.0
    charging_amplitude: float = 0.0
    charging_length_nm: float = 1500.0

    def __post_init__(self) -> None:
        v.set_field(self, "voxel_nm", v.triple("voxel_nm", self.voxel_nm))
        for name in ("section_thickness_nm", "psf_fwhm_nm", "dose_e_per_nm2", "detector_yield",
                     "white_level_adu", "texture_length_nm", "fold_width_nm", "charging_length_nm"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, low_open=True))
        v.set_field(self, "depth_samples", v.number("depth_samples", self.depth_samples, low=1, integer=True))
        for name in ("stain_contrast", "stain_membrane", "stain_synapse", "stain_vesicles", "stain_cytoplasm",
                     "stain_extracellular", "texture_amplitude", "cell_contrast", "offset_adu", "gain_adu_per_e",
                     "misalignment_step_nm", "misalignment_jitter_nm", "brightness_drift", "charging_amplitude"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0))
        for name in ("missing_section_rate", "fold_rate", "detector_yield"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, high=1))
        v.set_field(self, "noise", v.boolean("noise", self.noise))
        v.choice("dtype", self.dtype, DTYPES)

    @property
    def stain(self) -> StainModel:
        return StainModel(self.stain_membrane, self.stain_synapse, self.stain_vesicles, self.stain_cytoplasm,
                          self.stain_extracellular, self.texture_amplitude, self.texture_length_nm,
                          self.cell_contrast)


@dataclass(frozen=True)
class _Plan:
    origin: np.ndarray
    shape: tuple[int, int, int]
    seed: np.random.SeedSequence
    artifacts: SectionArtifacts
    stain_key: int
    charging_key: int


@SCANNERS.register("em")
class EMScanner(Scanner):
    """Serial-section / block-face electron microscope (one grey channel)."""

    modality = "em"
    config_cls = EMConfig

    @property
    def channel_names(self) -> list[str]:
        return ["em"]

    @property
    def electrons_per_voxel(self) -> float:
        """Expected detected electrons per pixel on unstained tissue (sets the shot noise)."""
        c = self.config
        return c.dose_e_per_nm2 * c.voxel_nm[1] * c.voxel_nm[2] * c.detector_yield

    @property
    def gain_adu_per_e(self) -> float:
        """Detector gain: as configured, or set (like an operator would) to fill the range."""
        c = self.config
        return c.gain_adu_per_e if c.gain_adu_per_e > 0 else (c.white_level_adu - c.offset_adu) / self.electrons_per_voxel

    def _artifacts(self, origin: np.ndarray, shape: tuple[int, int, int], seed) -> SectionArtifacts:
        c = self.config
        return draw_section_artifacts(
            seed, shape[0], origin, np.asarray(shape) * self.voxel_nm,
            step_nm=c.misalignment_step_nm, jitter_nm=c.misalignment_jitter_nm,
            missing_rate=c.missing_section_rate, fold_rate=c.fold_rate, fold_width_nm=c.fold_width_nm,
            brightness_drift=c.brightness_drift)

    def _plan(self, tissue: TissueFunction, origin, shape, seed) -> _Plan:
        return _Plan(origin, shape, seed, self._artifacts(origin, shape, seed),
                     seed_int(seed, "stain"), seed_int(seed, "charging"))

    def _truth(self, origin, shape, seed) -> dict[str, np.ndarray]:
        return self._artifacts(origin, shape, seed).truth()

    def _section_signal(self, tissue: TissueFunction, plan: _Plan, k: int, corner_yx_nm: np.ndarray,
                        shape_yx: tuple[int, int]) -> np.ndarray:
        """Noiseless signal fraction of section ``k`` on a (y, x) box whose corner is given."""
        c = self.config
        art = plan.artifacts
        vz, vy, vx = self.voxel_nm
        depth = c.section_thickness_nm / c.depth_samples
        corner = np.array([plan.origin[0] + (k + 0.5) * vz - c.section_thickness_nm / 2,
                           corner_yx_nm[0] + art.shift_nm[k, 0], corner_yx_nm[1] + art.shift_nm[k, 1]])
        vox = np.array([depth, vy, vx])
        f = tissue(corner, (c.depth_samples,) + tuple(shape_yx), vox, STAIN_FIELDS)
        axes = tuple(corner[d] + (np.arange(n) + 0.5) * vox[d] for d, n in enumerate((c.depth_samples,) + tuple(shape_yx)))
        dens = stain_density(f, c.stain, axes, plan.stain_key)
        for j in np.flatnonzero(art.fold_section == k):
            # a fold doubles the section over itself: twice the stain along a band
            dist = ((axes[1][:, None] - art.fold_point_nm[j, 0]) * art.fold_normal[j, 0]
                    + (axes[2][None, :] - art.fold_point_nm[j, 1]) * art.fold_normal[j, 1])
            dens = dens * np.where(np.abs(dist) < art.fold_width_nm[j] / 2, 2.0, 1.0).astype(np.float32)[None]
        return np.exp(-np.float32(c.stain_contrast) * dens).mean(axis=0)

    def _render_chunk(self, tissue: TissueFunction, plan: _Plan, zyx) -> np.ndarray:
        c = self.config
        sz, sy, sx = zyx
        vz, vy, vx = self.voxel_nm
        sig = sigma_vox((0.0, c.psf_fwhm_nm, c.psf_fwhm_nm), self.voxel_nm)
        _, hy, hx = gaussian_halo(sig)
        ny, nx = sy.stop - sy.start + 2 * hy, sx.stop - sx.start + 2 * hx
        corner_yx = np.array([plan.origin[1] + (sy.start - hy) * vy, plan.origin[2] + (sx.start - hx) * vx])
        ks = range(sz.start, sz.stop)
        signal = np.zeros((len(ks), ny, nx), np.float32)
        for i, k in enumerate(ks):
            if not plan.artifacts.missing[k]:
                signal[i] = self._section_signal(tissue, plan, k, corner_yx, (ny, nx))
        signal = blur(signal, sig)[:, hy:ny - hy, hx:nx - hx]
        ks_arr = np.asarray(ks)
        signal *= plan.artifacts.brightness[ks_arr].astype(np.float32)[:, None, None]
        if c.charging_amplitude > 0:
            # charging: slow in-plane brightness swings, different in every section (detector frame)
            ys = plan.origin[1] + (np.arange(sy.start, sy.stop) + 0.5) * vy
            xs = plan.origin[2] + (np.arange(sx.start, sx.stop) + 0.5) * vx
            field = lattice_noise(plan.charging_key, (ks_arr * c.charging_length_nm, ys, xs), c.charging_length_nm)
            signal *= 1.0 + np.float32(c.charging_amplitude) * field
            np.maximum(signal, 0, out=signal)
        mean_e = signal * np.float32(self.electrons_per_voxel)
        if c.noise:
            z = tiled_normal(plan.seed, "em", (sz.start, sy.start, sx.start), mean_e.shape)
            counts = poisson_from_normal(mean_e, z)
        else:
            counts = mean_e
        adu = counts * np.float32(self.gain_adu_per_e) + np.float32(c.offset_adu)
        adu[plan.artifacts.missing[ks_arr]] = 0.0
        return to_dtype(adu, self.dtype)[None]
