"""Dataset presets: TOML files shipped in ``pretty_printer/presets/``, loaded by name.

A preset has the sections

``[task]``     ``name`` of a registered task.
``[compile]``  keyword arguments of :func:`pretty_printer.circuit.compiler.compile_task` (cell model,
               training knobs).
``[tissue]``   fields of :class:`phantoms.GrowthConfig`.
``[scan.<modality>]``  a scanner: ``preset = "<scanners preset>"`` plus overrides.
``[output]``   ``chunk`` shape (z, y, x) of the Zarr arrays.

Unknown sections or keys are an error that lists the valid ones.  Values can be overridden
with dotted keys (``tissue.receptor_size_correlation=0.5``), which is what ``sweep`` uses.
"""

from __future__ import annotations

import copy
import importlib.resources
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pretty_printer.errors import ConfigError, UnknownNameError

SECTIONS = ("description", "task", "compile", "tissue", "scan", "output")
MODALITIES = ("em", "exm", "xray")
OUTPUT_KEYS = ("chunk",)


@dataclass(frozen=True)
class Preset:
    """A resolved dataset preset: the name it came from and its validated tables."""

    name: str
    description: str
    task: str
    compile: dict = field(default_factory=dict)
    tissue: dict = field(default_factory=dict)
    scan: dict = field(default_factory=dict)  # modality -> scanner params
    chunk: tuple[int, int, int] = (32, 128, 128)

    def to_dict(self) -> dict:
        return {
            "description": self.description,
            "task": {"name": self.task},
            "compile": dict(self.compile),
            "tissue": dict(self.tissue),
            "scan": {k: dict(v) for k, v in self.scan.items()},
            "output": {"chunk": list(self.chunk)},
        }


def preset_names() -> list[str]:
    root = importlib.resources.files("pretty_printer.dataset") / "presets"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


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
        text = (importlib.resources.files("pretty_printer.dataset") / "presets" / f"{name}.toml").read_text()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"preset {name!r}: invalid TOML: {e}") from e


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare string


def apply_overrides(table: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Return a copy of ``table`` with ``a.b.c=value`` overrides applied (values parsed as TOML)."""
    table = copy.deepcopy(table)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected KEY=VALUE, e.g. tissue.block_nm=[2000,4000,4000]")
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        if parts[0] not in SECTIONS:
            raise ConfigError(f"override {key!r}: unknown section {parts[0]!r}; expected one of: {', '.join(SECTIONS)}")
        node = table
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {key!r}: {p!r} is not a table")
        node[parts[-1]] = _parse_value(value.strip())
    return table


def _check_keys(where: str, got: dict, valid) -> None:
    unknown = sorted(set(got) - set(valid))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; expected one of: {', '.join(sorted(valid))}"
        )


def load_preset(name: str, overrides: list[str] | tuple[str, ...] = ()) -> Preset:
    """Load and validate a preset by name (or path), with optional dotted overrides."""
    table = apply_overrides(_read_table(name), overrides)
    _check_keys(f"preset {name!r}", table, SECTIONS)
    task = table.get("task", {})
    _check_keys(f"preset {name!r} [task]", task, ("name",))
    if "name" not in task:
        raise ConfigError(f"preset {name!r} [task]: missing key 'name'")
    scan = table.get("scan", {})
    _check_keys(f"preset {name!r} [scan]", scan, MODALITIES)
    output = table.get("output", {})
    _check_keys(f"preset {name!r} [output]", output, OUTPUT_KEYS)
    chunk = tuple(output.get("chunk", (32, 128, 128)))
    if len(chunk) != 3 or not all(isinstance(c, int) and c > 0 for c in chunk):
        raise ConfigError(f"preset {name!r} [output] chunk: expected 3 positive integers, got {list(chunk)}")
    preset = Preset(
        name=Path(name).stem if name.endswith(".toml") else name,
        description=str(table.get("description", "")),
        task=str(task["name"]),
        compile=dict(table.get("compile", {})),
        tissue=dict(table.get("tissue", {})),
        scan={m: dict(v) for m, v in scan.items()},
        chunk=chunk,  # type: ignore[arg-type]
    )
    validate(preset)
    return preset


def validate(preset: Preset) -> None:
    """Build every stage's config once so a bad key fails before anything is computed."""
    from pretty_printer.dataset import stages  # local: stages imports heavy packages

    stages.growth_config(preset)
    for modality in preset.scan:
        stages.make_scanner(preset, modality)
    stages.check_compile_options(preset)
