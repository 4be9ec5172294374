"""The scan stage of ``generate``: images, labels and semantic volumes as engine tasks over chunks.

For one modality this writes ``public/<modality>.zarr`` (the image), ``truth/labels/<modality>.zarr``
(cell labels on the image's own, deformed frame), ``truth/labels/<modality>_undeformed.zarr``
(labels at the nominal voxel centres), for EM ``truth/semantic/{classes,organelles}.zarr``, and
``truth/artifacts/<modality>.npz``.  Every volume is one task per Zarr-chunk-aligned region
(:mod:`.engine`), each task writing its own chunks; the scanner's whole-region draws are made
once, before the tasks (:meth:`scanners.base.Scanner.prepare`), so the files are byte-identical
whatever the worker count, scheduler or chunk size.  The NGFF pyramid levels are tasks too, each
chunk after the chunks of the level below that it reduces (:func:`.ngff.submit_pyramid`), and
every modality's tasks are one graph, so nothing waits for a whole stage.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pretty_printer.dataset import layout, ngff
from pretty_printer.dataset.engine import Engine, as_path, check_aligned, chunk_boxes, open_level0, scan_task
from pretty_printer.seeds import stage_seed


def scan_region(phantom) -> tuple[np.ndarray, np.ndarray]:
    """(origin, size) of the imaged box, nm (z, y, x): the phantom's block."""
    return np.asarray(phantom.block_origin_nm, float), np.asarray(phantom.block_size_nm, float)


def scanner_chunk(scanner, chunk, shape):
    """X-ray reconstructs whole slices: its chunks span full (y, x) planes."""
    if scanner.modality == "xray":
        return (chunk[0], shape[2], shape[3])
    return tuple(chunk)


# --------------------------------------------------------------------------- tasks (run on workers)
def prepare_task(scanner, tissue, origin_nm, size_nm, seed, chunk_shape, boxes):
    """The scanner's whole-region draws (:meth:`scanners.base.Scanner.prepare`), checked to tile
    the volume with exactly the chunk tasks already submitted (``boxes``)."""
    job = scanner.prepare(tissue, origin_nm, size_nm, seed=seed, chunk_shape=chunk_shape)
    if list(job.chunks()) != list(boxes):
        raise ValueError(f"{scanner.modality}: the prepared render's chunks {job.chunk_shape} are not the "
                         f"planned ones {boxes[0] if boxes else None}...")
    return job


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


def artifact_task(scanner, origin_nm, size_nm, seed, path: str) -> None:
    """``truth/artifacts/<modality>.npz``: every artifact drawn for the region and seed."""
    art = scanner.artifact_truth(origin_nm, size_nm, seed=seed)
    np.savez(path, **{k: np.asarray(v) for k, v in sorted(art.items())})


# --------------------------------------------------------------------------- writers (submit tasks)
def _label_array(path: Path, shape, chunk, voxel_nm, origin_nm, name="labels", dtype="uint32"):
    arr = layout.create_ome_zarr(path, shape=(1, *shape), chunks=chunk, dtype=dtype, voxel_nm=voxel_nm,
                                 name=name, origin_nm=origin_nm)
    return arr, list(chunk_boxes(shape, arr.chunks[1:]))


def write_labels(scanner, tissue, job, path: Path, *, origin_nm, shape, chunk, deformed: bool, eng: Engine) -> None:
    """Submit cell labels on the scan's image frame (``deformed``, from the prepared ``job``: the
    frame of :meth:`scanners.base.Scanner.labels_on_frame`) or its undeformed grid, into OME-Zarr,
    with their pyramid."""
    _, boxes = _label_array(path, shape, chunk, scanner.voxel_nm, origin_nm)
    if deformed:
        tasks = [eng.submit(frame_labels_task, job, as_path(path), zyx, shared=(scanner, tissue)) for zyx in boxes]
    else:
        fixed = (np.asarray(origin_nm, float), np.asarray(scanner.voxel_nm, float), as_path(path))
        tasks = [eng.submit(grid_labels_task, *fixed, zyx, shared=(tissue,)) for zyx in boxes]
    ngff.submit_pyramid(eng, path, labels=True, after=list(zip(boxes, tasks)),  # NGFF labels; the
                        source_image=f"../../../public/{scanner.modality}.zarr" if deformed else None)  # deformed annotate the scan


def write_semantic(tissue, truth: Path, *, origin_nm, shape, voxel_nm, chunk, eng: Engine) -> None:
    """Submit ``truth/semantic/<class volume, organelle instances>.zarr`` on a scan's undeformed grid."""
    from phantoms.rasterize import SEMANTIC_CLASSES

    paths = {name: truth / "semantic" / f"{name}.zarr" for name in ("classes", "organelles")}
    _, boxes = _label_array(paths["classes"], shape, chunk, voxel_nm, origin_nm, "classes", "uint8")
    _label_array(paths["organelles"], shape, chunk, voxel_nm, origin_nm, "organelles", "uint32")
    fixed = (np.asarray(origin_nm, float), np.asarray(voxel_nm, float),
             as_path(paths["classes"]), as_path(paths["organelles"]))
    tasks = [eng.submit(semantic_task, *fixed, zyx, shared=(tissue,)) for zyx in boxes]
    for p in paths.values():  # class and instance volumes are NGFF label images with their own pyramids
        ngff.submit_pyramid(eng, p, labels=True, after=list(zip(boxes, tasks)))
    layout.write_json(truth / "semantic" / "classes.json", {"classes": list(SEMANTIC_CLASSES)})


def write_scan(scanner, tissue, phantom, preset, seed, public: Path, truth: Path, eng: Engine) -> dict:
    """Submit the image, labels (deformed and undeformed), semantic volumes (EM) and artifact truth
    of one modality as engine tasks (complete after ``eng.wait()``); returns its ``manifest.json`` entry.

    The scanner's ``prepare`` is a task too: the image and deformed-label chunks run after it, the
    undeformed labels, semantic volumes and other modalities' tasks do not wait for it.
    """
    from scanners.chunking import iter_chunks

    modality = scanner.modality
    origin, size = scan_region(phantom)
    shape = tuple(int(s) for s in scanner.output_shape(size))
    path = public / f"{modality}.zarr"
    arr = layout.create_ome_zarr(path, shape=shape, chunks=preset.chunk, dtype=scanner.dtype,
                                 voxel_nm=scanner.voxel_nm, name=modality,
                                 channel_names=list(scanner.channel_names), origin_nm=origin)
    sseed = stage_seed(seed, "scan", modality)
    chunk_shape = scanner_chunk(scanner, preset.chunk, shape)
    boxes = list(iter_chunks(shape[1:], chunk_shape))
    check_aligned(boxes, arr.chunks[1:], shape[1:])
    job = eng.submit(prepare_task, origin, size, sseed, chunk_shape, boxes, shared=(scanner, tissue))
    tasks = [eng.submit(scan_task, job, as_path(path), zyx, shared=(scanner, tissue)) for zyx in boxes]
    ngff.submit_pyramid(eng, path, after=list(zip(boxes, tasks)))  # coarser levels, as level 0 fills
    for deformed, name in ((True, modality), (False, f"{modality}_undeformed")):
        write_labels(scanner, tissue, job, truth / "labels" / f"{name}.zarr", origin_nm=origin, shape=shape[1:],
                     chunk=preset.chunk, deformed=deformed, eng=eng)
    if modality == "em":
        write_semantic(tissue, truth, origin_nm=origin, shape=shape[1:], voxel_nm=scanner.voxel_nm,
                       chunk=preset.chunk, eng=eng)
    eng.submit(artifact_task, scanner, origin, size, sseed, as_path(truth / "artifacts" / f"{modality}.npz"))
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
