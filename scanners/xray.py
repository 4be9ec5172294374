"""X-ray nanotomography: synchrotron phase contrast (XNH-like) and expansion + X-ray.

Stages per slab of slices (the rotation axis is z, so work is cut along z only, whole slices):
stain density -> complex refractive index ``n = 1 - delta + i beta`` -> parallel-beam projections
over N angles -> exit wave -> optional Fresnel propagation to the detector -> intensity ->
source/detector blur -> Poisson photon noise from the flux (with per-pixel gain errors that make
ring artifacts) -> phase retrieval (Paganin, single material) -> filtered back-projection.

Slabs sit on a fixed grid with a halo of rows (propagation and blur mix neighbouring rows), so the
image does not depend on the caller's chunk shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import fft

from . import validation as v
from .base import Scanner, to_dtype
from .noise import poisson_from_normal, seed_int, tiled_normal
from .psf import FWHM_PER_SIGMA
from .registry import SCANNERS
from .stain import STAIN_FIELDS, StainModel, stain_density
from .tissue import TissueFunction
from .tomo import ParallelBeam

HC_KEV_NM = 1.2398419843320026  # photon wavelength (nm) = HC / energy (keV)
SYSTEM_SIGMA_VOX = 0.5  # blur of pixel-driven projection + linear back-projection (calibrated)
DTYPES = ("float32",)
STAIN_VOXELS = 2_000_000  # voxels of stain density computed at once (~25 B each of temporaries)


@dataclass(frozen=True)
class XrayConfig:
    """Settings of an X-ray tomography scan (lengths in tissue nm unless marked physical)."""

    voxel_nm: tuple[float, float, float] = (40.0, 40.0, 40.0)
    expansion_factor: float = 1.0  # > 1: the sample was expanded first (voxels are tissue nm)
    energy_keV: float = 10.0
    resolution_nm: float = 100.0  # FWHM of the reconstruction (tissue nm)
    n_angles: int = 200
    angle_range_deg: float = 180.0  # < 180 leaves a missing wedge
    photons_per_pixel: float = 2.0e4  # incident photons per detector pixel per projection
    delta_per_stain: float = 1.0e-6  # refractive decrement per unit stain density (unexpanded)
    beta_per_stain: float = 6.0e-8  # absorption index per unit stain density
    fresnel: bool = True
    propagation_distance_mm: float = 0.01  # effective sample-detector distance
    phase_retrieval: bool = True  # Paganin with delta/beta = delta_per_stain / beta_per_stain
    ring_amplitude: float = 0.0  # std of per-pixel detector gain errors
    slab_sections: int = 16
    stain_membrane: float = 2.5  # osmium: lipid bilayers take the most stain
    stain_synapse: float = 2.0
    stain_vesicles: float = 0.5
    stain_cytoplasm: float = 0.15
    stain_extracellular: float = 0.03
    texture_amplitude: float = 0.4
    texture_length_nm: float = 30.0
    cell_contrast: float = 0.2
    # per-class stain (scanners/stain.py): each class's refractive index is delta_per_stain x its stain
    stain_cleft: float = 0.25
    stain_mitochondrion: float = 0.45
    stain_cristae: float = 0.6
    stain_nucleus: float = 0.3
    stain_chromatin: float = 0.8
    stain_organelle_membrane: float = 1.5
    granularity: float = 0.3
    noise: bool = True
    dtype: str = "float32"

    def __post_init__(self) -> None:
        vox = v.triple("voxel_nm", self.voxel_nm)
        if vox[1] != vox[2]:
            raise ValueError(f"voxel_nm: expected square slices (y == x) for tomography, got {self.voxel_nm!r}")
        v.set_field(self, "voxel_nm", vox)
        v.set_field(self, "expansion_factor", v.number("expansion_factor", self.expansion_factor, low=1))
        for name in ("energy_keV", "resolution_nm", "photons_per_pixel", "delta_per_stain", "beta_per_stain",
                     "texture_length_nm"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0, low_open=True))
        v.set_field(self, "n_angles", v.number("n_angles", self.n_angles, low=2, integer=True))
        v.set_field(self, "slab_sections", v.number("slab_sections", self.slab_sections, low=1, integer=True))
        v.set_field(self, "angle_range_deg", v.number("angle_range_deg", self.angle_range_deg, low=0, high=360, low_open=True))
        for name in ("propagation_distance_mm", "ring_amplitude", "stain_membrane", "stain_synapse", "stain_vesicles",
                     "stain_cytoplasm", "stain_extracellular", "texture_amplitude", "cell_contrast",
                     "stain_cleft", "stain_mitochondrion", "stain_cristae", "stain_nucleus", "stain_chromatin",
                     "stain_organelle_membrane", "granularity"):
            v.set_field(self, name, v.number(name, getattr(self, name), low=0))
        for name in ("fresnel", "phase_retrieval", "noise"):
            v.set_field(self, name, v.boolean(name, getattr(self, name)))
        v.choice("dtype", self.dtype, DTYPES)

    @property
    def stain(self) -> StainModel:
        return StainModel(self.stain_membrane, self.stain_synapse, self.stain_vesicles, self.stain_cytoplasm,
                          self.stain_extracellular, self.texture_amplitude, self.texture_length_nm,
                          self.cell_contrast, cleft=self.stain_cleft, mitochondrion=self.stain_mitochondrion,
                          cristae=self.stain_cristae, nucleus=self.stain_nucleus, chromatin=self.stain_chromatin,
                          organelle_membrane=self.stain_organelle_membrane, granularity=self.granularity)

    def refractive_index(self, stain_class: str) -> tuple[float, float]:
        """(delta, beta) of a tissue class from its stain weight: ``delta_per_stain * weight`` (and
        likewise beta), for ``membrane``, ``synapse``, ``vesicles``, ``cytoplasm``, ``extracellular``,
        ``cleft``, ``mitochondrion``, ``nucleus``, ``organelle_membrane``: the index the projector uses."""
        w = float(getattr(self.stain, stain_class))
        return self.delta_per_stain * w, self.beta_per_stain * w

    @property
    def wavelength_nm(self) -> float:
        return HC_KEV_NM / self.energy_keV

    @property
    def delta_beta(self) -> float:
        return self.delta_per_stain / self.beta_per_stain


@dataclass
class _Plan:
    origin: np.ndarray
    shape: tuple[int, int, int]
    seed: np.random.SeedSequence
    geometry: ParallelBeam
    stain_key: int
    cache: dict = field(default_factory=dict)  # the last slab rendered (slabs feed several chunks)


@SCANNERS.register("xray")
class XrayScanner(Scanner):
    """Parallel-beam X-ray nanotomography; the output is the reconstructed delta (x 1e6)."""

    modality = "xray"
    config_cls = XrayConfig

    @property
    def channel_names(self) -> list[str]:
        return ["delta_ppm"]

    @property
    def angles_deg(self) -> np.ndarray:
        c = self.config
        return np.linspace(0.0, c.angle_range_deg, c.n_angles, endpoint=False)

    # -- geometry of a slab ---------------------------------------------------------------------
    def _sigma_vox(self) -> tuple[float, float]:
        """Detector blur (rows, u) in voxels so that the reconstruction has ``resolution_nm``."""
        s = self.config.resolution_nm / FWHM_PER_SIGMA / self.voxel_nm
        return float(s[0]), float(np.sqrt(max(s[2] ** 2 - SYSTEM_SIGMA_VOX ** 2, 0.0)))

    def _propagation_halo_vox(self) -> np.ndarray:
        c = self.config
        if not c.fresnel or c.propagation_distance_mm == 0:
            return np.zeros(2, int)
        # the Nyquist frequency spreads over lambda * d * f_max; three times that holds the fringes
        pix = self.voxel_nm[[0, 2]] * c.expansion_factor
        spread = c.wavelength_nm * c.propagation_distance_mm * 1e6 / (2 * pix)
        return np.ceil(3 * spread / pix).astype(int) + 2

    def _halo(self) -> tuple[int, int]:
        sz, su = self._sigma_vox()
        p = self._propagation_halo_vox()
        return int(4 * sz + 0.5) + int(p[0]) + 2, int(4 * su + 0.5) + int(p[1]) + 8

    def _chunk_shape(self, shape, chunk_shape):
        cz = shape[0] if chunk_shape is None else max(1, min(int(chunk_shape[0]), shape[0]))
        return (cz, shape[1], shape[2])  # whole slices: projections need whole rows

    # -- plan / truth -----------------------------------------------------------------------------
    def _plan(self, tissue, origin, shape, seed) -> _Plan:
        return _Plan(origin, shape, seed, ParallelBeam(shape[1], shape[2], self.angles_deg), seed_int(seed, "stain"))

    def _ring_gain(self, seed, row0: int, n_rows: int, n_u: int) -> np.ndarray:
        z = tiled_normal(seed, "xray:ring", (row0, 0), (n_rows, n_u), tile=(16, 1024))
        return 1.0 + np.float32(self.config.ring_amplitude) * z

    def _truth(self, origin, shape, seed) -> dict[str, np.ndarray]:
        n_u = ParallelBeam(shape[1], shape[2], self.angles_deg[:1]).n_u + 2 * self._halo()[1]
        return {
            "angles_deg": self.angles_deg,
            "ring_gain": self._ring_gain(seed, 0, shape[0], n_u),
        }

    # -- the physics of one slab --------------------------------------------------------------------
    def _slab_rows(self, plan: _Plan, slab: int) -> tuple[int, int, int]:
        z0 = slab * self.config.slab_sections
        z1 = min(z0 + self.config.slab_sections, plan.shape[0])
        return z0, z1, self._halo()[0]

    def _line_integrals(self, tissue: TissueFunction, plan: _Plan, slab: int) -> np.ndarray:
        """Sum of stain density along each ray, pixel units: float32 (rows with halo, n_angles, n_u).

        The slab is rasterized in one call (a box's fields depend on the box near object bounds),
        its stain density computed ``STAIN_VOXELS`` at a time (whole rows: the textures are hashed
        on position, every other term is per voxel), so the density's temporaries stay small.
        """
        z0, z1, h = self._slab_rows(plan, slab)
        vox = self.voxel_nm
        corner = plan.origin + np.array([z0 - h, 0, 0]) * vox
        shape = (z1 - z0 + 2 * h, plan.shape[1], plan.shape[2])
        f = tissue(corner, shape, vox, STAIN_FIELDS)
        axes = tuple(corner[d] + (np.arange(n) + 0.5) * vox[d] for d, n in enumerate(shape))
        density = np.empty(shape, np.float32)
        step = max(1, STAIN_VOXELS // (shape[1] * shape[2]))
        for r in range(0, shape[0], step):
            rows = slice(r, r + step)
            density[rows] = stain_density({k: v[rows] for k, v in f.items()}, self.config.stain,
                                          (axes[0][rows],) + axes[1:], plan.stain_key)
        del f
        return plan.geometry.project(density)

    def _detector(self, plan: _Plan, slab: int, proj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Intensity at the detector (flat-field units) and the measured (noisy) counts."""
        c = self.config
        z0, z1, h = self._slab_rows(plan, slab)
        hu = self._halo()[1]
        pix = vox_phys = self.voxel_nm * c.expansion_factor
        k = 2 * np.pi / c.wavelength_nm
        # the gel is stained after expansion (delta/beta per stain refer to the imaged sample);
        # expansion stretches every path by e
        path = proj * np.float32(vox_phys[2])
        psi = np.exp((-k * path).astype(np.float32) * (np.float32(c.beta_per_stain) + 1j * np.float32(c.delta_per_stain)))
        psi = np.pad(psi.astype(np.complex64), ((0, 0), (0, 0), (hu, hu)), constant_values=1.0)
        psi = np.moveaxis(psi, 1, 0)  # (angles, rows, u): each projection is an image
        fz = fft.fftfreq(psi.shape[1], pix[0])[:, None]
        fu = fft.fftfreq(psi.shape[2], pix[2])[None, :]
        f2 = (fz ** 2 + fu ** 2).astype(np.float32)
        if c.fresnel and c.propagation_distance_mm > 0:
            d_nm = c.propagation_distance_mm * 1e6
            kernel = np.exp(-1j * np.pi * c.wavelength_nm * d_nm * f2).astype(np.complex64)
            psi = fft.ifft2(fft.fft2(psi, workers=2) * kernel, workers=2)
        intensity = (psi.real ** 2 + psi.imag ** 2).astype(np.float32)
        sz, su = self._sigma_vox()
        mtf = np.exp(-2 * np.pi ** 2 * ((sz * fz * pix[0]) ** 2 + (su * fu * pix[2]) ** 2)).astype(np.float32)
        intensity = fft.irfft2(fft.rfft2(intensity, workers=2) * mtf[:, : intensity.shape[2] // 2 + 1],
                               s=intensity.shape[1:], workers=2).astype(np.float32)
        gain = self._ring_gain(plan.seed, z0 - h, z1 - z0 + 2 * h, intensity.shape[2])
        mean = np.maximum(intensity, 0) * gain[None] * np.float32(c.photons_per_pixel)
        if c.noise:
            z = tiled_normal(plan.seed, "xray:photons", (0, z0 - h, 0), mean.shape, tile=(8, 16, 512))
            counts = poisson_from_normal(mean, z)
        else:
            counts = mean
        return intensity, counts

    def _retrieve(self, counts: np.ndarray) -> np.ndarray:
        """Phase retrieval: projected delta (physical nm) from flat-field-corrected counts."""
        c = self.config
        measured = counts / np.float32(c.photons_per_pixel)
        pix = self.voxel_nm * c.expansion_factor
        if c.fresnel and c.phase_retrieval and c.propagation_distance_mm > 0:
            fz = fft.fftfreq(measured.shape[1], pix[0])[:, None]
            fu = fft.rfftfreq(measured.shape[2], pix[2])[None, :]
            d_nm = c.propagation_distance_mm * 1e6
            denom = (1.0 + np.pi * c.wavelength_nm * d_nm * c.delta_beta * (fz ** 2 + fu ** 2)).astype(np.float32)
            measured = fft.irfft2(fft.rfft2(measured, workers=2) / denom, s=measured.shape[1:], workers=2)
        floor = np.float32(0.5 / c.photons_per_pixel)
        # single material: delta = (delta / beta) * beta, and beta comes from the attenuation
        return (-c.wavelength_nm / (4 * np.pi) * c.delta_beta) * np.log(np.maximum(measured, floor)).astype(np.float32)

    def projections(self, tissue: TissueFunction, region_origin_nm, region_size_nm, *, seed, slab: int = 0) -> dict[str, np.ndarray]:
        """The detector data of one slab (for tests and teaching).

        Returns
        -------
        dict
            ``intensity`` (noiseless, flat-field units) and ``counts`` (measured photons), both
            (angles, rows, u) over the slab's own rows, u including the padding beside the sample;
            ``photons_per_pixel``; ``ring_gain`` (rows, u).
        """
        from .noise import as_seed_sequence

        origin = np.asarray(region_origin_nm, float)
        shape = self.grid_shape(region_size_nm)
        plan = self._plan(tissue, origin, shape, as_seed_sequence(seed))
        z0, z1, h = self._slab_rows(plan, slab)
        intensity, counts = self._detector(plan, slab, self._line_integrals(tissue, plan, slab))
        core = slice(h, h + z1 - z0)
        return {"intensity": intensity[:, core], "counts": counts[:, core],
                "photons_per_pixel": np.float64(self.config.photons_per_pixel),
                "ring_gain": self._ring_gain(plan.seed, z0 - h, z1 - z0 + 2 * h, counts.shape[2])[core]}

    def _render_slab(self, tissue: TissueFunction, plan: _Plan, slab: int) -> np.ndarray:
        c = self.config
        z0, z1, h = self._slab_rows(plan, slab)
        hu = self._halo()[1]
        _, counts = self._detector(plan, slab, self._line_integrals(tissue, plan, slab))
        delta_path = self._retrieve(counts)[:, h:h + z1 - z0, hu:counts.shape[2] - hu]
        sino = np.moveaxis(delta_path, 0, 1) / np.float32(self.voxel_nm[2] * c.expansion_factor)
        step = np.deg2rad(c.angle_range_deg) / c.n_angles
        delta = plan.geometry.fbp(sino, step)
        return delta * np.float32(1e6)  # delta of the imaged sample, parts per million

    def _render_chunk(self, tissue: TissueFunction, plan: _Plan, zyx) -> np.ndarray:
        sz = zyx[0]
        n = self.config.slab_sections
        out = np.empty((1, sz.stop - sz.start, plan.shape[1], plan.shape[2]), np.float32)
        for slab in range(sz.start // n, (sz.stop - 1) // n + 1):
            if plan.cache.get("slab") != slab:
                plan.cache.clear()
                plan.cache.update(slab=slab, image=self._render_slab(tissue, plan, slab))
            z0 = slab * n
            a, b = max(sz.start, z0), min(sz.stop, z0 + n)
            out[0, a - sz.start:b - sz.start] = plan.cache["image"][a - z0:b - z0]
        return to_dtype(out[:, :, zyx[1], zyx[2]], self.dtype)
