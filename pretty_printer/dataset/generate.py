"""The generate stage: preset + seed -> dataset directory (public/ + truth/).

Task -> ANN -> Circuit (compile) -> Phantom (grow) -> scans (one per modality) -> files.
Every stage draws from its own branch of the seed tree (:mod:`pretty_printer.seeds`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from pretty_printer import __version__
from pretty_printer.dataset import layout, ngff, stages
from pretty_printer.circuit.description import Circuit
from pretty_printer.errors import GrowthError
from pretty_printer.dataset.presets import Preset
from pretty_printer.progress import Progress
from pretty_printer.seeds import stage_rng, stage_seed


def renumber_cells(circuit: Circuit, first_id: int = 1) -> Circuit:
    """Shift cell ids so that none is 0 (label 0 is extracellular space in every volume)."""
    ids = sorted(c.id for c in circuit.cells)
    if ids and ids[0] >= first_id:
        return circuit
    shift = first_id - ids[0]
    return replace(
        circuit,
        cells=tuple(replace(c, id=c.id + shift) for c in circuit.cells),
        connections=tuple(replace(k, pre=k.pre + shift, post=k.post + shift) for k in circuit.connections),
        input_cells=tuple(i + shift for i in circuit.input_cells),
        output_cells=tuple(i + shift for i in circuit.output_cells),
    )


def write_reference_activity(circuit: Circuit, task_data, path: Path) -> None:
    """The ground-truth circuit's output rates on the held-out inputs (what scoring compares to)."""
    from pretty_printer.sim.neuron_backend import evaluate_circuit

    ref = evaluate_circuit(circuit, task_data)
    np.savez(path, output_rates=np.asarray(ref.output_rates, float), predictions=np.asarray(ref.predictions),
             accuracy=np.float64(ref.accuracy))


def scan_region(phantom) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(phantom.block_origin_nm, float), np.asarray(phantom.block_size_nm, float)


def rasterize_labels_to_zarr(tissue, path: Path, *, origin_nm, shape, voxel_nm, chunk, progress: Progress,
                             source_image: str | None = None) -> None:
    """Rasterize cell labels on a scan's grid, chunk by chunk, straight into an NGFF label image."""
    arr = layout.create_ome_zarr(path, shape=(1, *shape), chunks=chunk, dtype="uint32",
                                  voxel_nm=voxel_nm, name="labels", origin_nm=origin_nm)
    blocks = list(chunk_boxes(shape, chunk))
    for sl in progress.bar(blocks, "labels", total=len(blocks)):
        start = np.array([s.start for s in sl])
        size = [s.stop - s.start for s in sl]
        out = tissue(np.asarray(origin_nm) + start * np.asarray(voxel_nm), size, voxel_nm, ["labels"])
        arr[(0, *sl)] = out["labels"].astype(np.uint32)
    ngff.write_pyramid(path, labels=True, source_image=source_image)


def write_labels_on_frame(scanner, tissue, path: Path, *, origin_nm, size_nm, seed, chunk, deformed: bool,
                          progress: Progress) -> None:
    """Cell labels on the scan's image frame (``deformed``) or its undeformed grid, into OME-Zarr.

    Thin wrapper over :meth:`scanners.base.Scanner.labels_on_frame` (the scanner knows what it did).
    """
    shape = scanner.grid_shape(size_nm)
    arr = layout.create_ome_zarr(path, shape=(1, *shape), chunks=chunk, dtype="uint32",
                                  voxel_nm=scanner.voxel_nm, name="labels", origin_nm=origin_nm)
    n = len(list(chunk_boxes(shape, chunk)))
    for sl, block in progress.bar(scanner.labels_on_frame(tissue, origin_nm, size_nm, seed=seed, chunk_shape=chunk,
                                                          deformed=deformed), "labels", total=n):
        arr[(0, *sl)] = block
    ngff.write_pyramid(path, labels=True,  # NGFF labels; the deformed ones annotate the public scan
                       source_image=f"../../../public/{scanner.modality}.zarr" if deformed else None)


def write_semantic(tissue, truth: Path, *, origin_nm, shape, voxel_nm, chunk, progress: Progress) -> None:
    """``truth/semantic/<class volume, organelle instances>.zarr`` on a scan's undeformed grid."""
    from phantoms.rasterize import SEMANTIC_CLASSES

    arrs = {name: layout.create_ome_zarr(truth / "semantic" / f"{name}.zarr", shape=(1, *shape), chunks=chunk,
                                          dtype=dt, voxel_nm=voxel_nm, name=name, origin_nm=origin_nm)
            for name, dt in (("classes", "uint8"), ("organelles", "uint32"))}
    blocks = list(chunk_boxes(shape, chunk))
    for sl in progress.bar(blocks, "semantic", total=len(blocks)):
        start = np.array([s.start for s in sl])
        out = tissue(np.asarray(origin_nm) + start * np.asarray(voxel_nm), [s.stop - s.start for s in sl], voxel_nm,
                     ["semantic", "organelles"])
        arrs["classes"][(0, *sl)] = out["semantic"]
        arrs["organelles"][(0, *sl)] = out["organelles"]
    for name in arrs:  # class and instance volumes are NGFF label images with their own pyramids
        ngff.write_pyramid(truth / "semantic" / f"{name}.zarr", labels=True)
    layout.write_json(truth / "semantic" / "classes.json", {"classes": list(SEMANTIC_CLASSES)})


def write_organelle_stats(truth: Path, phantom) -> None:
    """Add measured organelle fractions and counts to ``truth/tissue_stats.json`` (merged with what
    is there).  Fractions are voxel counts of the semantic class volume (EM grid)."""
    from phantoms.organelles import KINDS, Organelles
    from phantoms.rasterize import SEMANTIC_CLASSES

    path = truth / "semantic" / "classes.zarr"
    if not path.exists():
        return
    vol, _ = layout.read_volume(path)
    counts = np.bincount(np.asarray(vol).ravel(), minlength=len(SEMANTIC_CLASSES)).astype(float)
    cells = counts[1:].sum()
    org = Organelles.from_arrays(phantom.organelles) if phantom.organelles else Organelles.empty()
    stats = {f"{name}_volume_fraction": float(counts[i] / counts.sum()) for i, name in enumerate(SEMANTIC_CLASSES)}
    stats.update({
        "mitochondrion_fraction_of_cells": float(counts[3] / cells) if cells else None,
        "nucleus_fraction_of_cells": float(counts[4] / cells) if cells else None,
        "mitochondria_count": int(len(org.mito_r)),
        "nuclei_count": int(len(org.nucleus_r)),
        "somata_with_nucleus": f"{len(set(org.nucleus_cell.tolist()))} of {int((np.asarray(phantom.soma_radii) > 0).sum())}",
        **{f"mitochondria_count_{k}": int((org.mito_kind == i).sum()) for i, k in enumerate(KINDS)},
    })
    target = truth / "tissue_stats.json"
    doc = layout.read_json(target) if target.is_file() else {}
    doc["organelles"] = stats
    layout.write_json(target, doc)


def chunk_boxes(shape, chunk):
    """Slices tiling ``shape`` with blocks of ``chunk`` (the last ones clipped)."""
    import itertools

    ranges = [range(0, s, c) for s, c in zip(shape, chunk)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(a, min(a + c, s)) for a, c, s in zip(starts, chunk, shape))


def _write_scan(scanner, tissue, modality, phantom, preset, seed, public, truth, progress):
    origin, size = scan_region(phantom)
    shape = tuple(int(s) for s in scanner.output_shape(size))
    arr = layout.create_ome_zarr(
        public / f"{modality}.zarr", shape=shape, chunks=preset.chunk, dtype=scanner.dtype,
        voxel_nm=scanner.voxel_nm, name=modality, channel_names=list(scanner.channel_names), origin_nm=origin,
    )
    sseed = stage_seed(seed, "scan", modality)
    n_chunks = len(list(chunk_boxes(shape[1:], scanner_chunk(scanner, preset.chunk, shape))))
    for sl, block in progress.bar(
        scanner.render(tissue, origin, size, seed=sseed, chunk_shape=scanner_chunk(scanner, preset.chunk, shape)),
        modality, total=n_chunks,
    ):
        sl = tuple(sl)
        if len(sl) == 3:
            sl = (slice(None),) + sl
        arr[sl] = block
    ngff.write_pyramid(public / f"{modality}.zarr")  # coarser levels, once level 0 is complete
    for deformed, name in ((True, modality), (False, f"{modality}_undeformed")):
        write_labels_on_frame(scanner, tissue, truth / "labels" / f"{name}.zarr", origin_nm=origin, size_nm=size,
                              seed=sseed, chunk=preset.chunk, deformed=deformed, progress=progress)
    if modality == "em":
        write_semantic(tissue, truth, origin_nm=origin, shape=shape[1:], voxel_nm=scanner.voxel_nm,
                       chunk=preset.chunk, progress=progress)
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
        "settings": _public_settings(scanner),
    }


def _public_settings(scanner) -> dict:
    """The scanner's resolved physical settings (no seed): what an experimenter knows of the instrument."""
    import dataclasses

    cfg = getattr(scanner, "config", None)
    if cfg is None or not dataclasses.is_dataclass(cfg):
        return {}
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=lambda o: list(o) if isinstance(o, tuple) else str(o)))


def scanner_chunk(scanner, chunk, shape):
    """X-ray reconstructs whole slices: its chunks span full (y, x) planes."""
    if scanner.modality == "xray":
        return (chunk[0], shape[2], shape[3])
    return tuple(chunk)


def generate(preset: Preset, out: Path, seed: int, *, force: bool = False, progress: bool = True) -> Path:
    """Generate a dataset for ``preset`` and ``seed`` into ``out`` (written atomically)."""
    import phantoms

    from pretty_printer.circuit.compiler import compile_task, save_ann
    from pretty_printer.export.neuroml import write_lems_simulation, write_neuroml
    from pretty_printer.export.neuroml import write_grown_neuroml
    from pretty_printer.export.nwb import write_activity_nwb

    from pretty_printer.dataset.resources import check_resources

    scanners = {m: stages.make_scanner(preset, m) for m in preset.scan}
    cfg = stages.growth_config(preset)
    check_resources(preset, Path(out))  # refuse up front what the machine cannot hold
    prog = Progress(4 + len(scanners), enabled=progress)  # compile, grow, scans, morphology, write
    out = Path(out)
    with layout.atomic_directory(out, force=force) as tmp:
        public, truth = tmp / "public", tmp / "truth"
        for d in (public, truth / "artifacts", truth / "labels"):
            d.mkdir(parents=True, exist_ok=True)

        with prog.stage(f"train and compile task {preset.task!r}"):
            result = compile_task(preset.task, seed=seed, **stages.compile_kwargs(preset))
            circuit = renumber_cells(result.circuit)
            save_ann(result.ann, truth / "ann.npz")
            circuit.save(truth / "circuit.json")
            write_neuroml(circuit, truth / "circuit.net.nml")
            td = result.task_data
            np.savez(truth / "task.npz", X_test=td.X_test, y_test=td.y_test, X_train=td.X_train, y_train=td.y_train)
            write_reference_activity(circuit, td, truth / "reference_activity.npz")
            write_lems_simulation(circuit, td.X_test, truth / "neuroml", "heldout")  # jNeuroML / NEURON
            write_activity_nwb(circuit, td.X_test, td.y_test, truth / "activity.nwb")  # spikes, voltages

        with prog.stage(f"grow {len(circuit.cells)} cells into tissue"):
            spec = stages.circuit_to_spec(circuit)
            try:
                phantom = phantoms.grow(spec, cfg, stage_rng(seed, "growth"), progress=prog.counter("growth"))
            except phantoms.GrowthError as e:
                from pretty_printer.dataset.growth_hint import advice

                hint = advice(spec, cfg, lambda: stage_rng(seed, "growth"))
                raise GrowthError(f"growing the {preset.task!r} circuit in preset {preset.name!r}: {e}; "
                                  f"{hint}") from e
            from phantoms.organelles import place_organelles

            phantom = replace(phantom, organelles=place_organelles(phantom, stage_rng(seed, "organelles")).arrays())
            phantom.save(truth / "phantom")
            phantoms.write_exports(phantom, truth)
            for c in phantom.background_ids:  # background cells: SWC skeletons next to the circuit's
                phantoms.write_swc(phantom, c, truth / "swc" / f"cell_{c}.swc")
            from phantoms.stats import tissue_stats

            layout.write_json(truth / "tissue_stats.json", tissue_stats(phantom, stage_rng(seed, "tissue_stats")))
            tissue = phantoms.tissue_function(phantom)

        modalities = {}
        for modality, scanner in scanners.items():
            with prog.stage(f"scan with {modality}"):
                modalities[modality] = _write_scan(scanner, tissue, modality, phantom, preset, seed, public, truth, prog)

        write_organelle_stats(truth, phantom)

        with prog.stage("recalibrate and simulate the grown (multi-compartment) cells"):
            from pretty_printer.sim.morphology_calibration import morphology_fidelity

            # grown cells, recalibrated on training inputs (truth/circuit_morphology.json)
            morph = morphology_fidelity(circuit, phantom, td, truth / "circuit_morphology.json")
            write_grown_neuroml(truth, phantom, td.X_test[:morph["morphology_n_test"]])

        with prog.stage("write fidelity and manifest"):
            layout.write_json(truth / "fidelity.json", {
                "ann_accuracy": float(result.ann_accuracy),
                "circuit_accuracy": float(result.circuit_accuracy),
                "rate_correlation": float(result.rate_correlation),
                **morph,
            })
            layout.write_json(truth / "seed.json", {"seed": int(seed), "preset": preset.name,
                                                     "config": preset.to_dict(), "version": __version__})
            layout.write_json(public / "manifest.json", _manifest(preset, result.task_data, phantom, modalities, truth))
    return out


def _manifest(preset, task_data, phantom, modalities, truth) -> dict:
    from pretty_printer.task.tasks import TASKS

    _origin, size = scan_region(phantom)
    return {
        "format": layout.MANIFEST_FORMAT,
        "generator": f"neural-pretty-printer {__version__}",
        "preset": preset.name,
        "description": preset.description,
        "task": {
            "name": task_data.name,
            "kind": task_data.kind,
            "n_inputs": int(task_data.n_inputs),
            "n_outputs": int(task_data.n_outputs),
            "summary": _task_summary(TASKS, task_data.name),
        },
        "block_size_nm": [float(s) for s in size],
        # the tissue's size-principle law (phantoms/channels.py), published biology like a known
        # receptor density; how strongly the tissue follows it is not published
        "excitability_law": {k: float(getattr(phantom.cfg, k)) for k in (
            "soma_radius_nm", "soma_radius_jitter", "excitability_ref_uA_cm2",
            "excitability_scale_uA_cm2")},
        "modalities": modalities,
        **layout.commit_truth(truth),
        "submission": "see README.md, section 'Submission format'",
    }


def _task_summary(registry, name) -> str:
    obj = registry.get(name)
    doc = getattr(obj, "summary", None) or getattr(obj, "__doc__", None) or ""
    return str(doc).strip().splitlines()[0] if doc else name
