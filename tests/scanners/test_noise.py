import numpy as np

from scanners.noise import child_seed, hash_uniform, lattice_noise, poisson_from_normal, tiled_normal


def test_tiled_normal_depends_only_on_global_index():
    whole = tiled_normal(5, "s", (0, 0, 0), (9, 300, 70))
    part = tiled_normal(5, "s", (3, 130, 17), (5, 100, 40))
    assert np.array_equal(whole[3:8, 130:230, 17:57], part)
    assert not np.array_equal(whole, tiled_normal(6, "s", (0, 0, 0), (9, 300, 70)))
    assert not np.array_equal(whole, tiled_normal(5, "t", (0, 0, 0), (9, 300, 70)))
    assert abs(whole.mean()) < 0.02 and abs(whole.std() - 1) < 0.02


def test_negative_indices_are_distinct():
    a = tiled_normal(1, "s", (-4, 0), (8, 16), tile=(4, 16))
    assert not np.array_equal(a[:4], a[4:])


def test_poisson_from_normal_matches_poisson_moments():
    rng = np.random.default_rng(0)
    for mean in (0.3, 3.0, 11.9, 12.1, 40.0, 900.0):
        k = poisson_from_normal(np.full(200_000, mean, np.float32), rng.standard_normal(200_000).astype(np.float32))
        assert abs(k.mean() / mean - 1) < 0.02, mean
        assert abs(k.var() / mean - 1) < 0.05, mean
        assert np.all(k == np.round(k)) and k.min() >= 0


def test_seed_tree_and_hashes_are_stable():
    assert child_seed(3, "a").generate_state(1)[0] == child_seed(3, "a").generate_state(1)[0]
    assert child_seed(3, "a").generate_state(1)[0] != child_seed(3, "b").generate_state(1)[0]
    u = hash_uniform(7, np.arange(100000))
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    f1 = lattice_noise(9, (np.arange(10.0), np.arange(50.0) * 5, np.arange(40.0) * 5), 30.0)
    f2 = lattice_noise(9, (np.arange(10.0)[2:], np.arange(50.0)[10:] * 5, np.arange(40.0)[:20] * 5), 30.0)
    assert np.array_equal(f1[2:, 10:, :20], f2)
