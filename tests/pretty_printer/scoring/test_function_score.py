"""function_score: the scorecard's function section alone, optionally on the first n held-out samples."""

import numpy as np
import pytest

from pretty_printer.dataset.layout import Dataset
from pretty_printer.errors import ConfigError
from pretty_printer.scoring.score import function_score
from pretty_printer.task.tasks import accuracy


def test_the_perfect_submission_on_the_first_samples_is_the_reference_there(tiny_dataset, truth_submission,
                                                                          truth_scorecard):
    n = 20
    got = function_score(tiny_dataset, truth_submission, n_samples=n)
    ds = Dataset(tiny_dataset)
    with np.load(ds.truth / "reference_activity.npz") as z:
        ref_rates = z["output_rates"][:n]
    assert got["n_samples"] == n
    assert got["reference_accuracy"] == accuracy(ds.task_data().y_test[:n], ref_rates)
    assert got["accuracy"] == got["reference_accuracy"] and got["output_correlation"] == pytest.approx(1.0)
    full = truth_scorecard["function"]  # the same section as the full scorer's, plus n_samples
    assert set(got) - {"n_samples"} == set(full) - {"submitted_activity"}
    same = set(full) - {"accuracy", "reference_accuracy", "output_correlation", "submitted_activity"}
    assert {k: got[k] for k in same} == {k: full[k] for k in same}  # rules, counts, ann_accuracy


@pytest.mark.parametrize("bad", [0, -1, 201, 2.5, True])
def test_a_bad_sample_count_is_one_line(tiny_dataset, truth_submission, bad):
    with pytest.raises(ConfigError, match=r"n_samples: expected an integer from 1 to 200"):
        function_score(tiny_dataset, truth_submission, n_samples=bad)
