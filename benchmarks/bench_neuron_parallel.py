"""NEURON work on 1 and on 2 worker processes, side by side: wall time and identical results.

Usage::

    python benchmarks/bench_neuron_parallel.py [DATASET_DIR] [--repeats N] [--seed N]

Runs, on a generated dataset's truth, the two NEURON stages of ``generate``:

* **morphology**: what ``generate``'s morphology stage computes
  (:func:`~pretty_printer.sim.morphology_calibration.morphology_fidelity`: recalibrate the grown
  multi-compartment cells on training inputs, then simulate them on held-out inputs);
* **nwb**: the held-out run of the point circuit that the compile stage records for the NWB file
  (:func:`~pretty_printer.export.nwb.record_for_nwb`).

Each runs inside :func:`~pretty_printer.sim.parallel.simulation_workers` with 1 and with 2
processes, alternating (1, 2, 1, 2, ...) so both see the same machine load.  It prints every
wall time, the ratio of the least of each, and whether the 2-process results equal the
1-process ones (the recalibrated circuit's JSON byte for byte; the rates and spikes bit for bit).
Without ``DATASET_DIR`` a ``tiny`` dataset of seed ``N`` is generated first (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def _task_data(dataset: Path):
    from pretty_printer.task.tasks import TaskData

    task = json.loads((dataset / "public" / "manifest.json").read_text())["task"]
    with np.load(dataset / "truth" / "task.npz") as z:
        arrays = {k: z[k] for k in ("X_train", "y_train", "X_test", "y_test")}
    return TaskData(task["name"], task["kind"], task["n_inputs"], task["n_outputs"], **arrays)


def main(argv=None) -> int:
    import phantoms
    from pretty_printer.circuit.description import Circuit
    from pretty_printer.export.nwb import record_for_nwb
    from pretty_printer.sim.morphology_calibration import morphology_fidelity
    from pretty_printer.sim.parallel import simulation_workers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, nargs="?", default=None)
    ap.add_argument("--repeats", type=int, default=2, help="runs of each worker count (alternating)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the generated tiny dataset")
    args = ap.parse_args(argv)
    dataset = args.dataset
    if dataset is None:
        from pretty_printer.dataset.engine import EngineConfig
        from pretty_printer.dataset.generate import generate
        from pretty_printer.dataset.presets import load_preset

        dataset = Path(tempfile.mkdtemp(prefix="bench-neuron-parallel-")) / "tiny"
        generate(load_preset("tiny"), dataset, args.seed, progress=False, engine=EngineConfig(workers=1))
    truth = dataset / "truth"
    circuit = Circuit.load(truth / "circuit.json")
    phantom = phantoms.load_phantom(truth / "phantom")
    td = _task_data(dataset)
    with np.load(truth / "reference_activity.npz") as z:
        point = z["output_rates"]
    scratch = Path(tempfile.mkdtemp(prefix="bench-neuron-parallel-out-"))

    def morphology(workers: int, run: int):
        path = scratch / f"circuit_morphology-{workers}-{run}.json"
        figures = morphology_fidelity(circuit, phantom, td, path, point_output_rates=point)
        return path.read_bytes(), figures

    def nwb(workers: int, run: int):
        rec = record_for_nwb(circuit, td.X_test)
        return rec.rates_Hz, rec.spike_times_ms, rec.v_mV

    def same(a, b) -> bool:
        if isinstance(a, (bytes, str, int, float)):
            return a == b
        if isinstance(a, np.ndarray):
            return np.array_equal(a, b)
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))

    n_sec = sum(len(phantom.skeleton(c).parent) for c in phantom.cell_ids)
    print(f"dataset {dataset}: task {td.name!r}, {len(circuit.cells)} circuit cells, "
          f"{n_sec} skeleton nodes, {len(td.X_test)} held-out samples")
    for name, fn in (("morphology", morphology), ("nwb", nwb)):
        walls, results = {1: [], 2: []}, {}
        for run in range(args.repeats):
            for workers in (1, 2):
                with simulation_workers(workers):
                    t0 = time.perf_counter()
                    results.setdefault(workers, fn(workers, run))
                    walls[workers].append(time.perf_counter() - t0)
        ratio = min(walls[1]) / min(walls[2])
        print(f"{name}: 1 process {' '.join(f'{w:.1f}' for w in walls[1])} s; "
              f"2 processes {' '.join(f'{w:.1f}' for w in walls[2])} s; "
              f"least 1 / least 2 = {ratio:.2f}x; identical: {same(results[1], results[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
