"""What every scanner shares: the output grid, the chunk loop, whole-volume rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from .chunking import iter_chunks, normalize_chunk_shape
from .noise import as_seed_sequence
from .tissue import TissueFunction

Slices = tuple[slice, slice, slice, slice]


class Scanner:
    """Base class: subclasses set ``modality``, ``config_cls`` and implement the chunk stages.

    Subclasses implement

    * ``_plan(tissue, origin_nm, size_nm, seed) -> plan``: everything drawn for the whole region
      (artifacts), computed once per render so no chunk depends on another;
    * ``_render_chunk(tissue, plan, zyx_slices) -> (C, z, y, x) array``.
    """

    modality: str = ""
    config_cls: type = object

    def __init__(self, config: Any):
        if not isinstance(config, self.config_cls):
            raise TypeError(f"config: expected {self.config_cls.__name__}, got {type(config).__name__}")
        self.config = config

    # -- the output grid ---------------------------------------------------------------------
    @property
    def voxel_nm(self) -> np.ndarray:
        """Output voxel size (z, y, x) in tissue (pre-expansion) nanometres."""
        return np.asarray(self.config.voxel_nm, float)

    @property
    def channel_names(self) -> list[str]:
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.config.dtype)

    def grid_shape(self, region_size_nm: Sequence[float]) -> tuple[int, int, int]:
        """(Z, Y, X): whole output voxels that fit in the region."""
        size = np.asarray(region_size_nm, float)
        if size.shape != (3,) or np.any(~np.isfinite(size)) or np.any(size <= 0):
            raise ValueError(f"region_size_nm: expected three positive numbers (z, y, x), got {region_size_nm!r}")
        n = np.floor(size / self.voxel_nm + 1e-6).astype(int)
        if np.any(n < 1):
            raise ValueError(f"region_size_nm: expected at least one voxel of {tuple(self.voxel_nm)} nm, got {tuple(size)}")
        return tuple(int(v) for v in n)

    def output_shape(self, region_size_nm: Sequence[float]) -> tuple[int, int, int, int]:
        """(C, Z, Y, X) of the image of a region of the tissue block."""
        return (len(self.channel_names),) + self.grid_shape(region_size_nm)

    # -- rendering -----------------------------------------------------------------------------
    def render(
        self,
        tissue: TissueFunction,
        region_origin_nm: Sequence[float],
        region_size_nm: Sequence[float],
        *,
        seed: np.random.SeedSequence | int,
        chunk_shape: Sequence[int] | None = (64, 256, 256),
    ) -> Iterator[tuple[Slices, np.ndarray]]:
        """Render a region chunk by chunk.

        Parameters
        ----------
        tissue : TissueFunction
            Rasterizes any box of the tissue block on demand.
        region_origin_nm, region_size_nm : sequences of 3 floats
            The imaged box (z, y, x) in tissue nm.
        seed : SeedSequence or int
            The scanner's seed; the same seed gives the same image for any ``chunk_shape``.
        chunk_shape : (z, y, x) or None
            Output chunk shape in voxels (None: one chunk).

        Yields
        ------
        slices, block
            ``out[slices] = block`` fills the (C, Z, Y, X) output array.
        """
        job = self.prepare(tissue, region_origin_nm, region_size_nm, seed=seed, chunk_shape=chunk_shape)
        for zyx in job.chunks():
            yield self.render_chunk(tissue, job, zyx)

    def prepare(self, tissue: TissueFunction, region_origin_nm: Sequence[float], region_size_nm: Sequence[float],
                *, seed: np.random.SeedSequence | int,
                chunk_shape: Sequence[int] | None = (64, 256, 256)) -> "RenderJob":
        """Everything a render draws for the whole region, once: chunks are then independent tasks.

        Returns a picklable :class:`RenderJob`; :meth:`render_chunk` renders any of its chunks in
        any order or process (a chunk's image depends only on the job and the chunk's slices).
        """
        origin = np.asarray(region_origin_nm, float)
        if origin.shape != (3,) or not np.all(np.isfinite(origin)):
            raise ValueError(f"region_origin_nm: expected three finite numbers (z, y, x), got {region_origin_nm!r}")
        shape = self.grid_shape(region_size_nm)
        seed = as_seed_sequence(seed)
        self._check_tissue(tissue)
        plan = self._plan(tissue, origin, shape, seed)
        return RenderJob(shape, self._chunk_shape(shape, chunk_shape), len(self.channel_names), plan)

    def render_chunk(self, tissue: TissueFunction, job: "RenderJob",
                     zyx: tuple[slice, slice, slice]) -> tuple[Slices, np.ndarray]:
        """One chunk of a prepared render: ``(slices, block)`` with ``out[slices] = block``."""
        return (slice(0, job.n_channels),) + tuple(zyx), self._render_chunk(tissue, job.plan, tuple(zyx))

    def render_volume(self, tissue: TissueFunction, region_origin_nm: Sequence[float],
                      region_size_nm: Sequence[float], *, seed: np.random.SeedSequence | int,
                      chunk_shape: Sequence[int] | None = (64, 256, 256)) -> np.ndarray:
        """The whole (C, Z, Y, X) image in memory (for tests and small regions)."""
        out = np.zeros(self.output_shape(region_size_nm), self.dtype)
        for sl, block in self.render(tissue, region_origin_nm, region_size_nm, seed=seed,
                                     chunk_shape=chunk_shape):
            out[sl] = block
        return out

    def labels_on_frame(self, tissue: TissueFunction, region_origin_nm: Sequence[float],
                        region_size_nm: Sequence[float], *, seed: np.random.SeedSequence | int,
                        chunk_shape: Sequence[int] | None = (64, 256, 256),
                        deformed: bool = True) -> Iterator[tuple[tuple[slice, slice, slice], np.ndarray]]:
        """Cell labels on the image's own frame, chunk by chunk (uint32, (z, y, x) blocks).

        Each voxel gets the label of the tissue that the scanner imaged there, after every
        deformation it applied (misalignment, section-thickness variation, folds, cracks, expansion
        distortion...); voxels that show no tissue, or tissue doubled over, get 0.  A perfect
        segmentation of the image is these labels.  ``deformed=False`` gives the undeformed frame
        (labels at the nominal voxel centres).  Same seed as :meth:`render` ⇒ the same frame, for any
        ``chunk_shape``.
        """
        origin = np.asarray(region_origin_nm, float)
        shape = self.grid_shape(region_size_nm)
        seed = as_seed_sequence(seed)
        plan = self._plan(tissue, origin, shape, seed) if deformed else None
        for zyx in iter_chunks(shape, normalize_chunk_shape(shape, chunk_shape)):
            if plan is None:
                yield zyx, undeformed_labels(tissue, origin, self.voxel_nm, zyx)
            else:
                yield zyx, self._labels_chunk(tissue, plan, zyx)

    def labels_chunk(self, tissue: TissueFunction, job: "RenderJob", zyx: tuple[slice, slice, slice]) -> np.ndarray:
        """Labels (uint32, (z, y, x)) of one chunk on the image frame of a prepared render: the same
        frame as :meth:`labels_on_frame` with ``deformed=True``, as an independent task."""
        return self._labels_chunk(tissue, job.plan, tuple(zyx))

    def _labels_chunk(self, tissue: TissueFunction, plan: Any, zyx: tuple[slice, slice, slice]) -> np.ndarray:
        """Labels of one chunk on the image frame; scanners that deform the tissue override this."""
        return undeformed_labels(tissue, plan.origin, self.voxel_nm, zyx)

    def artifact_truth(self, region_origin_nm: Sequence[float], region_size_nm: Sequence[float], *,
                       seed: np.random.SeedSequence | int) -> dict[str, np.ndarray]:
        """Ground truth of every artifact drawn for this region and seed (saved into ``truth/``)."""
        shape = self.grid_shape(region_size_nm)
        return self._truth(np.asarray(region_origin_nm, float), shape, as_seed_sequence(seed))

    # -- hooks --------------------------------------------------------------------------------
    def _chunk_shape(self, shape: tuple[int, int, int], chunk_shape: Sequence[int] | None) -> tuple[int, ...]:
        return normalize_chunk_shape(shape, chunk_shape)

    def _check_tissue(self, tissue: TissueFunction) -> None:
        pass

    def _plan(self, tissue: TissueFunction, origin: np.ndarray, shape: tuple[int, int, int],
              seed: np.random.SeedSequence) -> Any:
        raise NotImplementedError

    def _render_chunk(self, tissue: TissueFunction, plan: Any, zyx: tuple[slice, slice, slice]) -> np.ndarray:
        raise NotImplementedError

    def _truth(self, origin: np.ndarray, shape: tuple[int, int, int],
               seed: np.random.SeedSequence) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


def undeformed_labels(tissue: TissueFunction, origin: np.ndarray, voxel_nm: np.ndarray,
                      zyx: tuple[slice, slice, slice]) -> np.ndarray:
    """Labels at the nominal voxel centres of chunk ``zyx`` of the grid at ``origin``."""
    start = np.array([s.start for s in zyx])
    size = tuple(s.stop - s.start for s in zyx)
    corner = np.asarray(origin, float) + start * np.asarray(voxel_nm, float)
    return np.asarray(tissue(corner, size, voxel_nm, ["labels"])["labels"], np.uint32)


@dataclass
class RenderJob:
    """A prepared render: output grid (Z, Y, X), chunk shape, channel count and the scanner's plan."""

    shape: tuple[int, int, int]
    chunk_shape: tuple[int, ...]
    n_channels: int
    plan: Any

    def chunks(self) -> list[tuple[slice, slice, slice]]:
        """The (z, y, x) slices of every chunk, in C order."""
        return list(iter_chunks(self.shape, self.chunk_shape))


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Digitize detector values: round and clip for integer dtypes, plain cast for floats."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)
