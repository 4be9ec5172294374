"""The course's dataset (``docs/course/``): one ``tiny`` dataset that every notebook shares.

Where it lives is written once, here: ``$NPP_COURSE_DATASET`` if set, else
``<per-user cache>/course/tiny-seed0``, where the per-user cache is ``$NEURAL_PRETTY_PRINTER_CACHE``
or ``~/.cache/neural-pretty-printer`` (:func:`pretty_printer.circuit.cellmodels.cache_dir`).  Both
are made absolute, so notebooks 01-04 find the same dataset whatever directory Jupyter runs them in.
"""

from __future__ import annotations

import os
from pathlib import Path

COURSE_ENV = "NPP_COURSE_DATASET"
COURSE_PRESET = "tiny"
COURSE_SEED = 0


def course_dataset_dir() -> Path:
    """The course dataset's absolute directory (see the module docstring); nothing is created."""
    from pretty_printer.circuit.cellmodels import cache_dir

    env = os.environ.get(COURSE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return cache_dir().expanduser().resolve() / "course" / f"{COURSE_PRESET}-seed{COURSE_SEED}"


def course_dataset(*, progress: bool = True) -> Path:
    """The course dataset's directory, generated there first if it has no ``truth/`` (the ``tiny``
    preset on seed 0: 5-10 minutes on 2 cores, once).

    Raises
    ------
    DatasetError
        The directory exists but is not a dataset, or another run is generating it right now.
    """
    out = course_dataset_dir()
    if not (out / "truth").is_dir():
        from pretty_printer.dataset.generate import generate
        from pretty_printer.dataset.presets import load_preset

        generate(load_preset(COURSE_PRESET), out, COURSE_SEED, progress=progress)
    return out
