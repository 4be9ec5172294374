"""Each injected error class moves its own score the right way, monotonically over 3 levels,
on the real `tiny` dataset; dropping half the synapses lowers the function score."""

import pytest

from pretty_printer.cli.main import main
from pretty_printer.scoring.score import score

LEVELS = {
    # kind: (levels, section, metric, direction)
    "split": ((0.2, 0.5, 1.0), "segmentation", "vi_split", +1),
    "merge": ((0.2, 0.4, 0.6), "segmentation", "vi_merge", +1),
    "drop_synapses": ((0.2, 0.5, 0.8), "synapses", "recall", -1),
    "add_synapses": ((0.2, 0.5, 1.0), "synapses", "precision", -1),
    "weight_noise": ((0.3, 1.0, 3.0), "connectome", "weight_spearman", -1),
}


def _perturbed(tiny_dataset, out_root, spec, seed=0):
    out = out_root / spec.replace("=", "-").replace(",", "_")
    assert main(["reconstruct", str(tiny_dataset), "--method", "truth", "--modality", "em",
                 "--perturb", spec, "--seed", str(seed), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def structure_of(tiny_dataset, tmp_path_factory):
    """The structural scorecard of the truth perturbed by ``spec``, each spec reconstructed and
    scored once for the whole module (several tests read the same perturbation)."""
    root, cards = tmp_path_factory.mktemp("perturbed"), {}

    def get(spec):
        if spec not in cards:
            cards[spec] = score(tiny_dataset, _perturbed(tiny_dataset, root, spec), function=False)
        return cards[spec]

    return get


@pytest.mark.parametrize("kind", sorted(LEVELS))
def test_error_class_moves_its_metric_monotonically(kind, truth_scorecard, structure_of):
    levels, section, metric, direction = LEVELS[kind]
    perfect = truth_scorecard[section][metric]
    values = [perfect] + [structure_of(f"{kind}={lv}")[section][metric] for lv in levels]
    signed = [direction * v for v in values]
    assert all(b > a for a, b in zip(signed, signed[1:])), f"{kind}: {metric} over levels {values}"


def test_merge_leaves_vi_split_and_split_leaves_vi_merge(structure_of):
    merged = structure_of("merge=0.4")["segmentation"]
    split = structure_of("split=0.5")["segmentation"]
    assert merged["vi_split"] == 0 and merged["vi_merge"] > 0
    assert split["vi_merge"] == 0 and split["vi_split"] > 0


def test_function_of_truth_equals_reference_and_dropping_half_lowers_it(tiny_dataset, truth_scorecard, tmp_path):
    perfect = truth_scorecard["function"]
    assert perfect["accuracy"] == perfect["reference_accuracy"]
    dropped = score(tiny_dataset, _perturbed(tiny_dataset, tmp_path, "drop_synapses=0.5"))["function"]
    assert dropped["accuracy"] < perfect["accuracy"]
    assert dropped["output_correlation"] < perfect["output_correlation"]
