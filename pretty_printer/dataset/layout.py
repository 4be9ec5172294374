"""Dataset layout on disk: ``public/`` (what a pipeline under test receives) and ``truth/``.

::

    DIR/public/manifest.json        modalities, voxel sizes, task description, truth commitment
    DIR/public/<modality>.zarr      OME-Zarr (NGFF 0.4, zarr format 2), axes c, z, y, x, scale in nm
    DIR/truth/seed.json             root seed and the resolved preset
    DIR/truth/...                   ANN, circuit, phantom, SWC, meshes, synapses, labels, artifacts

Nothing in ``public/`` carries the seed, noiseless images or cell ids.  Datasets are written into
a temporary sibling directory and renamed into place at the end, so a failure leaves nothing
half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from pretty_printer.errors import DatasetError

MANIFEST_FORMAT = "neural-pretty-printer/dataset@1"
_COMPRESSION_LEVEL = 3


def _zstd():
    import numcodecs

    return numcodecs.Zstd(level=_COMPRESSION_LEVEL)


# --------------------------------------------------------------------------- writing
@contextlib.contextmanager
def atomic_directory(out: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` only if the block succeeds."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise DatasetError(f"--out {str(out)!r}: expected a new or empty directory, got an existing non-empty one (use --force to replace it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)


def ome_multiscales(name: str, voxel_nm, n_channels: int) -> dict:
    """NGFF 0.4 ``multiscales`` metadata for one level with axes (c, z, y, x) in nanometres."""
    return {
        "multiscales": [
            {
                "version": "0.4",
                "name": name,
                "axes": [
                    {"name": "c", "type": "channel"},
                    {"name": "z", "type": "space", "unit": "nanometer"},
                    {"name": "y", "type": "space", "unit": "nanometer"},
                    {"name": "x", "type": "space", "unit": "nanometer"},
                ],
                "datasets": [
                    {
                        "path": "0",
                        "coordinateTransformations": [
                            {"type": "scale", "scale": [1.0] + [float(v) for v in voxel_nm]}
                        ],
                    }
                ],
            }
        ]
    }


def create_ome_zarr(path: Path, *, shape, chunks, dtype, voxel_nm, name: str,
                    channel_names: list[str] | None = None, attrs: dict | None = None):
    """Create an OME-Zarr image group with one (c, z, y, x) array at level ``0``; return the array."""
    import zarr

    shape = tuple(int(s) for s in shape)
    if len(shape) != 4:
        raise ValueError(f"shape: expected (c, z, y, x), got {shape}")
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    meta = ome_multiscales(name, voxel_nm, shape[0])
    if channel_names:
        meta["omero"] = {"channels": [{"label": c, "active": True} for c in channel_names]}
    meta.update(attrs or {})
    group.attrs.update(meta)
    chunk4 = (1,) + tuple(min(int(c), s) for c, s in zip(chunks, shape[1:]))
    return group.create_array(
        "0", shape=shape, chunks=chunk4, dtype=dtype, compressors=_zstd(), fill_value=0
    )


def write_volume(path: Path, volume: np.ndarray, *, voxel_nm, chunks, name: str) -> None:
    """Write a (z, y, x) or (c, z, y, x) array as OME-Zarr."""
    vol = volume if volume.ndim == 4 else volume[None]
    arr = create_ome_zarr(path, shape=vol.shape, chunks=chunks, dtype=vol.dtype, voxel_nm=voxel_nm, name=name)
    arr[...] = vol


# --------------------------------------------------------------------------- reading
def open_ome_zarr(path: Path):
    """Open an OME-Zarr image written by :func:`create_ome_zarr`; return (array, voxel_nm)."""
    import zarr

    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{str(path)!r} does not exist")
    group = zarr.open_group(str(path), mode="r")
    ms = group.attrs["multiscales"][0]
    scale = ms["datasets"][0]["coordinateTransformations"][0]["scale"]
    return group[ms["datasets"][0]["path"]], tuple(float(s) for s in scale[1:])


def read_volume(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    arr, voxel = open_ome_zarr(path)
    data = arr[...]
    return (data[0] if data.shape[0] == 1 else data), voxel


def write_json(path: Path, obj) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def truth_commitment(truth_dir: Path) -> str:
    """SHA-256 over every truth file (sorted relative paths and their contents).

    Published in ``public/manifest.json`` so that a later release of ``truth/`` can be checked
    against what was committed to when the images were released.
    """
    h = hashlib.sha256()
    for p in sorted(Path(truth_dir).rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(truth_dir)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


# --------------------------------------------------------------------------- dataset
class Dataset:
    """Read access to a generated dataset directory."""

    def __init__(self, root: Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"dataset directory {str(self.root)!r} does not exist")
        manifest = self.root / "public" / "manifest.json"
        if not manifest.is_file():
            raise DatasetError(f"dataset {str(self.root)!r}: expected public/manifest.json, which is missing")
        self.manifest = read_json(manifest)
        if self.manifest.get("format") != MANIFEST_FORMAT:
            raise DatasetError(f"dataset {str(self.root)!r}: manifest format {self.manifest.get('format')!r} is not {MANIFEST_FORMAT!r}")

    @property
    def public(self) -> Path:
        return self.root / "public"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def modalities(self) -> list[str]:
        return sorted(self.manifest["modalities"])

    def modality(self, name: str) -> dict:
        if name not in self.manifest["modalities"]:
            raise DatasetError(f"--modality {name!r}: this dataset has {', '.join(self.modalities)}")
        return self.manifest["modalities"][name]

    def image(self, modality: str):
        """The scan as a lazily read zarr array (c, z, y, x) and its voxel size in nm."""
        return open_ome_zarr(self.public / self.modality(modality)["path"])

    def require_truth(self) -> None:
        if not (self.truth / "seed.json").is_file():
            raise DatasetError(f"dataset {str(self.root)!r}: truth/ is missing (scoring needs the withheld truth)")

    def truth_labels(self, modality: str) -> np.ndarray:
        self.require_truth()
        vol, _ = read_volume(self.truth / "labels" / f"{modality}.zarr")
        return vol

    def circuit(self):
        from pretty_printer.circuit.description import Circuit

        self.require_truth()
        return Circuit.load(self.truth / "circuit.json")

    def phantom(self):
        import phantoms

        self.require_truth()
        return phantoms.load_phantom(self.truth / "phantom")

    def task_data(self):
        """The task's data, regenerated from the seed tree (the same draw ``generate`` used)."""
        from pretty_printer.seeds import stage_rng
        from pretty_printer.task.tasks import make_task

        self.require_truth()
        seed = read_json(self.truth / "seed.json")["seed"]
        return make_task(self.manifest["task"]["name"], stage_rng(seed, "task"))
