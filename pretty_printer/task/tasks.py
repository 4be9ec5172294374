"""The task zoo: known functions with deterministic train and held-out test sets.

Every task is a classification.  A network answers with one output unit per class and the
decoding rule is the same for the ANN and the circuit: the class is the output with the highest
rate (ties go to the lowest index, so an all-silent output layer answers class 0).  Inputs are
scaled to roughly [0, 1] so that one current encoding fits every task.

Static tasks have ``X`` of shape (n, n_in) and ``y`` of shape (n,).  Temporal tasks have ``X`` of
shape (n_seq, n_steps, n_in) -- one row per stimulus bin -- and ``y`` of shape (n_seq, n_steps):
the answer after each bin, which depends on the history of inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pretty_printer.errors import ConfigError
from pretty_printer.registry import Registry

KINDS = ("static", "temporal")


@dataclass(frozen=True)
class TaskData:
    """One realised task: its data splits and shape."""

    name: str
    kind: str  # "static" | "temporal"
    n_inputs: int
    n_outputs: int
    X_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        want = 2 if self.kind == "static" else 3
        for key in ("X_train", "X_test"):
            X = getattr(self, key)
            if X.ndim != want or X.shape[-1] != self.n_inputs:
                raise ConfigError(f"{key}: expected {want}-D with {self.n_inputs} inputs, "
                                  f"got shape {X.shape}")


@dataclass(frozen=True)
class TaskSpec:
    """A registered task: its generator and a one-line summary."""

    name: str
    kind: str
    summary: str
    generate: Callable[[np.random.Generator], TaskData]

    def describe(self) -> str:
        """One line for ``--list``: the name first."""
        return f"{self.name}\t{self.kind}\t{self.summary}"


TASKS: Registry[TaskSpec] = Registry("task")


def task(name: str, kind: str, summary: str):
    """Register a generator ``f(rng) -> TaskData`` under ``name``."""

    def deco(fn: Callable[[np.random.Generator], TaskData]):
        TASKS.register(name)(TaskSpec(name, kind, summary, fn))
        return fn

    return deco


def make_task(name: str, rng: np.random.Generator | int | None = None) -> TaskData:
    """Generate a registered task's train and test sets.

    Parameters
    ----------
    name : str
        Registered task name (unknown names raise an error listing the valid ones).
    rng : Generator, int or None
        Randomness for the data; the same seed gives identical arrays.
    """
    spec = TASKS.get(name)
    return spec.generate(np.random.default_rng(rng))


def describe(name: str) -> str:
    """The one-line summary of a registered task."""
    return TASKS.get(name).describe()


def decode(output_rates: np.ndarray) -> np.ndarray:
    """Predicted class per sample (or per bin): the most active output, lowest index on ties."""
    return np.argmax(np.asarray(output_rates), axis=-1)


def accuracy(y_true: np.ndarray, output_rates: np.ndarray) -> float:
    """Fraction of samples (all bins, for temporal tasks) whose decoded class is right."""
    pred = decode(output_rates)
    y_true = np.asarray(y_true)
    if pred.shape != y_true.shape:
        raise ConfigError(f"output_rates: expected leading shape {y_true.shape}, "
                          f"got {np.asarray(output_rates).shape}")
    return float(np.mean(pred == y_true))


# --------------------------------------------------------------------------- static tasks
def _noisy_corners(rng, n: int, n_bits: int, noise: float):
    bits = rng.integers(0, 2, size=(n, n_bits))
    X = bits + noise * rng.standard_normal((n, n_bits))
    return X, bits.sum(axis=1) % 2


@task("xor", "static", "2-input XOR of noisy binary corners, 2 classes")
def _xor(rng: np.random.Generator) -> TaskData:
    X_tr, y_tr = _noisy_corners(rng, 200, 2, 0.08)
    X_te, y_te = _noisy_corners(rng, 200, 2, 0.08)
    return TaskData("xor", "static", 2, 2, X_tr, y_tr, X_te, y_te, "y = x1 XOR x2")


@task("parity3", "static", "3-bit parity of noisy binary corners, 2 classes")
def _parity3(rng: np.random.Generator) -> TaskData:
    X_tr, y_tr = _noisy_corners(rng, 400, 3, 0.08)
    X_te, y_te = _noisy_corners(rng, 200, 3, 0.08)
    return TaskData("parity3", "static", 3, 2, X_tr, y_tr, X_te, y_te, "y = x1 ^ x2 ^ x3")


def _moons(rng, n: int, noise: float):
    y = rng.integers(0, 2, size=n)
    t = rng.uniform(0.0, np.pi, size=n)
    x0 = np.where(y == 0, np.cos(t), 1.0 - np.cos(t))
    x1 = np.where(y == 0, np.sin(t), 0.5 - np.sin(t))
    X = np.stack([x0, x1], axis=1) + noise * rng.standard_normal((n, 2))
    # map the moons' box (x0 in [-1, 2], x1 in [-0.5, 1]) onto [0, 1]^2
    X = (X - np.array([-1.0, -0.5])) / np.array([3.0, 1.5])
    return X, y


@task("moons", "static", "two interleaved noisy half-moons in 2-D, 2 classes")
def _moons_task(rng: np.random.Generator) -> TaskData:
    X_tr, y_tr = _moons(rng, 400, 0.08)
    X_te, y_te = _moons(rng, 200, 0.08)
    return TaskData("moons", "static", 2, 2, X_tr, y_tr, X_te, y_te, "two half-moons")


# 6x6 digit-like prototypes, drawn by hand for this project.
GLYPHS = {
    "zero": [".####.", "#....#", "#....#", "#....#", "#....#", ".####."],
    "one": ["..##..", ".###..", "..##..", "..##..", "..##..", ".####."],
    "seven": ["######", ".....#", "....#.", "...#..", "..#...", "..#..."],
    "plus": ["..##..", "..##..", "######", "######", "..##..", "..##.."],
    "ell": ["#.....", "#.....", "#.....", "#.....", "#.....", "######"],
}


def glyph_prototypes() -> np.ndarray:
    """(n_classes, 36) binary prototypes, in the order of :data:`GLYPHS`."""
    return np.array([[ch == "#" for ch in "".join(rows)] for rows in GLYPHS.values()], float)


def _glyphs(rng, n: int, flip: float, noise: float):
    protos = glyph_prototypes()
    y = rng.integers(0, len(protos), size=n)
    X = protos[y]
    flips = rng.random(X.shape) < flip
    X = np.where(flips, 1.0 - X, X) + noise * rng.standard_normal(X.shape)
    return np.clip(X, 0.0, 1.0), y


@task("glyphs", "static", "noisy 6x6 digit-like glyphs: 36 inputs, 5 classes")
def _glyphs_task(rng: np.random.Generator) -> TaskData:
    X_tr, y_tr = _glyphs(rng, 500, 0.12, 0.15)
    X_te, y_te = _glyphs(rng, 150, 0.12, 0.15)
    return TaskData("glyphs", "static", 36, len(GLYPHS), X_tr, y_tr, X_te, y_te,
                    "classify noisy 6x6 glyphs (pixel flips and intensity noise)")


# --------------------------------------------------------------------------- temporal tasks
def _flipflop(rng, n_seq: int, n_steps: int, p_pulse: float):
    """Set/reset pulses, one bin long; the answer after each bin is the stored bit.

    Every sequence opens with a reset pulse, as a real flip-flop is initialised, so the answer
    never depends on the network's state before the first input.
    """
    event = rng.choice(3, size=(n_seq, n_steps), p=[1 - 2 * p_pulse, p_pulse, p_pulse])
    event[:, 0] = 2
    X = np.zeros((n_seq, n_steps, 2))
    X[..., 0] = event == 1  # set
    X[..., 1] = event == 2  # reset
    y = np.zeros((n_seq, n_steps), dtype=np.int64)
    state = np.zeros(n_seq, dtype=np.int64)
    for t in range(n_steps):
        state = np.where(event[:, t] == 1, 1, np.where(event[:, t] == 2, 0, state))
        y[:, t] = state
    return X, y


@task("flipflop", "temporal", "1-bit flip-flop memory: set/reset pulses, recurrent network")
def _flipflop_task(rng: np.random.Generator) -> TaskData:
    X_tr, y_tr = _flipflop(rng, 256, 10, 0.2)
    X_te, y_te = _flipflop(rng, 40, 10, 0.2)
    return TaskData("flipflop", "temporal", 2, 2, X_tr, y_tr, X_te, y_te,
                    "remember the last pulse: set -> 1, reset -> 0 (opens with a reset)")
