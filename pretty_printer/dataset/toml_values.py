"""One TOML value to text and back: the parser of ``--set KEY=VALUE`` and ``--vary KEY=V1,V2``
values, and the writer that ``presets --show``, override strings and sweep point names share."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from typing import Any


def parse_value(text: str) -> Any:
    """``text`` parsed as a TOML value; text that is not TOML is a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare string


def format_value(v: Any, sep: str = ", ") -> str:
    """A value in TOML syntax (the subset presets use): ``parse_value`` reads it back.

    ``sep`` joins list items (``","`` where the text names a directory, as sweep points do).
    A dataclass is written as its fields; ``None`` (an unset optional) as ``""``.
    """
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + sep.join(format_value(x, sep) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v)
    if dataclasses.is_dataclass(v):
        return format_value(dataclasses.asdict(v), sep)
    if v is None:
        return '""'
    return repr(v)
