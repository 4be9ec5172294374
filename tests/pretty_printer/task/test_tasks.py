"""The task zoo: deterministic generators, known labels, the shared decoding rule."""

import numpy as np
import pytest

from pretty_printer.errors import UnknownNameError
from pretty_printer.task.tasks import (GLYPHS, TASKS, accuracy, decode, describe, glyph_prototypes,
                                  make_task)


def test_zoo_has_the_required_tasks():
    names = TASKS.names()
    assert len(names) >= 5
    assert {"xor", "parity3", "moons", "glyphs", "flipflop"} <= set(names)
    for name in names:
        assert describe(name).split()[0] == name


@pytest.mark.parametrize("name", TASKS.names())
def test_same_seed_same_data_other_seed_differs(name):
    a, b, c = make_task(name, 3), make_task(name, 3), make_task(name, 4)
    for key in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert not np.array_equal(a.X_test, c.X_test)
    assert a.X_train.shape[-1] == a.X_test.shape[-1] == a.n_inputs
    assert set(np.unique(a.y_train)) <= set(range(a.n_outputs))


def test_xor_and_parity_labels_are_the_known_functions():
    for name, n_bits in (("xor", 2), ("parity3", 3)):
        td = make_task(name, 0)
        bits = np.round(td.X_test).astype(int)
        clean = np.all(np.abs(td.X_test - bits) < 0.4, axis=1)
        assert clean.mean() > 0.95
        np.testing.assert_array_equal(td.y_test[clean], bits[clean].sum(axis=1) % 2)


def test_glyphs_size_and_learnability_by_nearest_prototype():
    td = make_task("glyphs", 0)
    assert td.n_inputs >= 32 and td.n_outputs >= 4 and td.n_outputs == len(GLYPHS)
    protos = glyph_prototypes()
    d = ((td.X_test[:, None, :] - protos[None]) ** 2).sum(-1)
    assert np.mean(d.argmin(1) == td.y_test) > 0.9  # noisy but well posed


def test_flipflop_answer_depends_on_history():
    td = make_task("flipflop", 0)
    assert td.kind == "temporal" and td.X_test.ndim == 3
    X, y = td.X_train, td.y_train
    # replay the rule: the state is the last pulse (set -> 1, reset -> 0), 0 before any pulse
    state = np.zeros(len(X), int)
    for t in range(X.shape[1]):
        state = np.where(X[:, t, 0] > 0, 1, np.where(X[:, t, 1] > 0, 0, state))
        np.testing.assert_array_equal(y[:, t], state)
    quiet = (X.sum(-1) == 0)
    # the same (empty) input in a bin gives both answers depending on the past
    assert set(np.unique(y[quiet])) == {0, 1}


def test_decoding_rule_argmax_lowest_index_on_ties():
    rates = np.array([[10.0, 20.0], [5.0, 5.0], [0.0, 0.0], [30.0, 1.0]])
    np.testing.assert_array_equal(decode(rates), [1, 0, 0, 0])
    assert accuracy(np.array([1, 0, 1, 0]), rates) == 0.75


def test_unknown_task_lists_valid_names():
    with pytest.raises(UnknownNameError, match="xor") as e:
        make_task("nope", 0)
    assert "flipflop" in str(e.value)
