"""Expansion microscopy read out by a light-sheet microscope.

The tissue is expanded ``expansion_factor`` times in a hydrogel (with a smooth non-uniform
distortion), stained in rounds, and imaged with an anisotropic light-sheet PSF.  Channels: one per
barcode protein (cytosolic, per-cell combinatorial expression) and one antibody stain per receptor
type (punctate at synapses, brightness proportional to receptor count), and optionally one per
tonic channel species (``channel_stains``: ``cation_leak``, ``tonic_gabaa``; on the membrane, brightness
proportional to channel conductance, ``channel_photons`` per pS -- an amplified immunostain), with
the receptor stains' physics: blur, bleaching by round, background, shot and read noise.

Stages per chunk: rasterize the molecular fields (chunk + halo) -> warp by the expansion
distortion plus the channel's round jitter -> light-sheet PSF -> photons (signal, bleached by
round, plus background) -> Poisson shot noise -> read noise -> gain and offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from . import validation as v
from .artifacts import SmoothDeformation, draw_deformation
from .base import Scanner, to_dtype, undeformed_labels
from .chunking import gaussian_halo
from . import labelling
from .exm_boxes import blur_sparse, warp_reach, warp_sparse
from .exm_kernel import blur_inner, detect
from .noise import _SMALL_MEAN, child_rng, poisson_from_normal, seed_int, tiled_normal
from .psf import TRUNCATE, blur, sigma_vox
from .registry import SCANNERS
from .tissue import TissueFunction
from .warp_kernel import trilinear_shifted

RECEPTOR_TYPES = ("AMPA", "NMDA", "GABA_A")
CHANNEL_TYPES = ("cation_leak", "tonic_gabaa")  # tissue fields channel:<type> (scanners/tissue.py)
DTYPES = ("uint16", "float32")


@dataclass(frozen=True)
class ExMConfig:
    """Settings of an expansion + light-sheet scan.

    ``voxel_nm`` is the output grid in tissue (pre-expansion) nm; ``psf_fwhm_nm`` is the light-sheet
    PSF in the expanded sample, so the resolution in tissue nm is ``psf_fwhm_nm / expansion_factor``.
    """

    voxel_nm: tuple[float, float, float] = (60.0, 20.0, 20.0)
    expansion_factor: float = 8.0
    psf_fwhm_nm: tuple[float, float, float] = (1000.0, 320.0, 320.0)
    n_barcode_proteins: int = 8
    receptors: tuple[str, ...] = RECEPTOR_TYPES
    channels_per_round: int = 4
    barcode_photons: float = 300.0  # photons per voxel of a fully expressing cell
    receptor_photons: float = 30.0  # photons per receptor
    # tonic channel stains (antibodies to NALCN and the GABA_A delta subunit), after receptors;
    # the channels are sparse (~0.1 pS/um^2), so the stain is amplified (e.g. tyramide signal
    # amplification): photons per pS of stained channel conductance
    channel_stains: tuple[str, ...] = ()
    channel_photons: float = 2.0e4
    background_photons: float = 20.0  # per voxel
    read_noise_e: float = 1.5
    gain_adu_per_e: float = 1.0
    offset_adu: float = 100.0
    bleach_per_round: float = 0.03  # signal lost per imaging round
    distortion_rms_nm: float = 0.0  # per component, tissue nm
    distortion_length_nm: float = 3000.0
    jitter_nm: float = 0.0  # round-to-round registration error (std per axis, tissue nm)
    # -- stochastic labelling (scanners/labelling.py; the neutral values give today's images)
    expression_cv: float = 0.0  # per-cell expression of each barcode protein, coefficient of variation
    barcode_dropout: float = 0.0  # probability that an expressed protein is missed in a whole cell
    labelling_fraction: float = 1.0  # fraction of epitopes labelled (< 1: sparse, speckled stain)
    receptor_detection_efficiency: float = 1.0  # probability that a receptor is detected
    structural_channel: bool = False  # a pan-protein / membrane channel (LICONN-like), imaged last
    structural_photons: float = 200.0  # photons per voxel of membrane in that channel
    noise: bool = True
    dtype: str = "uint16"

    def __post_init__(self) -> None:
        v.set_field(self, "voxel_nm", v.triple("voxel_nm", self.voxel_nm))
        v.set_field(self, "psf_fwhm_nm", v.triple("psf_fwhm_nm", self.psf_fwhm_nm))
        v.set_field(self, "expansion_factor", v.number("expansion_factor", self.expansion_factor, low=1))
        v.set_field(self, "n_barcode_proteins", v.number("n_barcode_proteins", self.n_barcode_proteins, low=0, integer=True))
        v.set_field(self, "channels_per_round", v.number("channels_per_round", self.channels_per_round, low=1, integer=True))
        recs = tuple(self.receptors) if isinstance(self.receptors, (list, tuple)) else None
        if recs is None or any(r not in RECEPTOR_TYPES for r in recs) or len(set(recs)) != len(recs):
            raise ValueError(f"receptors: expected distinct names from {', '.join(RECEPTOR_TYPES)}, got {self.receptors!r}")
        v.set_field(self, "receptors", recs)
        chans = tuple(self.channel_stains) if isinstance(self.channel_stains, (list, tuple)) else None
        if chans is None or any(ch not in CHANNEL_TYPES for ch in chans) or len(set(chans)) != len(chans):
            raise ValueError(f"channel_stains: expected distinct names from {', '.join(CHANNEL_TYPES)}, "
                             f"got {self.channel_stains!r}")
        v.set_field(self, "channel_stains", chans)
        v.set_field(self, "channel_photons", v.number("channel_photons", self.channel_photons, low=0, low_open=True))
        for name in ("expression_cv",):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, high=3))
        for name in ("barcode_dropout",):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, high=1))
        for name in ("labelling_fraction", "receptor_detection_efficiency"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, high=1, low_open=True))
        v.set_field(self, "structural_channel", v.boolean("structural_channel", self.structural_channel))
        for name in ("barcode_photons", "receptor_photons", "gain_adu_per_e", "distortion_length_nm",
                     "structural_photons"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, low_open=True))
        for name in ("background_photons", "read_noise_e", "offset_adu", "distortion_rms_nm", "jitter_nm"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0))
        v.set_field(self, "bleach_per_round", v.number("bleach_per_round", self.bleach_per_round, low=0, high=0.99))
        v.set_field(self, "noise", v.boolean("noise", self.noise))
        v.choice("dtype", self.dtype, DTYPES)

    @property
    def resolution_nm(self) -> np.ndarray:
        """Resolution (FWHM, z, y, x) in tissue nm."""
        return np.asarray(self.psf_fwhm_nm) / self.expansion_factor


@dataclass(frozen=True)
class _Plan:
    origin: np.ndarray
    shape: tuple[int, int, int]
    seed: np.random.SeedSequence
    deformation: SmoothDeformation
    round_shift_nm: np.ndarray  # (n_rounds, 3)
    labelling_key: int = 0


@SCANNERS.register("exm")
class ExMScanner(Scanner):
    """Expansion microscopy with light-sheet readout: barcode and receptor channels."""

    modality = "exm"
    config_cls = ExMConfig

    @property
    def channel_names(self) -> list[str]:
        c = self.config
        names = [f"barcode:{i}" for i in range(c.n_barcode_proteins)] + [f"receptor:{r}" for r in c.receptors]
        names += [f"channel:{ch}" for ch in c.channel_stains]
        return names + (["structure"] if c.structural_channel else [])

    @property
    def n_rounds(self) -> int:
        return -(-len(self.channel_names) // self.config.channels_per_round)

    def channel_round(self, channel: int) -> int:
        """The staining round in which a channel is imaged (channels fill rounds in order)."""
        return channel // self.config.channels_per_round

    def channel_gain(self, channel: int) -> float:
        """Signal left after bleaching in earlier rounds (1 in round 0)."""
        return (1.0 - self.config.bleach_per_round) ** self.channel_round(channel)

    def _check_tissue(self, tissue: TissueFunction) -> None:
        n = int(getattr(tissue, "n_barcode_proteins", -1))
        if self.config.n_barcode_proteins and n != self.config.n_barcode_proteins:
            raise ValueError(f"n_barcode_proteins: expected the tissue's {n}, got {self.config.n_barcode_proteins}")

    def _draws(self, seed):
        c = self.config
        deform = draw_deformation(seed, c.distortion_rms_nm, c.distortion_length_nm)
        shifts = child_rng(seed, "artifacts", "round_jitter").normal(0.0, 1.0, (self.n_rounds, 3)) * c.jitter_nm
        shifts[0] = 0.0  # round 0 is the reference the others are registered to
        return deform, shifts

    def _plan(self, tissue, origin, shape, seed) -> _Plan:
        deform, shifts = self._draws(seed)
        return _Plan(origin, shape, seed, deform, shifts, seed_int(seed, "labelling"))

    def _truth(self, origin, shape, seed) -> dict[str, np.ndarray]:
        deform, shifts = self._draws(seed)
        # the field on a coarse grid (smooth by construction; trilinear interpolation restores it)
        step = max(1, int(self.config.distortion_length_nm / 8 / self.voxel_nm.max()))
        axes = tuple(origin[d] + (np.arange(0, shape[d] + step, step) + 0.5) * self.voxel_nm[d] for d in range(3))
        return {
            "deformation_nm": deform.displacement(axes),
            "deformation_grid_origin_nm": np.array([a[0] for a in axes]),
            "deformation_grid_step_nm": step * self.voxel_nm,
            "deformation_wavevector_per_nm": deform.wavevector_per_nm,
            "deformation_amplitude_nm": deform.amplitude_nm,
            "deformation_phase": deform.phase,
            "round_shift_nm": shifts,
            "channel_round": np.array([self.channel_round(i) for i in range(len(self.channel_names))]),
        }

    def _render_chunk(self, tissue: TissueFunction, plan: _Plan, zyx) -> np.ndarray:
        c = self.config
        vox = self.voxel_nm
        starts = np.array([s.start for s in zyx])
        n = np.array([s.stop - s.start for s in zyx])
        sig = sigma_vox(c.resolution_nm, vox)
        hb = np.array(gaussian_halo(sig))
        warped = c.distortion_rms_nm > 0 or c.jitter_nm > 0
        if warped:  # rasterize only the box the warp's interpolation reads (scanners/warp_kernel.py)
            ud, shifts = self._warp_coordinates(plan, starts - hb, n + 2 * hb)
            lo, hi = warp_reach(ud, shifts.values())
        else:
            lo, hi = np.zeros(3, int), n + 2 * hb
        raw_start = starts - hb + lo  # global voxel index of the rasterized box's first voxel
        raw = tissue(plan.origin + raw_start * vox, tuple(hi - lo), vox, self._tissue_fields())
        density = self._densities(raw, plan, raw_start)
        del raw
        regions = [None] * len(density)  # where a sparse stain's warped density can be non-zero
        if warped:
            density, regions = self._warp(density, ud, shifts, -lo)
        out = np.empty((len(density),) + tuple(n), self.dtype)
        inner = tuple(slice(a, a + m) for a, m in zip(hb, n))
        for ch, d in enumerate(density):  # blur(d, sig)[inner], fewer lines filtered (compiled, same bits)
            img = blur_inner(d, sig, inner, TRUNCATE) if regions[ch] is None else None
            if img is None:
                img = blur(d, sig, inner) if regions[ch] is None else blur_sparse(d, sig, hb, inner, regions[ch])
            out[ch] = self._detect(img, ch, plan.seed, starts)
        return out

    def _detect(self, img: np.ndarray, ch: int, seed, starts) -> np.ndarray:
        """Channel ``ch`` of the chunk from global voxel ``starts`` as the camera reads it: the
        blurred signal ``img`` (float32, the chunk's shape) bleached by round, plus background,
        shot and read noise, gain and offset, digitized.  One compiled pass when it applies
        (:mod:`scanners.exm_kernel`, the same bits), else :meth:`_detect_plain`."""
        c, f32 = self.config, np.float32
        if c.noise:
            z = [tiled_normal(seed, f"exm:{s}:{ch}", tuple(starts), img.shape) for s in ("photon", "read")]
            as_f, as_u, ok = detect(img, z[0], z[1], f32(self.channel_gain(ch)), f32(c.background_photons),
                                    f32(c.read_noise_e), f32(c.gain_adu_per_e), f32(c.offset_adu), f32(_SMALL_MEAN),
                                    f32(1.0), f32(1.0 / 6.0), self.dtype == np.uint16)
            if ok:
                return as_u if self.dtype == np.uint16 else as_f
        return self._detect_plain(img, ch, seed, starts)

    def _detect_plain(self, img: np.ndarray, ch: int, seed, starts) -> np.ndarray:
        """:meth:`_detect` as numpy steps (the definition)."""
        c = self.config
        img = img * np.float32(self.channel_gain(ch))
        img += np.float32(c.background_photons)
        if c.noise:
            z = tiled_normal(seed, f"exm:photon:{ch}", tuple(starts), img.shape)
            img = poisson_from_normal(img, z)
            img += np.float32(c.read_noise_e) * tiled_normal(seed, f"exm:read:{ch}", tuple(starts), img.shape)
        return to_dtype(img * np.float32(c.gain_adu_per_e) + np.float32(c.offset_adu), self.dtype)

    def _tissue_fields(self) -> list[str]:
        c = self.config
        fields = ["barcode"] if c.n_barcode_proteins else []
        fields += [f"receptor:{r}" for r in c.receptors]
        fields += [f"channel:{ch}" for ch in c.channel_stains]
        if c.expression_cv > 0 or c.barcode_dropout > 0 or c.structural_channel:
            fields.append("labels")
        if c.structural_channel:
            fields += ["membrane", "psd"]
        return fields

    def _densities(self, raw: dict, plan: _Plan, start) -> list[np.ndarray]:
        """Photon densities per channel before the optics, with stochastic labelling applied."""
        c, key = self.config, plan.labelling_key
        out = []
        per_cell = c.n_barcode_proteins and (c.expression_cv > 0 or c.barcode_dropout > 0)
        unique = labelling._unique_ids(raw["labels"]) if per_cell else None  # the chunk's cells, once
        for i in range(c.n_barcode_proteins):
            d = np.asarray(raw["barcode"][i], np.float32)
            expression = labelling.cell_table(key, unique[0], i, c.expression_cv, c.barcode_dropout) if per_cell else None
            if c.labelling_fraction < 1:  # * expression, speckle, * fraction, * photons, in one pass
                m = labelling.MOLECULES_PER_VOXEL * c.labelling_fraction
                factor = (expression, unique[1]) if per_cell else None
                out.append(labelling.speckle(key, d, start, i, m, (c.labelling_fraction, c.barcode_photons), factor))
                continue
            if per_cell:  # labelling.cell_expression
                d = d * expression[unique[1]]
            out.append(d * np.float32(c.barcode_photons))
        for j, r in enumerate(c.receptors):
            d = np.asarray(raw[f"receptor:{r}"], np.float32)
            if c.receptor_detection_efficiency < 1:
                d = d * np.float32(c.receptor_detection_efficiency)
                out.append(labelling.speckle(key, d, start, 1000 + j, 1.0, (c.receptor_photons,)))
                continue
            out.append(d * np.float32(c.receptor_photons))
        out += [np.asarray(raw[f"channel:{ch}"], np.float32) * np.float32(c.channel_photons) for ch in c.channel_stains]
        if c.structural_channel:
            out.append(labelling.structural_density(raw) * np.float32(c.structural_photons))
        return out

    def _labels_chunk(self, tissue: TissueFunction, plan: _Plan, zyx) -> np.ndarray:
        """Labels on the image frame: voxel ``p`` shows the tissue at ``p + u(p)`` (round 0's frame;
        later rounds' registration jitter is relative to it and saved as ``round_shift_nm``)."""
        vox = self.voxel_nm
        starts = np.array([s.start for s in zyx])
        n = np.array([s.stop - s.start for s in zyx])
        if self.config.distortion_rms_nm <= 0:
            return undeformed_labels(tissue, plan.origin, vox, zyx)
        hw = np.ceil(plan.deformation.max_displacement_nm / vox).astype(int) + 2
        raw = tissue(plan.origin + (starts - hw) * vox, tuple(n + 2 * hw), vox, ["labels"])["labels"]
        axes = tuple(plan.origin[d] + (starts[d] + np.arange(n[d]) + 0.5) * vox[d] for d in range(3))
        u = plan.deformation.displacement(axes)
        vox32 = vox.astype(np.float32)
        coords = np.empty((3,) + tuple(n), np.float64)
        for d in range(3):
            shape = [1, 1, 1]
            shape[d] = -1
            coords[d] = (u[d] / vox32[d]).astype(np.float64)
            coords[d] += (np.arange(n[d], dtype=np.float64) + hw[d]).reshape(shape)
        return ndimage.map_coordinates(np.asarray(raw, np.uint32), coords, order=0, mode="nearest",
                                       prefilter=False).astype(np.uint32)

    def _warp_coordinates(self, plan: _Plan, start, m) -> tuple[np.ndarray, dict]:
        """The warp on the grid of ``m`` voxels from global index ``start`` (the blurred grid):
        displacement in voxels, float32 (3,) + m, and each used round's shift in voxels, float32 (3,)."""
        vox = self.voxel_nm.astype(np.float32)
        axes = tuple(plan.origin[d] + (start[d] + np.arange(m[d]) + 0.5) * self.voxel_nm[d] for d in range(3))
        u = plan.deformation.displacement(axes)
        ud = np.stack([u[d] / vox[d] for d in range(3)])  # the displacement in voxels, once per chunk
        shifts = {}
        for r in sorted({self.channel_round(ch) for ch in range(len(self.channel_names))}):
            s = plan.round_shift_nm[r].astype(np.float32)
            shifts[r] = np.array([s[d] / vox[d] for d in range(3)], np.float32)
        return ud, shifts

    def _warp(self, density, ud, shifts, off):
        """Resample each channel at ``p + u(p) + round shift``: channel values ``density`` on the
        raster box whose voxel ``off`` (3 ints) is the blurred grid's first voxel, ``ud`` and
        ``shifts`` from :meth:`_warp_coordinates`.  Returns the warped channels and, for receptor
        and channel stains warped where they are non-zero only (:func:`scanners.exm_boxes.warp_sparse`),
        that region (else None).

        Coordinates are an exact integer grid index plus a float32 displacement that depends only
        on the global voxel; in float64 their sum and its fractional part are exact, so
        interpolation weights do not depend on where the chunk or its raster box starts
        (byte-identical chunks).
        """
        out, regions = [None] * len(density), [None] * len(density)
        names, off = self.channel_names, np.asarray(off, np.float64)
        sparse = [ch for ch, name in enumerate(names) if name.startswith(("receptor:", "channel:"))]
        ud_range = [(ud[d].min(), ud[d].max()) for d in range(3)] if sparse else None
        for r, sd in shifts.items():
            chans = [ch for ch in range(len(density)) if self.channel_round(ch) == r]
            for ch in (ch for ch in chans if ch in sparse):
                got = warp_sparse(np.asarray(density[ch], np.float32), ud, sd, off, ud_range)
                if got is not None:
                    out[ch], regions[ch] = got
            # voxel p samples float64(u(p) / vox + shift / vox) + (p + off): the coordinates are
            # made in the kernel, one set of corners and weights for every channel of the round,
            # with SciPy's arithmetic (map_coordinates order 1, mode "nearest"): bit-identical,
            # scanners/warp_kernel.py
            rest = [ch for ch in chans if out[ch] is None]
            if rest:
                warped = trilinear_shifted(np.stack([np.asarray(density[ch], np.float32) for ch in rest]), ud, sd, off)
                for ch, w in zip(rest, warped):
                    out[ch] = w
        return out, regions
