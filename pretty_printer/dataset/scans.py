"""The scan stage of ``generate``: images, labels and semantic volumes as engine tasks over chunks.

For one modality this writes ``public/<modality>.zarr`` (the image), ``truth/labels/<modality>.zarr``
(cell labels on the image's own, deformed frame), ``truth/labels/<modality>_undeformed.zarr``
(labels at the nominal voxel centres), for EM ``truth/semantic/{classes,organelles}.zarr``, and
``truth/artifacts/<modality>.npz``.  Every volume is one task per Zarr-chunk-aligned region
(:mod:`.engine`), each task writing its own chunks; the scanner's whole-region draws are made
once, before the tasks (:meth:`scanners.base.Scanner.prepare`), so the files are byte-identical
whatever the worker count, scheduler or chunk size.  The NGFF pyramids are added once level 0
is complete (:func:`.ngff.write_pyramid`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pretty_printer.dataset import layout, ngff
from pretty_printer.dataset.engine import Engine, as_path, check_aligned, chunk_boxes, open_level0, scan_task
from pretty_printer.progress import Progress
from pretty_printer.seeds import stage_seed


def scan_region(phantom) -> tuple[np.ndarray, np.ndarray]:
    """(origin, size) of the imaged box, nm (z, y, x): the phantom's block."""
    return np.asarray(phantom.block_origin_nm, float), np.asarray(phantom.block_size_nm, float)


def scanner_chunk(scanner, chunk, shape):
    """X-ray reconstructs whole slices: its chunks span full (y, x) planes."""
    if scanner.modality == "xray":
        return (chunk[0], shape[2], shape[3])
    return tuple(chunk)


def _bar(progress: Progress, desc: str):
    return lambda items, total: progress.bar(items, desc, total=total)


# --------------------------------------------------------------------------- tasks (run on workers)
def frame_labels_task(scanner, tissue, job, path: str, zyx) -> None:
    """Labels of one chunk on the scanner's deformed image frame, into the Zarr array at ``path``."""
    open_level0(path)[(0, *zyx)] = scanner.labels_chunk(tissue, job, zyx)


def grid_labels_task(tissue, origin_nm, voxel_nm, path: str, zyx) -> None:
    """Labels of one chunk at the nominal voxel centres of the grid at ``origin_nm``."""
    from scanners.base import undeformed_labels

    open_level0(path)[(0, *zyx)] = undeformed_labels(tissue, np.asarray(origin_nm), np.asarray(voxel_nm), zyx)


def semantic_task(tissue, origin_nm, voxel_nm, classes_path: str, organelles_path: str, zyx) -> None:
    """Class and organelle-instance volumes of one chunk (undeformed grid)."""
    start = np.array([s.start for s in zyx])
    out = tissue(np.asarray(origin_nm) + start * np.asarray(voxel_nm), [s.stop - s.start for s in zyx],
                 np.asarray(voxel_nm), ["semantic", "organelles"])
    open_level0(classes_path)[(0, *zyx)] = out["semantic"]
    open_level0(organelles_path)[(0, *zyx)] = out["organelles"]


# --------------------------------------------------------------------------- writers
def _label_array(path: Path, shape, chunk, voxel_nm, origin_nm, name="labels", dtype="uint32"):
    arr = layout.create_ome_zarr(path, shape=(1, *shape), chunks=chunk, dtype=dtype, voxel_nm=voxel_nm,
                                 name=name, origin_nm=origin_nm)
    return arr, list(chunk_boxes(shape, arr.chunks[1:]))


def write_labels(scanner, tissue, job, path: Path, *, origin_nm, chunk, deformed: bool, eng: Engine,
                 progress: Progress) -> None:
    """Cell labels on the scan's image frame (``deformed``) or its undeformed grid, into OME-Zarr.

    The deformed frame is the scanner's (:meth:`scanners.base.Scanner.labels_on_frame`), from the
    same prepared plan as the image.
    """
    arr, boxes = _label_array(path, job.shape, chunk, scanner.voxel_nm, origin_nm)
    if deformed:
        eng.map(frame_labels_task, (scanner, tissue, job), boxes, fixed=(as_path(path),),
                bar=_bar(progress, "labels"))
    else:
        eng.map(grid_labels_task, (tissue,), boxes, bar=_bar(progress, "labels"),
                fixed=(np.asarray(origin_nm, float), np.asarray(scanner.voxel_nm, float), as_path(path)))
    ngff.write_pyramid(path, labels=True,  # NGFF labels; the deformed ones annotate the public scan
                       source_image=f"../../../public/{scanner.modality}.zarr" if deformed else None)


def write_semantic(tissue, truth: Path, *, origin_nm, shape, voxel_nm, chunk, eng: Engine,
                   progress: Progress) -> None:
    """``truth/semantic/<class volume, organelle instances>.zarr`` on a scan's undeformed grid."""
    from phantoms.rasterize import SEMANTIC_CLASSES

    paths = {name: truth / "semantic" / f"{name}.zarr" for name in ("classes", "organelles")}
    _, boxes = _label_array(paths["classes"], shape, chunk, voxel_nm, origin_nm, "classes", "uint8")
    _label_array(paths["organelles"], shape, chunk, voxel_nm, origin_nm, "organelles", "uint32")
    eng.map(semantic_task, (tissue,), boxes, bar=_bar(progress, "semantic"),
            fixed=(np.asarray(origin_nm, float), np.asarray(voxel_nm, float),
                   as_path(paths["classes"]), as_path(paths["organelles"])))
    for p in paths.values():  # class and instance volumes are NGFF label images with their own pyramids
        ngff.write_pyramid(p, labels=True)
    layout.write_json(truth / "semantic" / "classes.json", {"classes": list(SEMANTIC_CLASSES)})


def write_scan(scanner, tissue, phantom, preset, seed, public: Path, truth: Path, eng: Engine,
               progress: Progress) -> dict:
    """Image, labels (deformed and undeformed), semantic volumes (EM) and artifact truth of one
    modality; returns its ``manifest.json`` entry."""
    modality = scanner.modality
    origin, size = scan_region(phantom)
    shape = tuple(int(s) for s in scanner.output_shape(size))
    path = public / f"{modality}.zarr"
    arr = layout.create_ome_zarr(path, shape=shape, chunks=preset.chunk, dtype=scanner.dtype,
                                 voxel_nm=scanner.voxel_nm, name=modality,
                                 channel_names=list(scanner.channel_names), origin_nm=origin)
    sseed = stage_seed(seed, "scan", modality)
    job = scanner.prepare(tissue, origin, size, seed=sseed, chunk_shape=scanner_chunk(scanner, preset.chunk, shape))
    check_aligned(job.chunks(), arr.chunks[1:], shape[1:])
    eng.map(scan_task, (scanner, tissue, job), job.chunks(), bar=_bar(progress, modality), fixed=(as_path(path),))
    ngff.write_pyramid(path)  # coarser levels, once level 0 is complete
    for deformed, name in ((True, modality), (False, f"{modality}_undeformed")):
        write_labels(scanner, tissue, job, truth / "labels" / f"{name}.zarr", origin_nm=origin,
                     chunk=preset.chunk, deformed=deformed, eng=eng, progress=progress)
    if modality == "em":
        write_semantic(tissue, truth, origin_nm=origin, shape=shape[1:], voxel_nm=scanner.voxel_nm,
                       chunk=preset.chunk, eng=eng, progress=progress)
    art = scanner.artifact_truth(origin, size, seed=sseed)
    np.savez(truth / "artifacts" / f"{modality}.npz", **{k: np.asarray(v) for k, v in sorted(art.items())})
    return {
        "path": f"{modality}.zarr",
        "voxel_nm": [float(v) for v in scanner.voxel_nm],
        "origin_nm": [float(v) for v in origin],
        "shape": list(shape),
        "axes": ["c", "z", "y", "x"],
        "channels": list(scanner.channel_names),
        "dtype": str(np.dtype(scanner.dtype)),
        "scanner": preset.scan[modality],
        "settings": public_settings(scanner),
    }


def public_settings(scanner) -> dict:
    """The scanner's resolved physical settings (no seed): what an experimenter knows of the instrument."""
    import dataclasses

    cfg = getattr(scanner, "config", None)
    if cfg is None or not dataclasses.is_dataclass(cfg):
        return {}
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=lambda o: list(o) if isinstance(o, tuple) else str(o)))
