"""The NEURON mechanisms shipped as package data (``sim/mechanisms/*.mod``) and their hash.

Kept apart from :mod:`pretty_printer.sim.neuron_backend` so that cache keys can be computed
without importing NEURON.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


def mod_files() -> list[tuple[str, bytes]]:
    # the .mod files ship next to this module (package data)
    pkg = Path(__file__).resolve().parent / "mechanisms"
    return sorted((p.name, p.read_bytes()) for p in pkg.glob("*.mod"))


@lru_cache(maxsize=1)
def mechanism_hash() -> str:
    """A short hash of the shipped .mod files (keys the compiled-mechanism cache).

    Computed once per process: every cell NEURON builds asks for it (thousands of times in one
    dataset); re-reading and hashing the files each time took ~6 % of a profiled generate.
    """
    sha = hashlib.sha256()
    for name, data in mod_files():
        sha.update(name.encode() + b"\0" + data + b"\0")
    return sha.hexdigest()[:16]
