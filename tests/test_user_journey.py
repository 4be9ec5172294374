"""The benchmark builder's journey, as the README gives it: build a 3-level EM track, release it,
score three submissions with the leaderboard, and read in the report where each one fails."""

import csv
import tarfile

import pytest

from pretty_printer.cli.main import main

LEVELS = ("em-easy", "em-medium", "em-hard")


@pytest.mark.slow
def test_track_release_leaderboard(tmp_path, capsys):
    bench, subs = tmp_path / "bench", tmp_path / "subs"
    argv = ["track", str(bench), "--seed", "0", "--quiet"]
    for level in LEVELS:
        argv += ["--level", level]
    assert main(argv) == 0

    # independent tissue: every level has its own seed and its own circuit
    seeds = {(bench / lv / "truth" / "seed.json").read_text() for lv in LEVELS}
    assert len(seeds) == 3
    assert len({(bench / lv / "public" / "manifest.json").read_text().split('"truth_sha256"')[1][:70]
                for lv in LEVELS}) == 3

    archive = tmp_path / "bench-public.tar.gz"
    assert main(["release", str(bench), "--out", str(archive), "--quiet"]) == 0
    with tarfile.open(archive) as t:
        names = t.getnames()
    assert {"README.md", "COMMITMENT.txt", "track.json"} <= set(names)
    assert all(n.split("/")[1] == "public" for n in names if n.startswith("em-"))
    assert not any("truth" in n.split("/") for n in names)

    for lv in LEVELS:
        d = str(bench / lv)
        assert main(["reconstruct", d, "--method", "truth", "--modality", "em", "--out", str(subs / "truth" / lv)]) == 0
        assert main(["reconstruct", d, "--method", "truth", "--modality", "em", "--out", str(subs / "perturbed" / lv),
                     "--perturb", "merge=0.2,drop_synapses=0.3"]) == 0
        assert main(["reconstruct", d, "--method", "baseline", "--modality", "em", "--out", str(subs / "baseline" / lv)]) == 0
    capsys.readouterr()
    assert main(["leaderboard", str(bench), str(subs / "truth"), str(subs / "perturbed"), str(subs / "baseline"),
                 "--no-function", "--csv", str(tmp_path / "board.csv"), "--html", str(tmp_path / "board.html")]) == 0
    printed = capsys.readouterr().out
    table = [line.split() for line in printed.splitlines() if line[:1].isdigit()]
    assert [t[2] for t in table] == [*LEVELS, "mean"] * 3  # the track's order, then each one's mean
    rows = list(csv.DictReader((tmp_path / "board.csv").open()))
    assert len(rows) == 9 and {r["level"] for r in rows} == set(LEVELS)
    assert {r["rank"] for r in rows if r["submission"] == "truth"} == {"1"}
    assert all(float(r["connectome.edge_f1"]) == 1.0 for r in rows if r["submission"] == "truth")
    for r in rows:  # the report says where each imperfect submission fails
        if r["submission"] != "truth":
            assert r["fails_most_at"] and not r["fails_most_at"].startswith("nothing"), r
    page = (tmp_path / "board.html").read_text()
    assert page.count("scorecard</a>") == 9 and "fails most at" in page and "perturbed" in printed

    assert main(["release", str(bench), "--verify", "--against", str(archive), "--quiet"]) == 0
