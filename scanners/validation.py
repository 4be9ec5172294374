"""Checks shared by the scanner configs: each error names the key, what was expected, what was got."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np


def triple(name: str, value: Any, *, positive: bool = True, allow_zero: bool = False) -> tuple[float, float, float]:
    """A (z, y, x) triple of finite floats (a scalar is broadcast)."""
    arr = np.atleast_1d(np.asarray(value, dtype=float)) if _numeric(value) else None
    if arr is None or arr.ndim != 1 or arr.size not in (1, 3) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected a number or three numbers (z, y, x), got {value!r}")
    arr = np.broadcast_to(arr, (3,))
    if positive and (np.any(arr < 0) if allow_zero else np.any(arr <= 0)):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected values {bound}, got {value!r}")
    return tuple(float(v) for v in arr)


def number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, integer: bool = False) -> float:
    """A finite number within bounds (``low_open`` makes the lower bound strict)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if integer and float(value) != int(value):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name}: expected a value {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name}: expected a value <= {high}, got {value!r}")
    return int(value) if integer else float(value)


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name}: expected one of {', '.join(options)}, got {value!r}")
    return value


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected true or false, got {value!r}")
    return bool(value)


def set_field(obj: Any, name: str, value: Any) -> None:
    """Normalize a field of a frozen dataclass inside ``__post_init__``."""
    object.__setattr__(obj, name, value)


def config_from_mapping(cls: type, params: Mapping[str, Any], *, kind: str) -> Any:
    """Build the config dataclass ``cls`` from a flat mapping; unknown keys list the valid ones."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ValueError(
            f"unknown {kind} scanner key {unknown[0]!r}; expected one of: {', '.join(sorted(names))}"
        )
    return cls(**dict(params))


def _numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (bool, str))
