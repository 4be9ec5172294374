"""``pretty-printer compile``: train a task's ANN, compile it to an HH circuit, test both."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pretty_printer.errors import ConfigError

_LIST_HELP = "list the tasks (one per line, name first) and the cell models, then exit"


def register(subparsers) -> None:
    from pretty_printer.circuit.cellmodels import DEFAULT_CELL

    p = subparsers.add_parser(
        "compile", help="compile a task's ANN into a Hodgkin-Huxley circuit and test it",
        description="Train a Dale's-law ANN on a known task, compile it into a Hodgkin-Huxley "
                    "circuit, simulate it in NEURON on the held-out test set, and report the "
                    "ANN accuracy, the circuit accuracy and the ANN/circuit rate correlation.")
    p.add_argument("--list", action="store_true", help=_LIST_HELP)
    p.add_argument("--task", help="task name (see --list)")
    p.add_argument("--cell", default=DEFAULT_CELL,
                   help=f"cell model for every unit (default: {DEFAULT_CELL})")
    p.add_argument("--seed", type=int, default=0, help="root seed (default: 0)")
    p.add_argument("--json", type=Path, metavar="F",
                   help="write ann_accuracy, circuit_accuracy, rate_correlation to F")
    p.add_argument("--save", type=Path, metavar="DIR",
                   help="also write ann.npz, circuit.json and circuit.net.nml (NeuroML2) to DIR")
    p.set_defaults(func=run)


def _listing() -> str:
    from pretty_printer.circuit.cellmodels import CELL_MODELS, DEFAULT_CELL
    from pretty_printer.circuit.compiler import check_compilable
    from pretty_printer.task.tasks import TASKS

    lines = [TASKS.get(name).describe() for name in TASKS.names()]
    lines.append("")
    lines.append(f"cell models (--cell; default {DEFAULT_CELL}):")
    for name in CELL_MODELS.names():
        model = CELL_MODELS.get(name)
        try:
            check_compilable(model)
            refused = ""
        except ConfigError:
            refused = " -- refused by compile (try it for the one-line reason)"
        lines.append("  " + model.summary() + refused)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(_listing())
        return 0
    if not args.task:
        raise ConfigError("--task: expected a task name (or --list to see them), got nothing")
    from pretty_printer.circuit.cellmodels import cache_dir, get_cell_model
    from pretty_printer.task.tasks import TASKS

    TASKS.get(args.task)  # unknown names fail here, before any work, listing the valid ones
    get_cell_model(args.cell)
    if args.seed < 0:
        raise ConfigError(f"--seed: expected a non-negative integer, got {args.seed}")
    cache_dir()  # a cache setting that is a file fails here too, not after training (f-I curves
    # already looked up in this process would not reach the cache until NEURON loads mechanisms)
    from pretty_printer.circuit.compiler import compile_task, save_ann

    res = compile_task(args.task, cell=args.cell, seed=args.seed)
    d = res.to_json_dict()
    print(f"task {args.task}, cell {args.cell}, seed {args.seed}: "
          f"{len(res.circuit.cells)} cells, {len(res.circuit.connections)} connections")
    print(f"ANN test accuracy:      {d['ann_accuracy']:.3f}")
    print(f"circuit test accuracy:  {d['circuit_accuracy']:.3f}")
    print(f"rate correlation:       {d['rate_correlation']:.3f}  "
          f"(Pearson, hidden and output units, test set)")
    if args.json:
        args.json.write_text(json.dumps(d, indent=1, sort_keys=True) + "\n")
    if args.save:
        from pretty_printer.export.neuroml import write_neuroml

        args.save.mkdir(parents=True, exist_ok=True)
        save_ann(res.ann, args.save / "ann.npz")
        res.circuit.save(args.save / "circuit.json")
        write_neuroml(res.circuit, args.save / "circuit.net.nml", res.task_data.X_test[:1])
    return 0
