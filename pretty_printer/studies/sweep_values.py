"""Sweep points: parsing ``--vary KEY=V1,V2,...``, naming points, the cartesian product.

Values are TOML (parsed by the presets' own parser) and are written back in TOML syntax, so a
point's directory name, its overrides and its table cells all show the same text.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Mapping, Sequence

from pretty_printer.dataset.toml_values import format_value as format_toml_value, parse_value
from pretty_printer.errors import ConfigError

#: The pseudo-key that replicates points over root seeds instead of changing a preset key.
SEED_KEY = "seed"


def _split_values(text: str) -> list[str]:
    """Split ``a,b,[1,2],c`` on the commas outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def parse_vary(text: str) -> tuple[str, tuple[Any, ...]]:
    """Parse ``KEY=V1,V2,...`` into the key and its values (each parsed as TOML).

    >>> parse_vary("tissue.receptor_size_correlation=0,0.5,1")
    ('tissue.receptor_size_correlation', (0, 0.5, 1))
    """
    if "=" not in text:
        raise ConfigError(f"--vary {text!r}: expected KEY=V1,V2,..., e.g. tissue.receptor_size_correlation=0,0.5,1")
    key, values = text.split("=", 1)
    key = key.strip()
    raw = [v for v in _split_values(values)]
    if not key or not values.strip() or any(v == "" for v in raw):
        raise ConfigError(f"--vary {text!r}: expected KEY=V1,V2,... with non-empty values")
    parsed = tuple(parse_value(v) for v in raw)
    if key == SEED_KEY and not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in parsed):
        raise ConfigError(f"--vary seed: expected non-negative integers, got {values!r}")
    if len(set(map(format_value, parsed))) != len(parsed):
        raise ConfigError(f"--vary {key}: values repeat, got {values!r}")
    return key, parsed


def format_value(value: Any) -> str:
    """A value as it appears in point names, tables and overrides (TOML syntax, lists without
    spaces so that a point's name is a directory name)."""
    return format_toml_value(value, sep=",")


#: Characters not allowed in a point's directory name (replaced by ``_``).
UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]")


def point_name(point: Mapping[str, Any]) -> str:
    """The directory name of a point: ``key1=v1,key2=v2`` with unsafe characters as ``_``."""
    name = ",".join(f"{k}={format_value(v)}" for k, v in point.items())
    return UNSAFE.sub("_", name) or "default"


def sweep_points(vary: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
    """The cartesian product of the varied values, first key slowest."""
    keys = [k for k, _ in vary]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"--vary: each key may be varied once, got {keys}")
    return [dict(zip(keys, combo)) for combo in itertools.product(*[tuple(v) for _, v in vary])]


