"""Reconstruction methods: ``truth`` (the perfect submission) and per-modality baselines.

A method is a function ``(dataset: Dataset, modality: str, *, rng) -> Submission`` registered in
:data:`METHODS` under a name; baselines register one function per modality as
``baseline:<modality>``.
"""

from __future__ import annotations

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
    if method == "baseline":
        return METHODS.get(f"baseline:{modality}")
    return METHODS.get(method)

