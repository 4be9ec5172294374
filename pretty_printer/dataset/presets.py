"""Dataset presets: TOML files shipped in ``pretty_printer/dataset/presets/``, loaded by name.

A preset has the tables

``[task]``     ``name`` of a registered task.
``[compile]``  keyword arguments of :func:`pretty_printer.circuit.compiler.compile_task` (cell model,
               training knobs; see :mod:`.compile_schema`).
``[tissue]``   fields of :class:`phantoms.GrowthConfig`.
``[scan.<modality>]``  a scanner: ``preset = "<scanners preset>"`` plus overrides.
``[output]``   fields of :class:`~pretty_printer.dataset.schema.OutputConfig` (the Zarr ``chunk``,
               ``meshes``).

Every key is typed and bounded by the stage dataclass it feeds (:mod:`.schema`); unknown tables
or keys are an error that lists the valid ones.  Values can be overridden with dotted keys
(``tissue.receptor_size_correlation=0.5``), which is what ``--set`` and ``sweep`` use.

Two resolution rules:

* Choosing another scanner preset with ``--set scan.<m>.preset=NAME`` brings *that* preset's own
  values: the preset file's other ``[scan.<m>]`` keys (its adjustments to the scanner preset it
  named) are dropped, and only keys set explicitly with ``--set`` stay.
* An ExM scan images the tissue's barcodes: its ``n_barcode_proteins`` follows
  ``tissue.barcode_proteins`` unless the ``[scan.<m>]`` table sets it.

Listing names and descriptions (:func:`preset_names`, :func:`preset_description`) reads TOML only;
it imports no stage package.
"""

from __future__ import annotations

import copy
import importlib.resources
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pretty_printer.dataset.schema import OutputConfig, check_keys  # light: stdlib only
from pretty_printer.dataset.toml_values import parse_value
from pretty_printer.errors import ConfigError, UnknownNameError

SECTIONS = ("description", "task", "compile", "tissue", "scan", "output")
MODALITIES = ("em", "exm", "xray")
_SCANNER_CHOICE = ("preset", "kind")  # keys that pick a scanner: changing one resets the table
_DEFAULT_CHUNK = OutputConfig.chunk


@dataclass(frozen=True)
class Preset:
    """A validated dataset preset: the name it came from and its tables (as written, plus --set)."""

    name: str
    description: str
    task: str
    compile: dict = field(default_factory=dict)
    tissue: dict = field(default_factory=dict)
    scan: dict = field(default_factory=dict)  # modality -> scanner params (preset + overrides)
    chunk: tuple[int, int, int] = _DEFAULT_CHUNK
    meshes: bool = True  # = schema.OutputConfig.meshes: per-cell meshes in truth/meshes/

    def to_dict(self) -> dict:
        return {
            "description": self.description,
            "task": {"name": self.task},
            "compile": copy.deepcopy(self.compile),
            "tissue": dict(self.tissue),
            "scan": {k: dict(v) for k, v in self.scan.items()},
            "output": {"chunk": list(self.chunk), "meshes": self.meshes},
        }


def _root():
    return importlib.resources.files("pretty_printer.dataset") / "presets"


def preset_names() -> list[str]:
    """Names of the shipped dataset presets, sorted."""
    return sorted(p.name[:-5] for p in _root().iterdir() if p.name.endswith(".toml"))


def preset_description(name: str) -> str:
    """A preset's ``description`` line, read from its TOML alone (no validation, no heavy imports)."""
    return str(_read_table(name).get("description", ""))


def _read_table(name: str) -> dict:
    path = Path(name)
    if name.endswith(".toml"):
        if not path.is_file():
            raise ConfigError(f"preset: file {name!r} does not exist")
        text = path.read_text()
    else:
        if name not in preset_names():
            raise UnknownNameError(
                f"unknown preset {name!r}; expected one of: {', '.join(preset_names())} "
                "(or a path to a .toml file)"
            )
        text = (_root() / f"{name}.toml").read_text()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"preset {name!r}: invalid TOML: {e}") from e


def parse_overrides(overrides: list[str] | tuple[str, ...]) -> dict:
    """``["a.b.c=1", ...]`` -> ``{"a": {"b": {"c": 1}}}`` (values parsed as TOML)."""
    tree: dict = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected KEY=VALUE, e.g. tissue.block_nm=[2000,4000,4000]")
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        if parts[0] not in SECTIONS:
            raise ConfigError(f"override {key!r}: unknown section {parts[0]!r}; expected one of: {', '.join(SECTIONS)}")
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {key!r}: {p!r} is not a table")
        node[parts[-1]] = parse_value(value.strip())
    return tree


def _merge(base: Any, over: Any, path: tuple[str, ...] = ()) -> Any:
    if not isinstance(over, dict):
        return copy.deepcopy(over)
    if not isinstance(base, dict):
        if base is not None:
            raise ConfigError(f"override {'.'.join(path)!r}: {path[-1]!r} is not a table")
        base = {}
    if len(path) == 2 and path[0] == "scan" and any(
            k in over and over[k] != base.get(k) for k in _SCANNER_CHOICE):
        base = {}  # another scanner: its own preset values, not this file's adjustments to the old one
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(base.get(k), v, (*path, k))
    return out


def apply_overrides(table: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Return a copy of ``table`` with ``a.b.c=value`` overrides applied (values parsed as TOML).

    ``--set scan.<m>.preset=OTHER`` resets that scan table to ``OTHER``'s own values (module doc).
    """
    return _merge(table, parse_overrides(overrides))


def load_preset(name: str, overrides: list[str] | tuple[str, ...] = ()) -> Preset:
    """Load and validate a preset by name (or path), with optional dotted overrides.

    Raises
    ------
    ConfigError
        One line naming the table and key, what was expected and what was got.
    UnknownNameError
        An unknown preset, task, cell model or scanner preset (the message lists the valid names).
    """
    table = apply_overrides(_read_table(name), overrides)
    label = Path(name).stem if name.endswith(".toml") else name
    where = f"preset {label!r}"
    check_keys(where, table, SECTIONS)
    task = table.get("task", {})
    check_keys(f"{where} [task]", task, ("name",))
    if "name" not in task:
        raise ConfigError(f"{where} [task]: missing key 'name'")
    scan = table.get("scan", {})
    check_keys(f"{where} [scan]", scan, MODALITIES)
    for m, t in scan.items():
        if not isinstance(t, dict):
            raise ConfigError(f"{where} [scan.{m}]: expected a table, got {t!r}")
    for section in ("compile", "tissue", "output"):
        if not isinstance(table.get(section, {}), dict):
            raise ConfigError(f"{where} [{section}]: expected a table, got {table[section]!r}")
    from pretty_printer.dataset import validation  # local: validation imports the stage packages

    tissue = dict(table.get("tissue", {}))
    return validation.validated(Preset(
        name=label,
        description=str(table.get("description", "")),
        task=str(task["name"]),
        compile=copy.deepcopy(table.get("compile", {})),
        tissue=tissue,
        scan={m: dict(v) for m, v in scan.items()},
        chunk=tuple(table.get("output", {}).get("chunk", _DEFAULT_CHUNK)),  # type: ignore[arg-type]
    ), table.get("output", {}))


def validate(preset: Preset) -> None:
    """Check every table of ``preset`` against its stage's schema (see :mod:`.validation`)."""
    from pretty_printer.dataset import validation

    validation.validated(preset, {"chunk": list(preset.chunk), "meshes": preset.meshes})
