import numpy as np
import pytest

from pretty_printer.seeds import stage_int, stage_rng


def test_same_path_same_stream():
    assert np.array_equal(stage_rng(3, "scan", "em").random(5), stage_rng(3, "scan", "em").random(5))


def test_sibling_stages_are_independent_of_each_other():
    # the scanner seed is a different branch than growth: changing one never touches the other
    a = stage_rng(3, "growth").random(5)
    b = stage_rng(3, "scan", "em").random(5)
    c = stage_rng(4, "growth").random(5)
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_stage_int_is_63_bit_and_deterministic():
    v = stage_int(7, "training")
    assert v == stage_int(7, "training") and 0 <= v < 2**63


def test_negative_seed_rejected():
    with pytest.raises(ValueError, match="seed"):
        stage_rng(-1, "task")
