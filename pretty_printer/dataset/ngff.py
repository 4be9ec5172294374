"""OME-NGFF 0.4 metadata and multiscale pyramids for the volumes the tool writes.

Every volume is a (c, z, y, x) multiscale group: level ``0`` is written by its producer, then
:func:`write_pyramid` adds levels ``1..n`` block by block (memory bounded by one output chunk
and its 2x source region) and rewrites the ``multiscales`` metadata.

* Physical frame: axes in nanometres; ``scale`` is the level's voxel size and ``translation``
  puts each voxel's *centre* where the tool sampled it, ``origin + (i + 0.5) * voxel`` (the
  lattice of :mod:`phantoms.rasterize`).  A level downsampled by ``f`` along an axis covers
  ``f`` source voxels, so its first centre sits at ``origin + 0.5 * f * voxel``.
* Downsampling halves the finest spatial axes first (those under 3/4 of the coarsest voxel),
  then all of them, so anisotropic scans become near-isotropic; images are averaged (mean,
  rounded back to integer dtypes), labels take the most frequent id of each block (mode;
  edge blocks repeat their last voxel).
* Labels are NGFF ``image-label`` groups (``colors`` per id, ``source`` naming their image).
* Images carry ``omero`` rendering settings (``color`` and ``window``), which the 0.4 schema
  requires of every channel.

Reference: OME-NGFF 0.4, https://ngff.openmicroscopy.org/0.4/ (multiscales, omero, labels).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Sequence

import numpy as np

NGFF_VERSION = "0.4"
MIN_LEVELS = 3  # viewers get an overview level at 1/4 of the finest sampling or coarser
COARSEST_VOXELS = 64  # stop once every downsampled axis is at most this long
MAX_LEVELS = 8
_CHANNEL_COLORS = ("FFFFFF", "FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00")


def axes() -> list[dict]:
    return [{"name": "c", "type": "channel"}] + [
        {"name": a, "type": "space", "unit": "nanometer"} for a in "zyx"]


def level_transforms(voxel_nm, origin_nm=None, factor=(1, 1, 1)) -> list[dict]:
    """``scale`` and ``translation`` of a level downsampled by ``factor`` (voxel centres)."""
    v = np.asarray(voxel_nm, float) * np.asarray(factor, float)
    o = np.zeros(3) if origin_nm is None else np.asarray(origin_nm, float)
    return [{"type": "scale", "scale": [1.0] + [float(x) for x in v]},
            {"type": "translation", "translation": [0.0] + [float(x) for x in o + 0.5 * v]}]


def omero(channel_names, dtype, window=None) -> dict:
    """``omero`` rendering metadata: one colour and intensity window per channel."""
    dt = np.dtype(dtype)
    lo, hi = window if window is not None else (
        (float(np.iinfo(dt).min), float(np.iinfo(dt).max)) if dt.kind in "ui" else (0.0, 1.0))
    return {"channels": [{"label": str(c), "active": True, "coefficient": 1.0, "family": "linear",
                          "inverted": False, "color": _CHANNEL_COLORS[k % len(_CHANNEL_COLORS)],
                          "window": {"min": lo, "max": hi, "start": lo, "end": hi}}
                         for k, c in enumerate(channel_names)],
            "rdefs": {"model": "greyscale" if len(channel_names) == 1 else "color"}}


def label_color(label: int) -> list[int]:
    """A fixed, well-spread RGBA colour for a label id (golden-ratio hue walk)."""
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((int(label) * 0.6180339887) % 1.0, 0.75, 1.0)
    return [int(round(255 * r)), int(round(255 * g)), int(round(255 * b)), 255]


def image_label(ids, source_image: str | None = None) -> dict:
    """NGFF 0.4 ``image-label`` metadata: a colour per non-zero id, the image it annotates."""
    meta = {"version": NGFF_VERSION,
            "colors": [{"label-value": int(i), "rgba": label_color(i)} for i in sorted(ids) if i != 0]}
    if source_image:
        meta["source"] = {"image": source_image}
    return meta


def plan_levels(shape, voxel_nm) -> list[tuple[int, int, int]]:
    """Cumulative (z, y, x) downsampling factors of levels 1.. (see the module notes)."""
    shape = np.asarray(shape[-3:], int)
    vox = np.asarray(voxel_nm, float)
    f = np.ones(3, int)
    out = []
    while len(out) + 1 < MAX_LEVELS:
        cur_shape = -(-shape // f)
        cur = vox * f
        can = cur_shape > 1
        small = can & (cur < 0.75 * cur[can].max()) if can.any() else can
        step = np.where(small if small.any() else can, 2, 1)
        if not (step > 1).any():
            break
        if len(out) + 1 >= MIN_LEVELS and (cur_shape[step > 1] <= COARSEST_VOXELS).all():
            break
        f = f * step
        out.append(tuple(int(x) for x in f))
    return out


def _downsample(block: np.ndarray, step, labels: bool) -> np.ndarray:
    """Reduce a (c, z, y, x) block by ``step`` per spatial axis (mean, or mode for labels)."""
    pad = [(0, 0)] + [(0, (-n) % s) for n, s in zip(block.shape[1:], step)]
    b = np.pad(block, pad, mode="edge") if any(p[1] for p in pad) else block
    c, z, y, x = b.shape
    sz, sy, sx = step
    r = b.reshape(c, z // sz, sz, y // sy, sy, x // sx, sx).transpose(0, 1, 3, 5, 2, 4, 6)
    r = r.reshape(c, z // sz, y // sy, x // sx, sz * sy * sx)
    if not labels:
        m = r.mean(axis=-1, dtype=np.float64)
        return (np.rint(m) if block.dtype.kind in "ui" else m).astype(block.dtype)
    counts = (r[..., :, None] == r[..., None, :]).sum(-1)  # votes for each member's id
    return np.take_along_axis(r, counts.argmax(-1)[..., None], -1)[..., 0]


def write_pyramid(path: str | Path, *, labels: bool = False, source_image: str | None = None) -> int:
    """Add downsampled levels to the NGFF group at ``path`` whose level ``0`` is complete.

    Parameters
    ----------
    path : path of a group written by :func:`pretty_printer.dataset.layout.create_ome_zarr`
    labels : bool
        The volume holds ids: mode downsampling and ``image-label`` metadata (colour per id).
    source_image : str, optional
        For labels: path of the annotated image relative to this group.

    Returns
    -------
    int
        The number of levels, level 0 included.
    """
    from pretty_printer.dataset.engine import Engine

    return submit_pyramid(Engine(), path, labels=labels, source_image=source_image)  # runs in this process


def submit_pyramid(eng, path: str | Path, *, labels: bool = False, source_image: str | None = None,
                   after: Sequence[tuple[tuple[slice, ...], Any]] | None = None) -> int:
    """:func:`write_pyramid` as engine tasks: one per output chunk of each level, then one for the metadata.

    The level arrays are created here (metadata only); a chunk of level ``k`` is a task that runs
    after exactly the tasks writing the level ``k - 1`` region it reduces, so levels fill while
    other work runs.  Each chunk is computed as :func:`write_pyramid` computes it, so the files are
    the same whatever the engine.

    Parameters
    ----------
    eng : pretty_printer.dataset.engine.Engine
        A running engine (``Engine()`` unentered runs every task at once, in this process).
    after : list of ((z, y, x) slices, task handle), optional
        The tasks writing level 0, each with the region it writes; None: level 0 is complete.

    Returns
    -------
    int
        The number of levels, level 0 included (complete once the engine has waited).
    """
    import zarr

    group = zarr.open_group(str(path), mode="r+")
    ms = group.attrs["multiscales"][0]
    base = ms["datasets"][0]
    tr = {t["type"]: t[t["type"]] for t in base["coordinateTransformations"]}
    voxel = np.asarray(tr["scale"][1:], float)
    origin = np.asarray(tr.get("translation", [0.0] + list(0.5 * voxel))[1:], float) - 0.5 * voxel
    src = group[base["path"]]
    spath = str(Path(path).resolve())
    datasets, prev, prev_f = [base], src, np.ones(3, int)
    deps = list(after or [])
    stats, level_tasks = [], []
    for k, f in enumerate(plan_levels(src.shape, voxel), start=1):
        step = tuple(int(a // b) for a, b in zip(f, prev_f))
        shape = (prev.shape[0],) + tuple(-(-n // s) for n, s in zip(prev.shape[1:], step))
        if str(k) in group:
            del group[str(k)]
        dst = group.create_array(str(k), shape=shape, dtype=prev.dtype,
                                 chunks=(1,) + tuple(min(c, n) for c, n in zip(src.chunks[1:], shape[1:])),
                                 compressors=prev.compressors, fill_value=0)
        done = []
        for out, inp in _level_boxes(prev.shape, dst, step):
            h = eng.submit(level_chunk_task, spath, k, step, labels, k == 1, out, inp,
                           after=[t for box, t in deps if _overlaps(box, inp[1:])])
            done.append((out[1:], h))
            (stats if k == 1 else level_tasks).append(h)
        datasets.append({"path": str(k), "coordinateTransformations": level_transforms(voxel, origin, f)})
        prev, prev_f, deps = dst, np.asarray(f), done
    eng.submit(pyramid_metadata_task, spath, ms, datasets, labels, source_image, str(src.dtype), *stats,
               after=level_tasks + [t for _, t in deps])
    return len(datasets)


def _level_boxes(src_shape, dst, step):
    """(output chunk of ``dst``, the ``step``-times larger region of the level below it reduces)."""
    grid = [range(0, n, c) for n, c in zip(dst.shape, dst.chunks)]
    for start in itertools.product(*grid):
        out = tuple(slice(a, min(a + c, n)) for a, c, n in zip(start, dst.chunks, dst.shape))
        inp = (out[0],) + tuple(slice(o.start * s, min(o.stop * s, n))
                                for o, s, n in zip(out[1:], step, src_shape[1:]))
        yield out, inp


def _overlaps(a, b) -> bool:
    return all(x.start < y.stop and y.start < x.stop for x, y in zip(a, b))


def level_chunk_task(path: str, k: int, step, labels: bool, want_stats: bool, out, inp):
    """Write one chunk ``out`` of level ``k`` from region ``inp`` of level ``k - 1`` (a task).

    Returns the level-0 statistics of the region for level 1 (``want_stats``): the set of ids
    (labels) or (min, max) (images), None for an empty region; None otherwise.
    """
    import zarr

    group = zarr.open_group(path, mode="r+")
    block = group[str(k - 1)][inp]
    stats = None
    if want_stats and block.size:
        stats = set(np.unique(block).tolist()) if labels else (float(block.min()), float(block.max()))
    group[str(k)][out] = _downsample(block, step, labels)
    return stats


def pyramid_metadata_task(path: str, ms: dict, datasets: list, labels: bool, source_image, dtype: str,
                          *level1_stats) -> None:
    """Write the ``multiscales`` (and ``omero`` / ``image-label``) metadata once every level is written."""
    import zarr

    stats = {"min": None, "max": None, "ids": set()}
    for s in level1_stats:
        if s is None:
            continue
        if labels:
            stats["ids"].update(s)
        else:
            stats["min"] = s[0] if stats["min"] is None else min(stats["min"], s[0])
            stats["max"] = s[1] if stats["max"] is None else max(stats["max"], s[1])
    _write_metadata(zarr.open_group(path, mode="r+"), ms, datasets, labels, source_image, stats, np.dtype(dtype))


def _write_metadata(group, ms, datasets, labels, source_image, stats, dtype) -> None:
    attrs = dict(group.attrs)
    ms = dict(ms, version=NGFF_VERSION, axes=axes(), datasets=datasets,
              type="mode" if labels else "mean",
              metadata={"description": "2x block reduction per level, see pretty_printer.dataset.ngff",
                        "method": "mode" if labels else "mean"})
    attrs["multiscales"] = [ms]
    if labels:
        attrs.pop("omero", None)
        attrs["image-label"] = image_label(stats["ids"], source_image)
    elif "omero" in attrs and stats["min"] is not None:
        names = [c["label"] for c in attrs["omero"]["channels"]]
        attrs["omero"] = omero(names, dtype, (stats["min"], stats["max"]))
    group.attrs.put(attrs) if hasattr(group.attrs, "put") else group.attrs.update(attrs)
