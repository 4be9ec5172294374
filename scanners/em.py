"""Electron microscopy: SBEM, FIB-SEM and ssTEM from one model.

Stages per section: the section's tissue (where misalignment, uneven cutting, folds and cracks
put it) -> stain density (heavy metals, per class: :mod:`scanners.stain`) -> electron signal
fraction ``exp(-stain_contrast * density)`` averaged over the imaged depth (membranes dark) ->
debris (opaque) -> beam PSF (Gaussian probe, in-plane, widened by focus drift) -> expected detected
electrons from the dose -> Poisson shot noise -> detector gain and offset.  Missing sections come
out blank (0).  :meth:`EMScanner.labels_on_frame` gives the cell labels of exactly the tissue each
pixel shows (0 where a pixel shows none, or two layers of a fold, or debris).
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
from .stain_sections import stain_density_sections
from .tissue import TissueFunction, tissue_sections

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
    stain_synapse: float = 2.0
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
    thickness_cv: float = 0.0  # relative std of the cut thickness (uneven sectioning, knife chatter)
    crack_rate: float = 0.0  # probability that a section cracks (its far side slides away)
    crack_width_nm: float = 150.0
    debris_rate: float = 0.0  # expected opaque debris particles per section
    debris_radius_nm: float = 80.0
    focus_drift: float = 0.0  # std of the per-section relative step of the probe width
    stain_cleft: float = 0.25  # faint cleft material: extracellular, lighter than the membranes
    stain_mitochondrion: float = 0.45
    stain_cristae: float = 0.6
    stain_nucleus: float = 0.3
    stain_chromatin: float = 0.8
    stain_organelle_membrane: float = 1.5
    granularity: float = 0.3

    def __post_init__(self) -> None:
        v.set_field(self, "voxel_nm", v.triple("voxel_nm", self.voxel_nm))
        for name in ("section_thickness_nm", "psf_fwhm_nm", "dose_e_per_nm2", "detector_yield",
                     "white_level_adu", "texture_length_nm", "fold_width_nm", "charging_length_nm",
                     "crack_width_nm", "debris_radius_nm"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, low_open=True))
        v.set_field(self, "depth_samples", v.number("depth_samples", self.depth_samples, low=1, integer=True))
        for name in ("stain_contrast", "stain_membrane", "stain_synapse", "stain_vesicles", "stain_cytoplasm",
                     "stain_extracellular", "texture_amplitude", "cell_contrast", "offset_adu", "gain_adu_per_e",
                     "misalignment_step_nm", "misalignment_jitter_nm", "brightness_drift", "charging_amplitude",
                     "debris_rate", "focus_drift", "stain_cleft", "stain_mitochondrion", "stain_cristae",
                     "stain_nucleus", "stain_chromatin", "stain_organelle_membrane", "granularity"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0))
        v.set_field(self, "thickness_cv", v.number("thickness_cv", self.thickness_cv, low=0, high=0.5))
        for name in ("missing_section_rate", "fold_rate", "crack_rate", "detector_yield"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, high=1))
        v.set_field(self, "noise", v.boolean("noise", self.noise))
        v.choice("dtype", self.dtype, DTYPES)

    @property
    def stain(self) -> StainModel:
        return StainModel(self.stain_membrane, self.stain_synapse, self.stain_vesicles, self.stain_cytoplasm,
                          self.stain_extracellular, self.texture_amplitude, self.texture_length_nm,
                          self.cell_contrast, cleft=self.stain_cleft, mitochondrion=self.stain_mitochondrion,
                          cristae=self.stain_cristae, nucleus=self.stain_nucleus, chromatin=self.stain_chromatin,
                          organelle_membrane=self.stain_organelle_membrane, granularity=self.granularity)


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
            brightness_drift=c.brightness_drift, thickness_cv=c.thickness_cv, section_nm=float(self.voxel_nm[0]),
            crack_rate=c.crack_rate, crack_width_nm=c.crack_width_nm, debris_rate=c.debris_rate,
            debris_radius_nm=c.debris_radius_nm, focus_drift=c.focus_drift)

    def _plan(self, tissue: TissueFunction, origin, shape, seed) -> _Plan:
        return _Plan(origin, shape, seed, self._artifacts(origin, shape, seed),
                     seed_int(seed, "stain"), seed_int(seed, "charging"))

    def _truth(self, origin, shape, seed) -> dict[str, np.ndarray]:
        return self._artifacts(origin, shape, seed).truth()

    def _section_axes(self, plan: _Plan, k: int, corner_yx_nm: np.ndarray, shape_yx) -> tuple:
        """Detector-frame (y, x) axes of section ``k`` and the tissue-frame axes they image."""
        vy, vx = self.voxel_nm[1:]
        ys = corner_yx_nm[0] + (np.arange(shape_yx[0]) + 0.5) * vy
        xs = corner_yx_nm[1] + (np.arange(shape_yx[1]) + 0.5) * vx
        s = plan.artifacts.shift_nm[k]
        return ys, xs, ys + s[0], xs + s[1]

    def _section_z(self, plan: _Plan, k: int) -> float:
        """Centre (nm) of section ``k``: nominal plane plus the uneven-cutting offset."""
        return float(plan.origin[0] + (k + 0.5) * self.voxel_nm[0] + plan.artifacts.z_offset_nm[k])

    def _section_signal(self, tissue: TissueFunction, plan: _Plan, k: int, corner_yx_nm: np.ndarray,
                        shape_yx: tuple[int, int]) -> np.ndarray:
        """Noiseless signal fraction of section ``k`` on a (y, x) box whose corner is given."""
        c = self.config
        art = plan.artifacts
        vy, vx = self.voxel_nm[1:]
        thick = c.section_thickness_nm * float(art.thickness_scale[k])
        depth = thick / c.depth_samples
        ys, xs, ty, tx = self._section_axes(plan, k, corner_yx_nm, shape_yx)
        total = np.zeros((c.depth_samples,) + tuple(shape_yx), np.float32)
        covered = np.zeros(tuple(shape_yx), bool)
        layers = art.layers(k, ty, tx)
        whole = len(layers) == 1 and bool(layers[0][1].all())  # no fold or crack: one layer, every pixel
        for off, mask in layers:
            corner = self._layer_corner(plan, k, thick, corner_yx_nm, off)
            vox = np.array([depth, vy, vx])
            f = tissue(corner, (c.depth_samples,) + tuple(shape_yx), vox, STAIN_FIELDS)
            density = self._density(f, plan, corner, vox)
            total += density if whole else np.where(mask[None], density, np.float32(0))  # the same sums
            covered |= mask
        if not whole:  # pixels with no tissue show bare resin: as little stain as extracellular space
            total[:, ~covered] = np.float32(c.stain_extracellular)
        return self._signal(plan, k, total, ys, xs)

    def _layer_corner(self, plan: _Plan, k: int, thick: float, corner_yx_nm: np.ndarray, off) -> np.ndarray:
        """Tissue-frame corner (nm) of the box section ``k``'s layer at in-plane offset ``off`` images."""
        art = plan.artifacts
        return np.array([self._section_z(plan, k) - thick / 2, corner_yx_nm[0] + art.shift_nm[k, 0] + off[0],
                         corner_yx_nm[1] + art.shift_nm[k, 1] + off[1]])

    def _density(self, f: dict, plan: _Plan, corner: np.ndarray, vox: np.ndarray) -> np.ndarray:
        """Stain density of one rasterized box (textures at its absolute voxel centres)."""
        axes = tuple(corner[d] + (np.arange(n) + 0.5) * vox[d] for d, n in enumerate(f["labels"].shape))
        return stain_density(f, self.config.stain, axes, plan.stain_key)

    def _signal(self, plan: _Plan, k: int, total: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Signal fraction of section ``k`` from its summed stain ``total`` (depth, y, x); debris on top."""
        c = self.config
        art = plan.artifacts
        # a section thicker than nominal holds proportionally more stain along the beam
        total *= np.float32(art.thickness_scale[k])
        sig = np.exp(-np.float32(c.stain_contrast) * total).mean(axis=0)
        return self._debris(plan, k, sig, ys, xs)

    def _debris(self, plan: _Plan, k: int, sig: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """``sig`` with section ``k``'s opaque debris particles on top (in place)."""
        c = self.config
        debris = plan.artifacts.debris_mask(k, ys, xs)
        if debris.any():
            sig[debris] = np.float32(np.exp(-c.stain_contrast * 3.0 * c.stain_membrane))
        return sig

    def _sections_signal(self, tissue: TissueFunction, plan: _Plan, ks, corner_yx_nm: np.ndarray,
                         shape_yx: tuple[int, int]) -> dict[int, np.ndarray]:
        """:meth:`_section_signal` of each section in ``ks``, the same bits.  Sections with no fold
        or crack (one layer over every pixel) and the same cut thickness are rasterized as one
        stack (:func:`scanners.tissue.tissue_sections`: one call however many sections, each at its
        own shift); the others one by one."""
        c = self.config
        art = plan.artifacts
        vy, vx = self.voxel_nm[1:]
        out: dict[int, np.ndarray] = {}
        stacks: dict[float, list] = {}
        for k in ks:
            ys, xs, ty, tx = self._section_axes(plan, k, corner_yx_nm, shape_yx)
            layers = art.layers(k, ty, tx)
            if len(layers) == 1 and bool(layers[0][1].all()):
                stacks.setdefault(float(art.thickness_scale[k]), []).append((k, layers[0][0], ys, xs))
            else:
                out[k] = self._section_signal(tissue, plan, k, corner_yx_nm, shape_yx)
        shape = (c.depth_samples,) + tuple(shape_yx)
        for scale, members in stacks.items():
            thick = c.section_thickness_nm * scale
            vox = np.array([thick / c.depth_samples, vy, vx])
            corners = [self._layer_corner(plan, k, thick, corner_yx_nm, off) for k, off, _, _ in members]
            f = tissue_sections(tissue, np.array(corners), shape, vox, STAIN_FIELDS)
            axes = [tuple(cn[d] + (np.arange(n) + 0.5) * vox[d] for d, n in enumerate(shape)) for cn in corners]
            total = np.zeros((len(members),) + shape, np.float32)
            total += stain_density_sections(f, c.stain, axes, plan.stain_key)
            # _signal's elementwise steps over the stack (one thickness), then each section's debris
            total *= np.float32(scale)
            sig = np.exp(-np.float32(c.stain_contrast) * total).mean(axis=1)
            for q, (k, _, ys, xs) in enumerate(members):
                out[k] = self._debris(plan, k, sig[q], ys, xs)
        return out

    def _labels_chunk(self, tissue: TissueFunction, plan: _Plan, zyx) -> np.ndarray:
        """Labels of the tissue each pixel shows (0: blank, doubled over, or under debris)."""
        sz, sy, sx = zyx
        vy, vx = self.voxel_nm[1:]
        art = plan.artifacts
        shape_yx = (sy.stop - sy.start, sx.stop - sx.start)
        corner_yx = np.array([plan.origin[1] + sy.start * vy, plan.origin[2] + sx.start * vx])
        out = np.zeros((sz.stop - sz.start,) + shape_yx, np.uint32)
        plain = []  # sections with no fold or crack: one stack of boxes, each at its own shift
        for i, k in enumerate(range(sz.start, sz.stop)):
            if art.missing[k]:
                continue
            ys, xs, ty, tx = self._section_axes(plan, k, corner_yx, shape_yx)
            layers = art.layers(k, ty, tx)
            if len(layers) == 1 and bool(layers[0][1].all()):
                plain.append((i, k, layers[0][0], ys, xs))
                continue
            n = np.zeros(shape_yx, np.int8)
            for off, mask in layers:
                corner = np.array([self._section_z(plan, k) - self.voxel_nm[0] / 2,
                                   corner_yx[0] + art.shift_nm[k, 0] + off[0], corner_yx[1] + art.shift_nm[k, 1] + off[1]])
                lab = tissue(corner, (1,) + shape_yx, self.voxel_nm, ["labels"])["labels"][0]
                out[i][mask] = lab[mask]
                n += mask
            out[i][n != 1] = 0
            out[i][art.debris_mask(k, ys, xs)] = 0
        if plain:  # each pixel shows its one layer (as above with every mask true), debris on top
            corners = [self._layer_corner(plan, k, self.voxel_nm[0], corner_yx, off) for _, k, off, _, _ in plain]
            labs = tissue_sections(tissue, np.array(corners), (1,) + shape_yx, self.voxel_nm, ["labels"])["labels"]
            for q, (i, k, _, ys, xs) in enumerate(plain):
                out[i] = labs[q, 0]
                out[i][art.debris_mask(k, ys, xs)] = 0
        return out

    def _render_chunk(self, tissue: TissueFunction, plan: _Plan, zyx) -> np.ndarray:
        c = self.config
        sz, sy, sx = zyx
        vz, vy, vx = self.voxel_nm
        sig = sigma_vox((0.0, c.psf_fwhm_nm, c.psf_fwhm_nm), self.voxel_nm)
        _, hy, hx = gaussian_halo(sig * float(plan.artifacts.focus.max()))
        ny, nx = sy.stop - sy.start + 2 * hy, sx.stop - sx.start + 2 * hx
        corner_yx = np.array([plan.origin[1] + (sy.start - hy) * vy, plan.origin[2] + (sx.start - hx) * vx])
        ks = range(sz.start, sz.stop)
        signal = np.zeros((len(ks), ny - 2 * hy, nx - 2 * hx), np.float32)
        by_focus: dict[float, list] = {}  # sections blurred with the same probe: one stack each
        secs = self._sections_signal(tissue, plan, [k for k in ks if not plan.artifacts.missing[k]], corner_yx, (ny, nx))
        for i, k in enumerate(ks):
            if not plan.artifacts.missing[k]:
                by_focus.setdefault(float(plan.artifacts.focus[k]), []).append((i, secs[k]))
        for f, secs in by_focus.items():
            # in-plane passes over a stack filter each section's lines alone, exactly as one by one
            s_yx = sig[1:] * f
            stack = np.stack([sec for _, sec in secs])
            inner = (slice(None), slice(hy, ny - hy), slice(hx, nx - hx))
            signal[[i for i, _ in secs]] = blur(stack, (0.0, float(s_yx[0]), float(s_yx[1])), inner)
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
