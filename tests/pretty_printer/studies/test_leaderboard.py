"""leaderboard: many submissions, one ranked table; the perfect submission ranks first."""

import csv

from pretty_printer.cli.main import main
from pretty_printer.studies.leaderboard import Entry, fails_most, rank


def test_rank_orders_by_edge_f1_then_function_with_errors_last():
    def entry(name, f1, acc, error=False):
        e = Entry(name, None, cards={"": {"connectome": {"edge_f1": f1}, "function": {"accuracy": acc}}})
        if error:
            e.errors[""] = "broken"
        return e

    ranked = rank([entry("b", 0.5, 0.9), entry("bad", 1.0, 1.0, error=True), entry("a", 1.0, 0.5),
                   entry("c", 0.5, 0.9)])
    assert [(e.name, e.rank) for e in ranked] == [("a", 1), ("b", 2), ("c", 2), ("bad", 4)]


def test_fails_most_names_the_furthest_score():
    card = {"connectome": {"edge_f1": 0.9}, "synapses": {"f1": 0.95},
            "segmentation": {"vi_split": 0.1, "vi_merge": 2.0, "arand": 0.2}}
    assert fails_most(card).startswith("merges (segmentation.vi_merge 2)")


def test_leaderboard_cli_ranks_truth_first(tiny_dataset, truth_submission, tmp_path, capsys):
    perturbed = tmp_path / "perturbed"
    assert main(["reconstruct", str(tiny_dataset), "--method", "truth", "--modality", "em", "--out",
                 str(perturbed), "--perturb", "split=0.3,drop_synapses=0.5", "--seed", "1"]) == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    rc = main(["leaderboard", str(tiny_dataset), str(perturbed), str(broken), str(truth_submission),
               "--no-function", "--csv", str(tmp_path / "b.csv"), "--html", str(tmp_path / "b.html")])
    assert rc == 0
    table = list(csv.DictReader((tmp_path / "b.csv").open()))
    assert [r["submission"] for r in table] == ["truth-em", "perturbed", "broken"]
    assert float(table[0]["connectome.edge_f1"]) == 1.0 and table[0]["fails_most_at"].startswith("nothing")
    assert float(table[1]["connectome.edge_f1"]) < 1.0 and table[1]["fails_most_at"]
    assert table[2]["error"] and table[2]["rank"] == "3"
    page = (tmp_path / "b.html").read_text()
    assert "b-reports/truth-em.html" in page and (tmp_path / "b-reports" / "perturbed.html").is_file()
