"""The seed tree: one root seed per dataset, split per stage with ``SeedSequence``.

Each stage draws from its own named child, so changing the scanner seed (or adding a scanner)
never changes the phantom, and changing the chunk size never changes an image.  Children are
derived from the stage *name* (hashed into the spawn key), not from the order of calls.
"""

from __future__ import annotations

import hashlib

import numpy as np

STAGES = ("task", "training", "compile", "growth", "scan", "baseline", "perturb")


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def stage_seed(root: int, *path: str) -> np.random.SeedSequence:
    """The SeedSequence for a stage path, e.g. ``stage_seed(0, "scan", "em")``."""
    if not isinstance(root, (int, np.integer)) or root < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {root!r}")
    return np.random.SeedSequence(int(root), spawn_key=tuple(_name_key(p) for p in path))


def stage_rng(root: int, *path: str) -> np.random.Generator:
    """A fresh Generator for a stage path."""
    return np.random.default_rng(stage_seed(root, *path))


def stage_int(root: int, *path: str) -> int:
    """A 63-bit integer seed for libraries that take ints (torch, NEURON Random123)."""
    return int(stage_seed(root, *path).generate_state(2, np.uint64)[0] >> np.uint64(1))
