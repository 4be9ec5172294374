"""`pretty-printer compile`: listing, the xor demo with JSON, clear errors with exit code 2."""

import json

import pytest

from pretty_printer.circuit.description import Circuit
from pretty_printer.cli.main import main
from pretty_printer.task.tasks import TASKS


def _run(capsys, argv):
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    return rc, capsys.readouterr()


def test_list_names_tasks_first_then_cell_models(capsys):
    rc, out = _run(capsys, ["compile", "--list"])
    assert rc == 0
    lines = out.out.splitlines()
    first_words = [ln.split()[0] for ln in lines[: len(TASKS.names())]]
    assert first_words == TASKS.names()
    assert len(first_words) >= 5
    assert "hh" in out.out and "wang_buzsaki" in out.out
    refused = {ln.split(":")[0].strip() for ln in lines if "refused by compile" in ln}
    assert refused == {"hh"}  # the type II cell is marked; the default cell is not


@pytest.mark.parametrize("argv, names", [
    (["compile", "--task", "nope"], ["xor", "flipflop", "glyphs"]),
    (["compile", "--task", "xor", "--cell", "nope"], ["hh", "wang_buzsaki"]),
])
def test_unknown_names_exit_2_listing_valid_ones(capsys, argv, names, tmp_path):
    rc, out = _run(capsys, argv + ["--json", str(tmp_path / "r.json")])
    assert rc == 2
    assert len(out.err.strip().splitlines()) == 1
    assert all(n in out.err for n in names)
    assert not (tmp_path / "r.json").exists()


def test_compile_xor_prints_and_writes_json(capsys, tmp_path, tiny_dataset, tiny_seed):
    rc, out = _run(capsys, ["compile", "--task", "xor", "--seed", str(tiny_seed), "--json", str(tmp_path / "r.json"),
                            "--save", str(tmp_path / "art")])
    assert rc == 0
    assert "ANN test accuracy" in out.out and "circuit test accuracy" in out.out
    assert "rate correlation" in out.out
    d = json.loads((tmp_path / "r.json").read_text())
    for key in ("ann_accuracy", "circuit_accuracy", "rate_correlation"):
        assert 0.0 <= d[key] <= 1.0
    assert d["circuit_accuracy"] >= d["ann_accuracy"] - 0.02
    assert d["rate_correlation"] >= 0.95
    assert {p.name for p in (tmp_path / "art").iterdir()} == {"ann.npz", "circuit.json",
                                                             "circuit.net.nml"}
    # same seed => the same compile: this call's ANN bytes and circuit equal those the session's
    # `tiny` generate compiled from scratch for its seed (preset tiny's [compile] is this call's:
    # xor, wang_buzsaki, task defaults), in another call (under xdist, maybe another process);
    # generate shifts cell ids so that none is 0
    from pretty_printer.dataset.generate import renumber_cells

    truth = tiny_dataset / "truth"
    assert (tmp_path / "art" / "ann.npz").read_bytes() == (truth / "ann.npz").read_bytes()
    assert renumber_cells(Circuit.load(tmp_path / "art" / "circuit.json")) == Circuit.load(truth / "circuit.json")
    fidelity = json.loads((truth / "fidelity.json").read_text())
    assert all(d[k] == fidelity[k] for k in ("ann_accuracy", "circuit_accuracy", "rate_correlation"))


def test_type_ii_cell_is_refused_in_one_line_before_any_work(capsys, tmp_path):
    rc, out = _run(capsys, ["compile", "--task", "xor", "--cell", "hh", "--json", str(tmp_path / "r.json")])
    assert rc == 2
    err = out.err.strip()
    assert len(err.splitlines()) == 1 and "'hh'" in err and "type I" in err
    assert not (tmp_path / "r.json").exists()
