"""Excitability end to end on `tiny`: channels in the truth, and the scorer tells them apart."""

import csv
import json
import shutil

import numpy as np

from pretty_printer.cli.main import main
from pretty_printer.scoring.score import score

COLUMNS = ("g_cation_leak_mS_cm2", "g_tonic_gabaa_mS_cm2")


def _rewrite_cells(sub_dir, keep=None, edit=None):
    path = sub_dir / "cells.csv"
    rows = list(csv.DictReader(path.open()))
    names = [n for n in rows[0] if keep is None or n in keep]
    if edit:
        edit(rows)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, names, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_truth_sets_excitability_with_channels_that_differ_between_cells(tiny_dataset):
    circuit = json.loads((tiny_dataset / "truth" / "circuit.json").read_text())
    assert all(c["bias_nA"] == 0.0 for c in circuit["cells"])  # no injected current
    drives = {(c[COLUMNS[0]], c[COLUMNS[1]]) for c in circuit["cells"] if c["role"] != "input"}
    assert len(drives) > 3
    doc = json.loads((tiny_dataset / "truth" / "channels.json").read_text())
    for c in circuit["cells"]:
        soma = doc["cells"][str(c["id"])]["soma"]
        assert soma[COLUMNS[0]] == c[COLUMNS[0]] and soma[COLUMNS[1]] == c[COLUMNS[1]]
        assert "dendrite" in doc["cells"][str(c["id"])]


def test_perfect_wiring_without_excitability_scores_clearly_below_reference(tiny_dataset, truth_submission,
                                                                            tmp_path):
    sub = tmp_path / "no-exc"
    shutil.copytree(truth_submission, sub)
    _rewrite_cells(sub, keep=("segment_id", "bias_nA"))
    fn = score(tiny_dataset, sub)["function"]
    assert "default channel densities" in fn["excitability_rule"]
    # measured on tiny (xor, seed 7): 1.00 with the channels, 0.31 without them
    assert fn["accuracy"] <= fn["reference_accuracy"] - 0.2, fn


def test_negative_density_is_one_line_exit_2(tiny_dataset, truth_submission, tmp_path, capsys):
    sub = tmp_path / "neg"
    shutil.copytree(truth_submission, sub)

    def negate(rows):
        rows[0][COLUMNS[1]] = "-0.01"

    _rewrite_cells(sub, edit=negate)
    rc = main(["score", str(tiny_dataset), str(sub), "--json", str(tmp_path / "s.json")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and COLUMNS[1] in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "s.json").exists()
