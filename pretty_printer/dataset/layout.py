"""Dataset layout on disk: ``public/`` (what a pipeline under test receives) and ``truth/``.

::

    DIR/public/manifest.json        modalities, voxel sizes, task description, truth commitment
    DIR/public/commitment.json  SHA-256 of every truth file (names the first one changed)
    DIR/public/<modality>.zarr      OME-Zarr (NGFF 0.4, zarr format 2), axes c, z, y, x, scale in nm
    DIR/truth/seed.json             root seed and the resolved preset
    DIR/truth/...                   ANN, circuit, phantom, SWC, meshes, synapses, labels, artifacts

Nothing in ``public/`` carries the seed, noiseless images or cell ids.  Datasets are written into
a temporary sibling directory and renamed into place at the end, so a failure leaves nothing
half-written.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np

from pretty_printer.dataset.atomic import atomic_directory  # noqa: F401  (importable from here as before)
from pretty_printer.dataset.commitment import truth_commitment, truth_digests
from pretty_printer.errors import DatasetError

MANIFEST_FORMAT = "neural-pretty-printer/dataset@1"
_COMPRESSION_LEVEL = 3


def _zstd():
    import numcodecs

    return numcodecs.Zstd(level=_COMPRESSION_LEVEL)


def ome_multiscales(name: str, voxel_nm, n_channels: int, origin_nm=None) -> dict:
    """NGFF 0.4 ``multiscales`` metadata for level 0 with axes (c, z, y, x) in nanometres.

    The translation puts voxel centres at ``origin_nm + (i + 0.5) * voxel_nm``
    (:mod:`pretty_printer.dataset.ngff`, which also adds the coarser levels).
    """
    from pretty_printer.dataset import ngff

    return {
        "multiscales": [
            {
                "version": ngff.NGFF_VERSION,
                "name": name,
                "axes": ngff.axes(),
                "datasets": [
                    {"path": "0", "coordinateTransformations": ngff.level_transforms(voxel_nm, origin_nm)}
                ],
            }
        ]
    }


def create_ome_zarr(path: Path, *, shape, chunks, dtype, voxel_nm, name: str,
                    channel_names: list[str] | None = None, attrs: dict | None = None, origin_nm=None):
    """Create an OME-Zarr image group with one (c, z, y, x) array at level ``0``; return the array.

    Once level 0 is written, :func:`pretty_printer.dataset.ngff.write_pyramid` adds the coarser
    levels.  ``origin_nm`` is the physical corner of voxel (0, 0, 0) (default 0).
    """
    import zarr

    from pretty_printer.dataset import ngff

    shape = tuple(int(s) for s in shape)
    if len(shape) != 4:
        raise ValueError(f"shape: expected (c, z, y, x), got {shape}")
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    meta = ome_multiscales(name, voxel_nm, shape[0], origin_nm)
    if channel_names:
        meta["omero"] = ngff.omero(channel_names, dtype)
    meta.update(attrs or {})
    group.attrs.update(meta)
    chunk4 = (1,) + tuple(min(int(c), s) for c, s in zip(chunks, shape[1:]))
    return group.create_array(
        "0", shape=shape, chunks=chunk4, dtype=dtype, compressors=_zstd(), fill_value=0
    )


def write_volume(path: Path, volume: np.ndarray, *, voxel_nm, chunks, name: str, origin_nm=None,
                 labels: bool | None = None, source_image: str | None = None) -> None:
    """Write a (z, y, x) or (c, z, y, x) array as a multiscale OME-Zarr.

    ``labels`` (default: an integer dtype of 32 bits or more, the tool's id volumes) makes it
    an NGFF label image (mode-downsampled, ``image-label`` colours; ``source_image`` relative path).
    """
    from pretty_printer.dataset import ngff

    vol = volume if volume.ndim == 4 else volume[None]
    arr = create_ome_zarr(path, shape=vol.shape, chunks=chunks, dtype=vol.dtype, voxel_nm=voxel_nm, name=name,
                          origin_nm=origin_nm)
    arr[...] = vol
    if labels is None:
        labels = vol.dtype.kind in "ui" and vol.dtype.itemsize >= 4
    ngff.write_pyramid(path, labels=labels, source_image=source_image)


# --------------------------------------------------------------------------- reading
def open_ome_zarr(path: Path):
    """Open an OME-Zarr image written by :func:`create_ome_zarr`; return (array, voxel_nm).

    Returns
    -------
    array : zarr.Array, (c, z, y, x)
        Level 0, read lazily.
    voxel_nm : tuple of 3 float
        Level 0's scale, nm, (z, y, x).

    Raises
    ------
    DatasetError
        ``path`` does not exist.
    """
    import zarr

    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{str(path)!r} does not exist")
    group = zarr.open_group(str(path), mode="r")
    ms = group.attrs["multiscales"][0]
    scale = ms["datasets"][0]["coordinateTransformations"][0]["scale"]
    return group[ms["datasets"][0]["path"]], tuple(float(s) for s in scale[1:])


def read_volume(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Level 0 of an OME-Zarr image read whole: (z, y, x) if it has one channel, else
    (c, z, y, x), and its voxel size in nm (z, y, x)."""
    arr, voxel = open_ome_zarr(path)
    data = arr[...]
    return (data[0] if data.shape[0] == 1 else data), voxel


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as JSON with sorted keys (byte-identical for equal objects)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_json(path: Path):
    """Read a JSON file; a missing, non-UTF-8 or malformed file is a :class:`DatasetError` naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{str(path)!r}: expected a JSON file, which is missing") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise DatasetError(f"{str(path)!r}: expected JSON, got unreadable content ({type(e).__name__})") from None


COMMITMENT_FILE = "commitment.json"


def commit_truth(truth_dir: Path) -> dict:
    """Commit to ``truth_dir``: write the per-file digests to ``public/commitment.json``
    (beside ``truth/``) and return the manifest entry ``{"truth_sha256": ...}``."""
    truth_dir = Path(truth_dir)
    digests = truth_digests(truth_dir)
    total = truth_commitment(digests=digests)
    write_json(truth_dir.parent / "public" / COMMITMENT_FILE, {"truth_sha256": total, "files": digests})
    return {"truth_sha256": total}


# --------------------------------------------------------------------------- dataset
class Dataset:
    """Read access to a generated dataset directory (the layout in the module doc).

    Parameters
    ----------
    root : Path
        The dataset directory: ``public/manifest.json`` is read and checked on construction;
        ``truth/`` is read only when asked for (scoring, previews) and may be absent.

    Attributes
    ----------
    manifest : dict
        ``public/manifest.json``: ``format``, ``modalities`` (name -> ``path``, ``shape``
        (c, z, y, x), ``voxel_nm`` (z, y, x), ``origin_nm``, ``channels``...), ``task`` and the
        truth commitment ``truth_sha256``.

    Raises
    ------
    DatasetError
        The directory, its manifest or a truth file is missing or damaged (one line naming it).
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"dataset directory {str(self.root)!r}: expected a directory, got none (it does not exist)")
        manifest = self.root / "public" / "manifest.json"
        if not manifest.is_file():
            raise DatasetError(f"dataset {str(self.root)!r}: expected public/manifest.json, which is missing")
        self.manifest = read_json(manifest)
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != MANIFEST_FORMAT:
            got = self.manifest.get("format") if isinstance(self.manifest, dict) else type(self.manifest).__name__
            raise DatasetError(f"dataset {str(self.root)!r}: expected public/manifest.json format {MANIFEST_FORMAT!r}, got {got!r}")
        mods = self.manifest.get("modalities")
        if not isinstance(mods, dict) or not mods or not all(
                isinstance(m, dict) and {"path", "shape", "voxel_nm"} <= set(m) for m in mods.values()):
            raise DatasetError(f"dataset {str(self.root)!r}: public/manifest.json modalities: expected a table "
                               "of modalities with path, shape and voxel_nm, got a damaged one")

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
        """The manifest entry of one scan (``path``, ``shape`` (c, z, y, x), ``voxel_nm`` (z, y, x)
        in nm, ...); :class:`DatasetError` naming the valid ones for an unknown name."""
        if name not in self.manifest["modalities"]:
            raise DatasetError(f"--modality: expected one of this dataset's {', '.join(self.modalities)}, got {name!r}")
        return self.manifest["modalities"][name]

    def image(self, modality: str):
        """The scan as a lazily read zarr array (c, z, y, x) and its voxel size in nm."""
        return open_ome_zarr(self.public / self.modality(modality)["path"])

    def require_truth(self) -> None:
        """Raise :class:`DatasetError` unless ``truth/`` (with ``seed.json``) is present."""
        if not (self.truth / "seed.json").is_file():
            raise DatasetError(f"dataset {str(self.root)!r}: expected truth/ with seed.json (scoring needs the withheld truth), got it missing")

    def verify_truth(self) -> None:
        """Check ``truth/`` against the commitment in ``public/manifest.json``.

        Raises
        ------
        DatasetError
            Naming the first file (sorted path order) that was changed, added or removed.
        """
        self.require_truth()
        expected = self.manifest.get("truth_sha256")
        if not isinstance(expected, str):
            raise DatasetError("public/manifest.json truth_sha256: expected the truth commitment, got none")
        digests = truth_digests(self.truth)
        if truth_commitment(digests=digests) == expected:
            return
        files = None
        with contextlib.suppress(DatasetError, AttributeError):
            files = read_json(self.public / COMMITMENT_FILE).get("files")
        if isinstance(files, dict) and truth_commitment(digests=files) == expected:
            for rel in sorted(set(files) | set(digests)):
                if rel not in digests:
                    raise DatasetError(f"truth/{rel}: expected the committed file, got none (removed since the commitment)")
                if rel not in files:
                    raise DatasetError(f"truth/{rel}: expected no such file, got one added since the commitment")
                if files[rel] != digests[rel]:
                    raise DatasetError(f"truth/{rel}: expected SHA-256 {files[rel][:16]}... (public/manifest.json), "
                                       f"got {digests[rel][:16]}...; truth was changed after it was committed")
        raise DatasetError(f"truth/: expected SHA-256 {expected[:16]}... (public/manifest.json truth_sha256), got "
                           f"{truth_commitment(digests=digests)[:16]}...; truth does not match its commitment")

    def truth_labels(self, modality: str) -> np.ndarray:
        """Ground-truth cell ids on one scan's grid, (z, y, x) uint32, 0 = extracellular; read whole.

        Raises
        ------
        DatasetError
            No ``truth/``, or the label volume is missing or damaged.
        """
        self.require_truth()
        try:
            vol, _ = read_volume(self.truth / "labels" / f"{modality}.zarr")
        except DatasetError:
            raise
        except Exception as e:
            raise DatasetError(f"truth/labels/{modality}.zarr: expected an OME-Zarr label volume, got a damaged one ({type(e).__name__})") from None
        return vol

    def circuit(self):
        """The ground-truth :class:`~pretty_printer.circuit.description.Circuit` (``truth/circuit.json``)."""
        from pretty_printer.circuit.description import Circuit

        self.require_truth()
        return _load("truth/circuit.json", lambda: Circuit.load(self.truth / "circuit.json"))

    def phantom(self):
        """The grown tissue, a :class:`phantoms.Phantom` (``truth/phantom/``): skeletons, somata,
        synapses (nm, dataset frame) and the growth config."""
        import phantoms

        self.require_truth()
        return _load("truth/phantom", lambda: phantoms.load_phantom(self.truth / "phantom"))

    def task_data(self):
        """The task's data as ``generate`` saved it in ``truth/task.npz`` (never regenerated, so a
        later change to a task generator cannot change what an old dataset is scored on)."""
        from pretty_printer.task.tasks import TaskData

        self.require_truth()
        t = self.manifest.get("task", {})

        def load():
            with np.load(self.truth / "task.npz", allow_pickle=False) as z:
                return TaskData(name=t["name"], kind=t["kind"], n_inputs=int(t["n_inputs"]),
                                n_outputs=int(t["n_outputs"]), X_train=z["X_train"], y_train=z["y_train"],
                                X_test=z["X_test"], y_test=z["y_test"])

        return _load("truth/task.npz", load)


def _load(what: str, fn):
    from pretty_printer.errors import PrettyPrinterError

    try:
        return fn()
    except PrettyPrinterError:
        raise
    except Exception as e:
        raise DatasetError(f"{what}: expected a readable file written by generate, got a damaged or missing one "
                           f"({type(e).__name__})") from None
