"""The ``fly`` preset end to end: polyadic T-bar synapses in the truth, and the perfect submission
scores perfectly on them (``generate --preset fly`` -> ``reconstruct --method truth`` -> ``score``)."""

import numpy as np
import pytest

from pretty_printer.cli.main import main
from pretty_printer.scoring.score import score

pytestmark = pytest.mark.slow  # a 3 x 7 x 7 um block with three scans: minutes on 2 cores


@pytest.fixture(scope="module")
def fly_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("fly") / "ds"
    assert main(["generate", "--preset", "fly", "--out", str(out), "--seed", "0", "--quiet"]) == 0
    return out


def test_fly_truth_has_polyadic_synapses(fly_dataset):
    import phantoms
    from phantoms.organelle_fields import release_sites

    ph = phantoms.load_phantom(fly_dataset / "truth" / "phantom")
    site, first = release_sites(ph)
    post = np.asarray(ph.synapses["post_cell"])
    partners = np.array([len(set(post[site == k].tolist())) for k in range(len(first))])
    assert partners.max() >= 2  # one presynaptic T-bar, several postsynaptic partners
    assert ph.cfg.tbar and ph.cfg.polyadic_partners_max >= partners.max()


@pytest.mark.parametrize("modality", ["em", "exm"])
def test_perfect_submission_scores_perfectly_on_fly(fly_dataset, modality, tmp_path):
    sub = tmp_path / f"truth-{modality}"
    assert main(["reconstruct", str(fly_dataset), "--method", "truth", "--modality", modality,
                 "--out", str(sub)]) == 0
    card = score(fly_dataset, sub)
    seg, syn, con = card["segmentation"], card["synapses"], card["connectome"]
    assert seg["vi_split"] == 0 and seg["vi_merge"] == 0
    assert syn["f1"] == 1.0 and syn["n_true_outside_image"] == 0
    assert con["edge_f1"] == 1.0 and con["sign_accuracy"] == 1.0
    assert card["function"]["accuracy"] == card["function"]["reference_accuracy"]
