"""leaderboard: many submissions, one ranked table; the perfect submission ranks first."""

import csv

import pytest

from pretty_printer.cli.main import main
from pretty_printer.errors import ConfigError
from pretty_printer.studies.leaderboard import Entry, entry_names, fails_most, format_table, rank, rows


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
    card["segmentation"]["vi_merge"] = 2.998  # four significant digits: not rounded up to "3"
    assert fails_most(card).startswith("merges (segmentation.vi_merge 2.998)")


def test_same_named_submissions_are_named_by_their_parents(tmp_path):
    subs = [tmp_path / "subs" / "a" / "em-easy", tmp_path / "subs" / "b" / "em-easy", tmp_path / "c"]
    assert entry_names(subs) == ["a/em-easy", "b/em-easy", f"{tmp_path.name}/c"]
    assert entry_names([tmp_path / "x", tmp_path / "y"]) == ["x", "y"]
    with pytest.raises(ConfigError, match="twice"):
        entry_names([tmp_path / "x", tmp_path / "y" / ".." / "x"])
    with pytest.raises(ConfigError, match="got none"):
        entry_names([])


def test_levels_in_track_order_then_their_mean():
    levels = ["em-easy", "em-medium", "em-hard"]  # not alphabetical
    card = lambda f1, acc: {"connectome": {"edge_f1": f1}, "function": {"accuracy": acc, "reference_accuracy": 1.0}}  # noqa: E731
    e = Entry("a", None, levels=levels, cards={"em-hard": card(0.2, 0.5), "em-easy": card(0.8, 1.0),
                                               "em-medium": card(0.5, 0.75)})
    table = rows([e], mean=True)
    assert [r["level"] for r in table] == levels + ["mean"]
    assert table[-1]["connectome.edge_f1"] == pytest.approx(0.5) and table[-1]["function.accuracy"] == pytest.approx(0.75)
    assert table[-1]["fails_most_at"].startswith("wiring (edges) (connectome.edge_f1 0.5)")
    assert [r["level"] for r in rows([e])] == levels  # the CSV's rows: levels only
    printed = format_table([e]).splitlines()
    assert [line.split()[2] for line in printed[1:]] == levels + ["mean"]
    e.errors["em-medium"] = "broken"
    del e.cards["em-medium"]
    assert [r["level"] for r in rows([e], mean=True)] == levels + ["mean"]
    assert rows([e], mean=True)[-1]["error"] and rows([e], mean=True)[-1]["connectome.edge_f1"] is None


def test_leaderboard_cli_ranks_truth_first(tiny_dataset, truth_submission, tmp_path, capsys):
    perturbed = tmp_path / "perturbed" / truth_submission.name  # same directory name: told apart by parents
    assert main(["reconstruct", str(tiny_dataset), "--method", "truth", "--modality", "em", "--out",
                 str(perturbed), "--perturb", "split=0.3,drop_synapses=0.5", "--seed", "1"]) == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    rc = main(["leaderboard", str(tiny_dataset), str(perturbed), str(broken), str(truth_submission),
               "--no-function", "--csv", str(tmp_path / "b.csv"), "--html", str(tmp_path / "b.html")])
    assert rc == 0
    table = list(csv.DictReader((tmp_path / "b.csv").open()))
    assert [r["submission"] for r in table] == [f"{truth_submission.parent.name}/truth-em", "perturbed/truth-em",
                                                 f"{tmp_path.name}/broken"]
    assert float(table[0]["connectome.edge_f1"]) == 1.0 and table[0]["fails_most_at"].startswith("nothing")
    assert float(table[1]["connectome.edge_f1"]) < 1.0 and table[1]["fails_most_at"]
    assert table[2]["error"] and table[2]["rank"] == "3"
    page = (tmp_path / "b.html").read_text()
    assert f"b-reports/{truth_submission.parent.name}__truth-em.html" in page
    assert (tmp_path / "b-reports" / "perturbed__truth-em.html").is_file()
