"""Presets (TOML shipped in ``scanners/presets``) and building scanners from parameters."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any, Mapping

from .registry import SCANNERS, UnknownScannerError
from .validation import config_from_mapping

META_KEYS = ("kind", "preset", "description")


def preset_names() -> list[str]:
    """Names of the shipped presets."""
    root = resources.files(__package__) / "presets"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> dict[str, Any]:
    """The table of a shipped preset, e.g. ``load_preset("sbem")`` (a fresh dict each call)."""
    names = preset_names()
    if name not in names:
        raise UnknownScannerError(f"unknown scanner preset {name!r}; expected one of: {', '.join(names)}")
    text = (resources.files(__package__) / "presets" / f"{name}.toml").read_text()
    return tomllib.loads(text)


def resolve_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``params`` on top of its ``preset`` (if any); the result has ``kind``."""
    params = dict(params)
    if "preset" in params:
        base = load_preset(params.pop("preset"))
        base.update(params)
        params = base
    if "kind" not in params:
        raise ValueError(f"kind: expected one of {', '.join(SCANNERS.names())} (or a preset), got no 'kind' key")
    return params


def make_scanner(params: Mapping[str, Any]):
    """Build a scanner from a preset table with overrides.

    Parameters
    ----------
    params : mapping
        Either contains ``kind`` ("em", "exm", "xray") and that kind's keys, or ``preset`` (a
        shipped preset name) plus overrides merged on top.  ``description`` is ignored.

    Returns
    -------
    Scanner

    Raises
    ------
    ValueError
        Unknown key (the message names it and lists the valid ones) or invalid value (names the
        key, what was expected and what was got).
    """
    from . import em, exm, xray  # noqa: F401  (registers the kinds)

    params = resolve_params(params)
    kind = params.pop("kind")
    params.pop("description", None)
    cls = SCANNERS.get(kind)
    return cls(config_from_mapping(cls.config_cls, params, kind=kind))
