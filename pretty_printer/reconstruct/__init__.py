"""Reconstruction methods: ``truth`` (the perfect submission) and per-modality baselines.

A method is a function ``(dataset: Dataset, modality: str, *, rng) -> Submission`` registered in
:data:`METHODS` under a name; baselines register one function per modality as
``baseline:<modality>``.
"""

from __future__ import annotations

from ..errors import UnknownNameError
from ..registry import Registry

METHODS: Registry = Registry("reconstruction method")


def _load_all() -> None:
    from . import truth  # noqa: F401

    for name in ("baseline_em", "baseline_exm", "baseline_xray"):
        try:
            __import__(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if not (e.name or "").endswith(name):
                raise


def get_method(method: str, modality: str):
    _load_all()
    names = sorted({n.split(":")[0] for n in METHODS.names()})  # what a user types: baseline, truth
    if method not in names:
        raise UnknownNameError(f"--method: unknown reconstruction method {method!r}; expected one of: {', '.join(names)}")
    if method == "baseline":
        return METHODS.get(f"baseline:{modality}")
    return METHODS.get(method)

