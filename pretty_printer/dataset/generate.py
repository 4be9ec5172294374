"""The generate stage: preset + seed -> dataset directory (public/ + truth/).

Task -> ANN -> Circuit (compile) -> Phantom (grow) -> scans (one per modality) -> files.
Every stage draws from its own branch of the seed tree (:mod:`pretty_printer.seeds`).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from pretty_printer import __version__
from pretty_printer.dataset import layout, stages
from pretty_printer.dataset.cache import ENTRY, StageCache, copy_files, stage_key
from pretty_printer.dataset.engine import Engine, EngineConfig
from pretty_printer.dataset.scans import scan_region, write_scan
from pretty_printer.circuit.description import Circuit
from pretty_printer.errors import GrowthError
from pretty_printer.dataset.presets import Preset
from pretty_printer.progress import Progress
from pretty_printer.seeds import stage_rng
from pretty_printer.sim.parallel import simulation_workers


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


def write_reference_activity(circuit: Circuit, task_data, path: Path, *, rates_Hz: np.ndarray | None = None) -> None:
    """The ground-truth circuit's output rates on the held-out inputs (what scoring compares to);
    ``rates_Hz``: every cell's rates there from a simulation already run (else simulated here)."""
    from pretty_printer.sim.neuron_backend import evaluate_circuit

    ref = evaluate_circuit(circuit, task_data, rates_Hz=rates_Hz)
    np.savez(path, output_rates=np.asarray(ref.output_rates, float), predictions=np.asarray(ref.predictions),
             accuracy=np.float64(ref.accuracy))


def write_organelle_stats(truth: Path, phantom) -> None:
    """Add measured organelle fractions and counts to ``truth/tissue_stats.json`` (merged with what
    is there).  Fractions are voxel counts of the semantic class volume (EM grid)."""
    from phantoms.organelles import KINDS, Organelles
    from phantoms.rasterize import SEMANTIC_CLASSES

    path = truth / "semantic" / "classes.zarr"
    if not path.exists():
        return
    arr, _ = layout.open_ome_zarr(path)
    counts = np.zeros(len(SEMANTIC_CLASSES))
    step = int(arr.chunks[1])
    for z in range(0, arr.shape[1], step):  # one slab of chunks at a time: memory bounded at any size
        counts += np.bincount(np.asarray(arr[0, z:z + step]).ravel(), minlength=len(SEMANTIC_CLASSES))
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


def generate(preset: Preset, out: Path, seed: int, *, force: bool = False, progress: bool = True,
             engine: EngineConfig | None = None, cache: StageCache | None = None) -> Path:
    """Generate a dataset for ``preset`` and ``seed`` into ``out`` (written atomically).

    Parameters
    ----------
    engine : EngineConfig, optional
        Where chunk tasks (scans, labels, meshes) run; default: every local core.  The files are
        byte-identical whatever it is.
    cache : StageCache, optional
        Where the trained/compiled circuit, the grown phantom and the morphology calibration are
        reused from and stored; default: none (every stage computed).
    """
    from pretty_printer.dataset.resources import check_resources

    scanners = {m: stages.make_scanner(preset, m) for m in preset.scan}
    stages.growth_config(preset)  # a bad [tissue] fails before anything is computed
    check_resources(preset, Path(out))  # refuse up front what the machine cannot hold
    prog = Progress(5, enabled=progress)  # compile, grow, scans, morphology, write
    cache = cache if cache is not None else StageCache(None)
    out = Path(out)
    with layout.atomic_directory(out, force=force) as tmp, contextlib.closing(cache):
        public, truth = tmp / "public", tmp / "truth"
        for d in (public, truth / "artifacts", truth / "labels"):
            d.mkdir(parents=True, exist_ok=True)
        sim_workers = (engine or EngineConfig()).n_local  # NEURON's processes (sim/parallel.py)
        with prog.stage(f"train and compile task {preset.task!r}"), \
                simulation_workers(sim_workers, progress=prog.counter("NEURON")):
            compiled = _compile_stage(preset, seed, truth, cache)
        circuit, td = compiled["circuit"], compiled["task_data"]
        # the workers start after compiling (a long, busy stage of this process) and stop after the scans
        with Engine(engine) as eng:
            with prog.stage(f"grow {len(circuit.cells)} cells into tissue"):
                phantom, grow_key = _growth_stage(preset, seed, circuit, compiled["key"], truth, cache, eng, prog)
            tissue = phantoms_tissue(phantom)
            with prog.stage(f"scan with {', '.join(scanners)}"):  # one graph: modalities overlap
                modalities = {m: write_scan(sc, tissue, phantom, preset, seed, public, truth, eng)
                              for m, sc in scanners.items()}
                eng.wait(bar=lambda items, total: prog.bar(items, "chunks", total=total))
        write_organelle_stats(truth, phantom)
        with prog.stage("recalibrate and simulate the grown (multi-compartment) cells"), \
                simulation_workers(sim_workers, progress=prog.counter("NEURON")):
            morph = _morphology_stage(circuit, phantom, td, grow_key, truth, cache)
        with prog.stage("write fidelity and manifest"):
            layout.write_json(truth / "fidelity.json", {**compiled["fidelity"], **morph})
            layout.write_json(truth / "seed.json", {"seed": int(seed), "preset": preset.name,
                                                     "config": preset.to_dict(), "version": __version__})
            layout.write_json(public / "manifest.json", _manifest(preset, td, phantom, modalities, truth))
    return out


_COMPILE_FILES = ("ann.npz", "circuit.json", "circuit.net.nml", "task.npz", "reference_activity.npz", "neuroml",
                  "activity.nwb")


def _compile_stage(preset: Preset, seed: int, truth: Path, cache: StageCache) -> dict:
    """Train and compile (or reuse): writes the truth files; returns circuit, task data, fidelity, key."""
    from pretty_printer.task.tasks import make_task

    key = stage_key("compile", {"task": preset.task, "compile": preset.compile, "seed": int(seed)})
    entry = cache.fetch_or_build("compile", key, lambda d: _build_compile(preset, seed, d))
    copy_files(entry, truth, _COMPILE_FILES)
    return {"circuit": Circuit.load(entry / "circuit.json"), "key": key,
            "task_data": make_task(preset.task, stage_rng(seed, "task")),  # the draw compile_task made
            "fidelity": layout.read_json(entry / "compile.json")}


def _build_compile(preset: Preset, seed: int, d: Path) -> None:
    from pretty_printer.circuit.compiler import compile_task, save_ann
    from pretty_printer.export.neuroml import write_lems_simulation, write_neuroml
    from pretty_printer.export.nwb import record_for_nwb, write_activity_nwb

    result = compile_task(preset.task, seed=seed, **stages.compile_kwargs(preset))
    save_ann(result.ann, d / "ann.npz")
    renumber_cells(result.circuit).save(d / "circuit.json")
    circuit = Circuit.load(d / "circuit.json")  # what a cache hit sees, so both paths agree
    write_neuroml(circuit, d / "circuit.net.nml")
    td = result.task_data
    np.savez(d / "task.npz", X_test=td.X_test, y_test=td.y_test, X_train=td.X_train, y_train=td.y_train)
    # compile_task's NEURON run of the held-out inputs gives both the reference rates and the NWB's
    # spikes; only the few samples whose voltages the NWB stores run again, and must spike alike
    # (renumbering shifts ids, not the cells' order or dynamics)
    rec = record_for_nwb(circuit, td.X_test, simulated=result.circuit_run)
    write_reference_activity(circuit, td, d / "reference_activity.npz", rates_Hz=rec.rates_Hz)
    write_lems_simulation(circuit, td.X_test, d / "neuroml", "heldout")  # jNeuroML / NEURON
    write_activity_nwb(circuit, td.X_test, td.y_test, d / "activity.nwb", recording=rec)  # spikes, voltages
    layout.write_json(d / "compile.json", {"ann_accuracy": float(result.ann_accuracy),
                                           "circuit_accuracy": float(result.circuit_accuracy),
                                           "rate_correlation": float(result.rate_correlation)})


def _growth_stage(preset: Preset, seed: int, circuit: Circuit, compile_key: str, truth: Path,
                  cache: StageCache, eng: Engine, prog: Progress):
    """Grow the phantom, place organelles, write its exports (or reuse them); returns the phantom and key.

    Mesh tasks write under ``truth`` (the output, which every worker sees), not the cache entry."""
    import phantoms

    key = stage_key("growth", {"compile": compile_key, "tissue": preset.tissue, "seed": int(seed),
                               "meshes": bool(preset.meshes)})
    entry = cache.fetch_or_build("growth", key, lambda d: _build_growth(preset, seed, circuit, d, eng, prog, truth))
    copy_files(entry, truth, sorted(p.name for p in entry.iterdir() if p.name != ENTRY))
    return phantoms.load_phantom(truth / "phantom"), key


def _build_growth(preset: Preset, seed: int, circuit: Circuit, d: Path, eng: Engine, prog: Progress,
                  scratch: Path) -> None:
    import phantoms
    from phantoms.organelles import place_organelles
    from phantoms.stats import tissue_stats

    spec, cfg = stages.circuit_to_spec(circuit), stages.growth_config(preset)
    try:
        phantom = phantoms.grow(spec, cfg, stage_rng(seed, "growth"), progress=prog.counter("growth"))
    except phantoms.GrowthError as e:
        from pretty_printer.dataset.growth_hint import advice

        hint = advice(spec, cfg, lambda: stage_rng(seed, "growth"))
        raise GrowthError(f"growing the {preset.task!r} circuit in preset {preset.name!r}: {e}; {hint}") from e
    phantom = replace(phantom, organelles=place_organelles(phantom, stage_rng(seed, "organelles")).arrays())
    phantom.save(d / "phantom")
    phantoms.write_exports(phantom, d, meshes=False)
    for c in phantom.background_ids:  # background cells: SWC skeletons next to the circuit's
        phantoms.write_swc(phantom, c, d / "swc" / f"cell_{c}.swc")
    layout.write_json(d / "tissue_stats.json", tissue_stats(phantom, stage_rng(seed, "tissue_stats")))
    if preset.meshes:  # from the labels, chunk by chunk (the phantom as a hit loads it)
        from pretty_printer.dataset.meshes import write_meshes

        write_meshes(phantoms.load_phantom(d / "phantom"), d / "meshes", engine=eng, progress=prog, scratch=scratch)


def _morphology_stage(circuit: Circuit, phantom, task_data, grow_key: str, truth: Path, cache: StageCache) -> dict:
    """Recalibrate and simulate the grown cells (or reuse): writes ``circuit_morphology.json`` and
    ``neuroml/{LEMS_grown.xml, grown.net.nml}``; returns the figures for ``fidelity.json``."""
    from pretty_printer.export.neuroml import write_grown_neuroml
    from pretty_printer.sim.morphology_calibration import morphology_fidelity

    def build(d: Path) -> None:
        with np.load(truth / "reference_activity.npz") as z:  # the point circuit's held-out rates
            point = z["output_rates"]
        morph = morphology_fidelity(circuit, phantom, task_data, d / "circuit_morphology.json",
                                    point_output_rates=point)
        write_grown_neuroml(d, phantom, task_data.X_test[:morph["morphology_n_test"]])
        layout.write_json(d / "morphology.json", morph)

    entry = cache.fetch_or_build("morphology", stage_key("morphology", {"growth": grow_key}), build)
    copy_files(entry, truth, ["circuit_morphology.json", "neuroml"])
    return layout.read_json(entry / "morphology.json")


def phantoms_tissue(phantom):
    import phantoms

    return phantoms.tissue_function(phantom)


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
