"""Resource estimates of a ``generate`` run, checked before any work starts.

The figures come from the preset alone (no tissue is grown): for each modality the scanner's
output grid over the tissue block (voxel counts from :meth:`scanners.Scanner.output_shape`).

* Disk (upper bound, before compression): per modality, the image (``C x Z x Y x X x`` the
  scanner's bytes per voxel) plus the truth label volume (``Z x Y x X x 4`` bytes, uint32).
* Memory (lower bound of the peak): the largest of, per modality, one whole label volume held
  as uint64 (``Z x Y x X x 8``: reconstruct and score read it whole) and one render chunk of
  tissue fields (chunk voxels x (channels + ``tissue.barcode_proteins``) x 4 bytes, float32:
  the barcode field is built for every protein of the tissue).

A run whose memory estimate exceeds the memory available now, or whose disk estimate exceeds
the free space where ``--out`` goes, is refused with both figures.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pretty_printer.errors import ConfigError

_LABEL_BYTES = 4  # uint32 truth labels on disk
_LABEL_BYTES_IN_MEMORY = 8  # uint64 when read for scoring
_FIELD_BYTES = 4  # float32 tissue fields


@dataclass(frozen=True)
class Estimate:
    """Bytes a generate run needs: ``disk`` (uncompressed upper bound) and ``memory`` (peak,
    lower bound), with the per-modality voxel counts they came from."""

    disk: int
    memory: int
    voxels: dict


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"


def estimate(preset) -> Estimate:
    """Estimate the disk and memory of generating ``preset`` (see the module doc).

    Raises
    ------
    ConfigError
        If a scanner or the tissue block is invalid (the same messages as ``generate``).
    """
    from pretty_printer.dataset import stages

    cfg = stages.growth_config(preset)
    block = np.asarray(cfg.block_nm, float)
    barcodes = int(getattr(cfg, "barcode_proteins", 0))
    disk, memory, voxels = 0, 0, {}
    for modality in preset.scan:
        scanner = stages.make_scanner(preset, modality)
        try:
            c, z, y, x = (int(v) for v in scanner.output_shape(block))
        except ValueError as e:
            raise ConfigError(f"preset {preset.name!r} [scan.{modality}]: {e}") from e
        n = z * y * x
        voxels[modality] = n
        disk += n * c * int(np.dtype(scanner.dtype).itemsize) + n * _LABEL_BYTES
        chunk = int(np.prod([min(a, b) for a, b in zip(preset.chunk, (z, y, x))]))
        memory = max(memory, n * _LABEL_BYTES_IN_MEMORY, chunk * (c + barcodes) * _FIELD_BYTES)
    return Estimate(disk=int(disk), memory=int(memory), voxels=voxels)


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def free_disk(out: Path) -> int:
    """Free bytes on the file system that will hold ``out`` (its nearest existing ancestor)."""
    p = Path(os.path.abspath(out))
    while not p.exists():
        p = p.parent
    return int(shutil.disk_usage(p).free)


def check_resources(preset, out: Path) -> Estimate:
    """Refuse a run the machine cannot hold, naming the figure.

    Raises
    ------
    ConfigError
        ``preset: needs at least X of memory ..., this machine has Y available`` (or disk).
    """
    est = estimate(preset)
    mem, disk = available_memory(), free_disk(out)
    detail = ", ".join(f"{m} {v:,} voxels" for m, v in est.voxels.items())
    if est.memory > mem:
        raise ConfigError(f"preset {preset.name!r}: expected a run that fits in memory, got one needing at least "
                          f"{_gib(est.memory)} ({detail}); this machine has {_gib(mem)} available")
    if est.disk > disk:
        raise ConfigError(f"preset {preset.name!r}: expected a run that fits on disk, got one needing up to "
                          f"{_gib(est.disk)} ({detail}); {str(out)!r} has {_gib(disk)} free")
    return est
