"""A submitted activity file is compared with the truth's: the truth's own spikes, written under
the submission's segment ids, score exactly the reference; swapped outputs score the complement;
bad files are refused in one line."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pretty_printer.dataset.layout import Dataset
from pretty_printer.errors import SubmissionError
from pretty_printer.export.nwb import write_unit_activity
from pretty_printer.scoring.activity import dominant_segments, read_unit_spikes
from pretty_printer.scoring.metrics import contingency
from pretty_printer.scoring.score import score
from pretty_printer.submission.format import read_submission


def _with_activity(truth_submission, tmp_path, tiny_dataset, *, swap=False, drop_trial=False):
    ds = Dataset(tiny_dataset)
    trials, spikes = read_unit_spikes(ds.truth / "activity.nwb", "cell_id")
    seg_of = dominant_segments(contingency(ds.truth_labels("em"), read_submission(truth_submission).segmentation))
    by_seg = {seg_of[c]: t for c, t in spikes.items() if c in seg_of}
    if swap:
        a, b = (seg_of[c] for c in ds.circuit().output_cells[:2])
        by_seg[a], by_seg[b] = by_seg[b], by_seg[a]
    sub = tmp_path / "sub"
    shutil.copytree(truth_submission, sub)
    write_unit_activity(sub / "activity.nwb", trials[:-1] if drop_trial else trials, by_seg)
    meta = json.loads((sub / "submission.json").read_text())
    meta["activity"] = "activity.nwb"
    (sub / "submission.json").write_text(json.dumps(meta))
    return sub


def test_truth_spikes_under_submitted_ids_score_the_reference(tiny_dataset, truth_submission, tmp_path):
    card = score(tiny_dataset, _with_activity(truth_submission, tmp_path, tiny_dataset), function=False)
    got = card["function"]["submitted_activity"]
    with np.load(Dataset(tiny_dataset).truth / "reference_activity.npz") as z:
        ref = float(z["accuracy"])
    assert got["accuracy"] == pytest.approx(ref) and got["rate_mae_Hz"] == 0.0
    assert got["output_correlation"] == pytest.approx(1.0) and got["missing_outputs"] == []


def test_swapped_outputs_score_the_complement(tiny_dataset, truth_submission, tmp_path):
    got = score(tiny_dataset, _with_activity(truth_submission, tmp_path, tiny_dataset, swap=True),
                function=False)["function"]["submitted_activity"]
    with np.load(Dataset(tiny_dataset).truth / "reference_activity.npz") as z:
        ref, rates = float(z["accuracy"]), np.asarray(z["output_rates"], float).reshape(-1, 2)
    assert len(Dataset(tiny_dataset).circuit().output_cells) == 2  # XOR: two read-out cells
    ties = float(np.mean(rates[:, 0] == rates[:, 1]))  # a tie reads out the same either way round
    assert got["accuracy"] <= 1.0 - ref + ties + 1e-9 and got["rate_mae_Hz"] > 0


def test_bad_activity_files_are_one_line_errors(tiny_dataset, truth_submission, tmp_path):
    sub = _with_activity(truth_submission, tmp_path, tiny_dataset, drop_trial=True)
    with pytest.raises(SubmissionError, match=r"activity trials: expected \d+ held-out samples"):
        score(tiny_dataset, sub, function=False)
    (sub / "activity.nwb").write_bytes(b"not an hdf5 file")
    with pytest.raises(SubmissionError, match="expected an NWB file") as e:
        score(tiny_dataset, sub, function=False)
    assert "\n" not in str(e.value)
    meta = json.loads((sub / "submission.json").read_text())
    meta["activity"] = "../../activity.nwb"
    (sub / "submission.json").write_text(json.dumps(meta))
    with pytest.raises(SubmissionError, match="activity"):
        read_submission(sub)
