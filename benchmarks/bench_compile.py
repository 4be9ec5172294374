"""Benchmark: compile every task (or the ones named) and print the acceptance figures.

Run:  PYTHONPATH=. python benchmarks/bench_compile.py [--cell NAME] [--seed N] [TASK ...]

For each task it prints training time, total compile time (training + calibration + test
simulation), the ANN and circuit test accuracies, the ANN/circuit rate correlation, and whether
the acceptance criteria hold (circuit >= ANN - 0.02, correlation >= 0.95).  ``no_exc`` is the
same circuit with every cell at the default channel densities (no excitability information):
what a pipeline with perfect wiring but no per-cell measurement would get.
"""

from __future__ import annotations

import argparse
import json
import time

from pretty_printer.circuit.cellmodels import DEFAULT_CELL
from pretty_printer.sim.fi import fi_curve
from pretty_printer.circuit.compiler import compile_task
from pretty_printer.task.tasks import TASKS


def no_excitability_accuracy(res) -> float:
    """Test accuracy of the compiled circuit with default channel densities and no bias."""
    from dataclasses import replace

    from pretty_printer.circuit.excitability import DEFAULT_DENSITIES, with_densities
    from pretty_printer.sim.neuron_backend import evaluate_circuit

    cells = tuple(with_densities(replace(c, bias_nA=0.0), DEFAULT_DENSITIES) for c in res.circuit.cells)
    return evaluate_circuit(replace(res.circuit, cells=cells), res.task_data).accuracy


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tasks", nargs="*", default=TASKS.names())
    ap.add_argument("--cell", default=DEFAULT_CELL)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write all figures to this file")
    args = ap.parse_args()
    fi_curve(args.cell)  # measure (or load) the f-I curve outside the timings
    rows, ok_all = [], True
    print(f"{'task':10s} {'cells':>5s} {'syn':>4s} {'train_s':>7s} {'time_s':>7s} {'ann':>6s} "
          f"{'circuit':>7s} {'corr':>6s} {'no_exc':>6s}  ok")
    for name in args.tasks:
        t0 = time.perf_counter()
        res = compile_task(name, cell=args.cell, seed=args.seed)
        dt = time.perf_counter() - t0
        d = res.to_json_dict()
        ok = (d["circuit_accuracy"] >= d["ann_accuracy"] - 0.02
              and d["rate_correlation"] >= 0.95)
        ok_all &= ok
        no_exc = no_excitability_accuracy(res)
        rows.append(dict(d, time_s=dt, timings_s=res.timings_s, n_cells=len(res.circuit.cells),
                         n_connections=len(res.circuit.connections), ok=ok,
                         no_excitability_accuracy=no_exc))
        print(f"{name:10s} {len(res.circuit.cells):5d} {len(res.circuit.connections):4d} "
              f"{res.timings_s['training']:7.1f} {dt:7.1f} {d['ann_accuracy']:6.3f} "
              f"{d['circuit_accuracy']:7.3f} "
              f"{d['rate_correlation']:6.3f} {no_exc:6.3f}  {'yes' if ok else 'NO'}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print("all acceptance criteria met" if ok_all else "SOME TASKS FAIL ACCEPTANCE")
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
