"""Benchmark: the pattern classifier (glyphs) grown into tissue and simulated as grown cells.

Compiles ``glyphs``, grows it in a block large enough for its cells, recalibrates the circuit for
the grown morphologies on training inputs and prints ANN / point-circuit / grown-circuit
accuracies on held-out inputs with timings.  Acceptance: morphology >= ann - 0.05.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_morphology.py [--task glyphs] [--n-test 100]``
"""

from __future__ import annotations

import argparse
import json
import time


def main(argv=None) -> int:
    import phantoms
    from pretty_printer.dataset import stages
    from pretty_printer.circuit.compiler import compile_task
    from pretty_printer.dataset.generate import renumber_cells
    from pretty_printer.sim.morphology import morphology_from_phantom
    from pretty_printer.sim.morphology_calibration import RecalibrationConfig, recalibrate
    from pretty_printer.sim.neuron_backend import evaluate_morphological, simulate
    from pretty_printer.seeds import stage_rng
    from pretty_printer.task.tasks import accuracy

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="glyphs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-test", type=int, default=100, help="first n held-out samples")
    ap.add_argument("--n-cal", type=int, default=32, help="training samples per calibration round")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--block-nm", type=float, nargs=3, default=(6000.0, 20000.0, 20000.0),
                    help="glyphs (57 cells, 656 connections) failed to grow in 4 x 12 x 12 and 6 x 16 x 16 um")
    args = ap.parse_args(argv)

    t = {}
    t0 = time.perf_counter()
    res = compile_task(args.task, seed=args.seed)
    circuit = renumber_cells(res.circuit)
    t["compile_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    cfg = phantoms.GrowthConfig(block_nm=tuple(args.block_nm))
    phantom = phantoms.grow(stages.circuit_to_spec(circuit), cfg, stage_rng(args.seed, "growth"))
    morph = morphology_from_phantom(phantom)
    t["grow_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rec = recalibrate(circuit, morph, res.task_data.X_train,
                      RecalibrationConfig(rounds=args.rounds, n_samples=args.n_cal))
    t["recalibrate_s"] = time.perf_counter() - t0

    td = res.task_data
    t0 = time.perf_counter()
    ev = evaluate_morphological(rec.circuit, morph, td, input_gain=rec.input_gain, max_samples=args.n_test)
    t["morph_test_s"] = time.perf_counter() - t0
    n = len(ev.predictions)
    t0 = time.perf_counter()
    point = simulate(circuit, td.X_test[:n]).rates_of(circuit.output_cells)
    t["point_test_s"] = time.perf_counter() - t0

    n_sec = sum(len(c.sections) for c in morph.cells)
    print(f"task {args.task}: {len(circuit.cells)} cells, {len(circuit.connections)} connections, "
          f"{len(phantom.synapses)} synapses, {n_sec} sections, block {tuple(args.block_nm)} nm")
    print(f"ann_accuracy (full test, n={len(td.y_test)})      {res.ann_accuracy:.3f}")
    print(f"circuit_accuracy (full test)                {res.circuit_accuracy:.3f}")
    print(f"circuit_accuracy (first {n})                {accuracy(td.y_test[:n], point):.3f}")
    print(f"morphology_accuracy (first {n})             {ev.accuracy:.3f}")
    print(f"acceptance morphology >= ann - 0.05:        {ev.accuracy >= res.ann_accuracy - 0.05}")
    print("recalibration:", json.dumps({"rounds": rec.report["rounds"], "movement": rec.report["movement"]}))
    print("timings_s:", json.dumps({k: round(v, 2) for k, v in t.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
