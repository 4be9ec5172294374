"""Pooling of the EM sign benchmark (`benchmarks/bench_em_sign_dose.py`) on known confusions."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_em_sign_dose.py"
_spec = importlib.util.spec_from_file_location("bench_em_sign_dose", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_wilson_known_answers():
    """18 of 20 at 95 %: (0.699, 0.972) (Brown, Cai & DasGupta 2001's formula); 0 of n and n of n:
    closed form ``z^2 / (n + z^2)`` from the boundary."""
    lo, hi = bench.wilson(18, 20)
    assert lo == pytest.approx(0.69897, abs=1e-4) and hi == pytest.approx(0.97213, abs=1e-4)
    z2 = bench.Z95 ** 2
    assert bench.wilson(0, 3) == pytest.approx((0.0, z2 / (3 + z2)))
    assert bench.wilson(3, 3) == pytest.approx((3 / (3 + z2), 1.0))
    assert bench.wilson(5, 10, bench.Z975)[1] - bench.wilson(5, 10, bench.Z975)[0] > \
        bench.wilson(5, 10)[1] - bench.wilson(5, 10)[0]  # 97.5 % is wider than 95 %
    with pytest.raises(ValueError, match="n >= 1"):
        bench.wilson(0, 0)


def test_pool_sums_counts_over_datasets():
    """Two datasets (9 E + 1 I all right; 8 E + 2 I, one of each wrong): pooled 17 E (16 right) and
    3 I (2 right): plain 18/20, balanced (16/17 + 2/3) / 2, its bounds the means of the recalls'."""
    r = bench.pool([dict(n_E=9, n_I=1, ok_E=9, ok_I=1), dict(n_E=8, n_I=2, ok_E=7, ok_I=1)])
    assert (r["n_E"], r["n_I"], r["ok_E"], r["ok_I"]) == (17, 3, 16, 2)
    assert r["plain"] == pytest.approx((0.9, *bench.wilson(18, 20)))
    assert r["recall_I"] == pytest.approx((2 / 3, *bench.wilson(2, 3, bench.Z975)))
    e, i = r["recall_E"], r["recall_I"]
    assert r["balanced"] == pytest.approx(tuple((a + b) / 2 for a, b in zip(e, i)))
    assert r["balanced"][0] == pytest.approx((16 / 17 + 2 / 3) / 2)
    assert r["all_exc"] == pytest.approx(17 / 20) and r["note"] == ""


def test_pool_with_too_few_of_one_sign_gives_no_balanced_score():
    """Two inhibitory edges pooled, both right: not the 1.00 one class gives, but n/a."""
    r = bench.pool([dict(n_E=4, n_I=0, ok_E=4, ok_I=0), dict(n_E=2, n_I=2, ok_E=2, ok_I=2)])
    assert r["recall_I"] is None and r["balanced"] is None and r["plain"] is None
    assert r["note"] == "too few edges" and r["recall_E"][0] == 1.0 and r["all_exc"] == pytest.approx(0.75)
    line = bench.pooled_lines([[{"dose": "0.1", **dict(n_E=4, n_I=0, ok_E=4, ok_I=0)}]])[-1]
    assert "n/a" in line and "too few edges" in line
