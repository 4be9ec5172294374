"""track: levels get independent seeds (no shared tissue) unless asked; bad levels fail before work."""

import pytest

from pretty_printer.dataset.layout import write_json
from pretty_printer.dataset.track import build_track, level_seed
from pretty_printer.errors import ConfigError, UnknownNameError


def test_levels_get_independent_reproducible_seeds():
    seeds = [level_seed(7, lv) for lv in ("em-easy", "em-medium", "em-hard")]
    assert len(set(seeds)) == 3 and 7 not in seeds
    assert seeds == [level_seed(7, lv) for lv in ("em-easy", "em-medium", "em-hard")]
    assert level_seed(8, "em-easy") != seeds[0]
    assert {level_seed(7, lv, shared_tissue=True) for lv in ("em-easy", "em-hard")} == {7}


def test_bad_levels_fail_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="distinct"):
        build_track(tmp_path / "t", ["em-easy", "em-easy"], 0)
    with pytest.raises(UnknownNameError, match="em-impossible"):
        build_track(tmp_path / "t", ["em-easy", "em-impossible"], 0)
    with pytest.raises(ConfigError, match="dose_e_per_nm2"):
        build_track(tmp_path / "t", ["em-easy"], 0, overrides=("scan.em.dose_e_per_nm2=-1",))
    assert not (tmp_path / "t").exists()


def test_a_directory_holding_another_track_is_refused(tmp_path):
    write_json(tmp_path / "track.json", {"format": "x", "levels": []})
    with pytest.raises(ConfigError, match="another track"):
        build_track(tmp_path, ["em-easy"], 0)
