"""The typed schema of a dataset preset: every settable key with its type, unit, default and bounds.

Nothing here restates a default or a rule.  Each table is *derived* from the dataclass of the
stage that consumes it, so a field added there is a preset key here at once:

``[tissue]``         :class:`phantoms.GrowthConfig`
``[scan.<m>]``       the scanner kind's config class (``scanners`` registry), on top of the
                     scanner preset named by ``preset``
``[compile]``        the keyword-only parameters of
                     :func:`pretty_printer.circuit.compiler.compile_task` (see :mod:`.compile_schema`)
``[output]``         :class:`OutputConfig` below
``[task]``           ``name`` of a registered task

Types come from the dataclass annotations, defaults from the field defaults, units from the
unit suffix of the name (``_nm``, ``_ms``, ``_nS``...), and bounds are *probed* from the stage's own
validator (:func:`probe_bounds`, with the other keys at their defaults).  Values are checked
against the type here (one-line errors naming ``[table] key``), then the stage's dataclass is
built, which applies its own bounds and cross-field rules.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable

from pretty_printer.errors import ConfigError, PrettyPrinterError

# unit suffixes of field names (style rule 6: units live in names); longest first
UNIT_SUFFIXES = (
    ("_e_per_nm2", "e/nm^2"), ("_nm_per_um", "nm/um"), ("_per_um", "1/um"), ("_adu_per_e", "ADU/e"),
    ("_per_nS_nm2", "nm^2/nS"), ("_nm2", "nm^2"), ("_um2", "um^2"), ("_nm", "nm"), ("_um", "um"),
    ("_mm", "mm"), ("_ms", "ms"), ("_nS", "nS"), ("_uS", "uS"), ("_mV", "mV"), ("_nA", "nA"),
    ("_Hz", "Hz"), ("_keV", "keV"), ("_deg", "deg"), ("_adu", "ADU"), ("_C", "degC"), ("_e", "e"),
    ("_photons", "photons"),
)


def unit_of(name: str) -> str:
    """The unit encoded in a key's name (``block_nm`` -> ``nm``), or ``""``."""
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


@dataclass(frozen=True)
class OutputConfig:
    """How the dataset's arrays are written."""

    chunk: tuple[int, int, int] = (32, 128, 128)  # Zarr chunk shape (z, y, x), voxels
    meshes: bool = True  # per-cell PLY meshes in truth/meshes/ (from the labels, chunk by chunk)

    def __post_init__(self) -> None:
        c = tuple(self.chunk)
        if len(c) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in c):
            raise ValueError(f"chunk: expected 3 positive integers (z, y, x), got {list(self.chunk)}")
        object.__setattr__(self, "chunk", c)
        if not isinstance(self.meshes, bool):
            raise ValueError(f"meshes: expected true or false, got {self.meshes!r}")


@dataclass(frozen=True)
class Key:
    """One settable preset key, as ``presets --keys`` lists it."""

    key: str  # dotted, e.g. "tissue.block_nm"
    type: str  # "float", "int", "3 floats", "str: one of ...", ...
    unit: str
    default: Any
    bounds: str  # e.g. "> 0", "[0, 1]", "" (none found)
    source: str  # the class or function that declares it


# --------------------------------------------------------------------------- types
def _hint_kind(hint: Any) -> tuple[str, Any]:
    """Classify an annotation: ("float"|"int"|"bool"|"str"|"tuple"|"dataclass"|"any", detail)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _hint_kind(args[0]) if len(args) == 1 else ("any", None)
    if hint in (float, int, bool, str):
        return hint.__name__, None
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return "tuple", (args[0], None)
        return "tuple", (args[0] if args else Any, len(args))
    if dataclasses.is_dataclass(hint):
        return "dataclass", hint
    return "any", None


def type_name(hint: Any) -> str:
    kind, detail = _hint_kind(hint)
    if kind == "tuple":
        elem, n = detail
        elem = getattr(elem, "__name__", "value")
        return f"{n} {elem}s" if n else f"list of {elem}"
    if kind == "dataclass":
        return "table"
    return kind


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_type(name: str, hint: Any, value: Any) -> Any:
    """``value`` checked against the annotation ``hint`` (ints promoted to floats where declared).

    Raises
    ------
    ConfigError
        ``"<name>: expected <type>, got <value>"``.
    """
    kind, detail = _hint_kind(hint)

    def bad(expected: str):
        return ConfigError(f"{name}: expected {expected}, got {value!r}")

    if kind == "float":
        if not _is_number(value):
            raise bad("a number")
        return float(value)
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an integer")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind == "tuple":
        elem, n = detail
        if not isinstance(value, (list, tuple)) or (n is not None and len(value) != n):
            raise bad(f"a list of {n} {getattr(elem, '__name__', 'value')}s" if n else "a list")
        return tuple(check_type(name, elem, v) for v in value)
    return value


def dataclass_hints(cls: type) -> dict[str, Any]:
    """Resolved annotations of a dataclass's fields (strings when they cannot be resolved)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - an unresolvable annotation only loses its type check
        hints = {}
    return {f.name: hints.get(f.name, f.type) for f in dataclasses.fields(cls)}


def field_defaults(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            out[f.name] = f.default_factory()  # type: ignore[misc]
    return out


def check_keys(where: str, got, valid) -> None:
    """Unknown keys are an error that names the closest valid key (if any) and lists the valid ones."""
    unknown = sorted(set(got) - set(valid))
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), [str(v) for v in valid], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}{hint}; "
                          f"expected one of: {', '.join(sorted(valid))}")


def build(where: str, cls: type, table: dict, *, hints: dict | None = None, prefix: str = "") -> Any:
    """Type-check ``table`` against ``cls``'s fields and build it; every error is one line.

    Raises
    ------
    ConfigError
        ``"<where> <prefix><key>: expected ..., got ..."`` for an unknown key, a wrong type, or a
        value the stage's own validator rejects.
    """
    hints = dataclass_hints(cls) if hints is None else hints
    check_keys(f"{where} {prefix}".rstrip(". "), table, hints)
    kwargs = {}
    for key, value in table.items():
        try:
            kwargs[key] = check_type(key, hints[key], value)
        except ConfigError as e:
            raise ConfigError(f"{where} {prefix}{e}") from e
    try:
        return cls(**kwargs)
    except (ValueError, TypeError, PrettyPrinterError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise ConfigError(f"{where} {prefix}{msg}") from e


# --------------------------------------------------------------------------- bounds
_BIG = 1e12


def _fmt(x: float) -> str:
    return f"{x:g}"


def probe_bounds(accepts: Callable[[Any], bool], default: Any, integer: bool) -> str:
    """The interval of values ``accepts`` takes, found by bisection from ``default``.

    ``accepts(v)`` builds the stage config with this key set to ``v`` (others at their defaults)
    and says whether the stage's validator took it.  Bounds that depend on other keys are
    reported at the other keys' defaults.  Returns e.g. ``"> 0"``, ``"[0, 1]"``, ``">= 1"`` or ``""``.
    """
    if not _is_number(default) or not accepts(default):
        return ""
    lo = _edge(accepts, default, -_BIG, integer)
    hi = _edge(accepts, default, _BIG, integer)
    lo_txt = "" if lo is None else (("[" if accepts(lo) else "(") + _fmt(lo))
    hi_txt = "" if hi is None else (_fmt(hi) + ("]" if accepts(hi) else ")"))
    if lo is not None and hi is not None:
        return f"{lo_txt}, {hi_txt}"
    if lo is not None:
        return (">= " if accepts(lo) else "> ") + _fmt(lo)
    if hi is not None:
        return ("<= " if accepts(hi) else "< ") + _fmt(hi)
    return ""


def _edge(accepts, inside, outside, integer):
    """The boundary between ``inside`` (accepted) and ``outside``; None if ``outside`` is accepted."""
    if integer:
        outside = int(math.copysign(10**9, outside))
    if accepts(outside):
        return None
    a, b = inside, outside
    for _ in range(200):
        if integer and abs(b - a) <= 1:
            return a if accepts(a) else b
        m = (a + b) // 2 if integer else 0.5 * (a + b)
        if m in (a, b) or (not integer and abs(b - a) <= 1e-8 * max(1.0, abs(a))):
            break
        a, b = (m, b) if accepts(m) else (a, m)
    return a if integer else round(a, 6) + 0.0


def table_keys(prefix: str, cls: type, *, defaults: dict | None = None,
               skip: tuple[str, ...] = ()) -> list[Key]:
    """:class:`Key` rows for the fields of dataclass ``cls`` (bounds probed from ``cls`` itself)."""
    hints = dataclass_hints(cls)
    base = field_defaults(cls)
    defaults = base if defaults is None else {**base, **defaults}
    rows = []
    for name, hint in hints.items():
        if name in skip:
            continue
        kind, detail = _hint_kind(hint)

        def accepts(v, name=name):
            try:
                cls(**{**base, name: v})
            except (ValueError, TypeError, PrettyPrinterError):
                return False
            return True

        default = base.get(name)
        if kind == "tuple" and detail[1] and detail[0] in (int, float) and default:
            # a (z, y, x) triple: probe the value all three components share
            n, kind, default = detail[1], detail[0].__name__, default[0]
            accepts = (lambda v, a=accepts, n=n: a((v,) * n))
        bounds = probe_bounds(accepts, default, kind == "int") if kind in ("int", "float") else ""
        rows.append(Key(f"{prefix}.{name}", type_name(hint), unit_of(name), defaults.get(name), bounds,
                        cls.__name__))
    return rows
