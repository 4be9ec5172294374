"""Validate a preset against the stage schemas, resolve it fully, and list every settable key.

This is the heavy half of :mod:`.presets` (it imports ``phantoms``, ``scanners`` and the compiler
to read their dataclasses); listing preset names never imports it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pretty_printer.dataset import compile_schema, schema
from pretty_printer.dataset.toml_values import format_value as toml_value
from pretty_printer.errors import ConfigError, UnknownNameError

_META = ("kind", "preset", "description")  # scanner-table keys that are not config fields


def _scanner_class(where: str, params: dict) -> tuple[str, type, dict]:
    """(kind, config class, params merged on the scanner preset) of a ``[scan.<m>]`` table."""
    import scanners
    from scanners import em, exm, xray  # noqa: F401  (register the kinds)
    from scanners.config import resolve_params
    from scanners.registry import SCANNERS

    try:
        merged = resolve_params(params)
        cls = SCANNERS.get(merged["kind"]).config_cls
    except (ValueError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise ConfigError(f"{where} {msg}") from e
    del scanners
    return merged["kind"], cls, merged


def _follow_tissue(cls, params: dict, tissue) -> dict:
    """ExM barcodes follow the tissue's ``barcode_proteins`` unless the scan table sets them."""
    if "n_barcode_proteins" in schema.dataclass_hints(cls) and "n_barcode_proteins" not in params:
        return {**params, "n_barcode_proteins": tissue.barcode_proteins}
    return dict(params)


def _check_scan(where: str, modality: str, params: dict, tissue) -> None:
    where = f"{where} [scan.{modality}]"
    kind, cls, merged = _scanner_class(where, params)
    if kind != modality:
        raise ConfigError(f"{where}: expected a {modality} scanner, got kind {kind!r}")
    merged.update(_follow_tissue(cls, params, tissue))
    schema.build(where, cls, {k: v for k, v in merged.items() if k not in _META})


def scanner_params(preset, modality: str) -> dict:
    """The parameters to build the ``modality`` scanner from (``scanners.make_scanner``)."""
    import phantoms

    params = preset.scan[modality]
    _kind, cls, _merged = _scanner_class(f"preset {preset.name!r} [scan.{modality}]", params)
    return _follow_tissue(cls, params, phantoms.GrowthConfig(**preset.tissue))


def validated(preset, output: dict):
    """``preset`` with every table checked (and ``chunk`` normalized).

    Raises
    ------
    ConfigError
        One line naming ``[table] key``, what was expected and what was got.
    """
    import phantoms

    from pretty_printer.task.tasks import TASKS

    where = f"preset {preset.name!r}"
    try:
        TASKS.get(preset.task)
    except UnknownNameError as e:
        raise UnknownNameError(f"{where} [task] name: {e}") from e
    compile_schema.compile_kwargs(where, preset.compile)
    tissue = schema.build(f"{where} [tissue]", phantoms.GrowthConfig, preset.tissue)
    for m, t in preset.scan.items():
        _check_scan(where, m, t, tissue)
    out = schema.build(f"{where} [output]", schema.OutputConfig, output)
    return replace(preset, chunk=out.chunk, meshes=out.meshes)


def resolved(preset) -> dict[str, dict[str, tuple[Any, str]]]:
    """Every key of ``preset`` with its effective value and its source.

    Sources: ``"preset"`` (the preset file or ``--set``), the scanner preset's name, ``"default"``
    (the stage dataclass), ``"task 'x' default"``, ``"tissue.barcode_proteins"``.
    """
    import phantoms

    out: dict[str, dict[str, tuple[Any, str]]] = {
        "task": {"name": (preset.task, "preset")},
        "compile": compile_schema.resolved(preset.task, preset.compile),
        "tissue": _with_defaults(phantoms.GrowthConfig, preset.tissue, {}),
    }
    for m, params in preset.scan.items():
        _kind, cls, merged = _scanner_class(f"preset {preset.name!r} [scan.{m}]", params)
        base = {k: v for k, v in merged.items() if k not in params and k != "description"}
        table = _with_defaults(cls, params, base, base_source=str(params.get("preset", "default")))
        if "n_barcode_proteins" in table and "n_barcode_proteins" not in params:
            table["n_barcode_proteins"] = (out["tissue"]["barcode_proteins"][0], "tissue.barcode_proteins")
        out[f"scan.{m}"] = table
    out["output"] = {"chunk": (list(preset.chunk), "preset")}
    return out


def _with_defaults(cls, given: dict, base: dict, base_source: str = "") -> dict:
    table = {k: (v, "preset") for k, v in given.items()}
    table.update({k: (v, base_source) for k, v in base.items() if k not in table})
    for k, v in schema.field_defaults(cls).items():
        table.setdefault(k, (v, "default"))
    return {k: table[k] for k in sorted(table, key=lambda k: (k not in _META, k))}


def all_keys() -> list[schema.Key]:
    """Every settable key of a preset, table by table."""
    import phantoms
    from scanners import em, exm, xray  # noqa: F401  (register the kinds)
    from scanners.config import load_preset, preset_names
    from scanners.registry import SCANNERS

    from pretty_printer.task.tasks import TASKS

    rows = [schema.Key("task.name", "str", "", None, f"one of: {', '.join(TASKS.names())}", "tasks")]
    rows += compile_schema.keys()
    rows += schema.table_keys("tissue", phantoms.GrowthConfig)
    for kind in SCANNERS.names():
        names = [n for n in preset_names() if load_preset(n).get("kind") == kind]
        rows.append(schema.Key(f"scan.{kind}.preset", "str", "", None, f"one of: {', '.join(names)}",
                               "scanners presets"))
        rows += schema.table_keys(f"scan.{kind}", SCANNERS.get(kind).config_cls)
    rows += schema.table_keys("output", schema.OutputConfig)
    return rows


# --------------------------------------------------------------------------- printing
def format_resolved(preset) -> str:
    """``preset`` fully resolved, as TOML with each value's source as a comment (loadable again)."""
    lines = [f"# preset {preset.name!r}, fully resolved; '# source' says where each value comes from",
             f"description = {toml_value(preset.description)}"]
    subtables: dict[str, dict] = {}
    for table, items in resolved(preset).items():
        lines.append(f"\n[{table}]")
        for key, (value, source) in items.items():
            if "." in key:  # compile.calibration.rounds -> [compile.calibration]
                sub, leaf = key.split(".", 1)
                subtables.setdefault(f"{table}.{sub}", {})[leaf] = (value, source)
                continue
            lines.append(f"{key} = {toml_value(value)}".ljust(48) + f"  # {source}")
    for table, items in subtables.items():
        lines.append(f"\n[{table}]")
        lines += [f"{k} = {toml_value(v)}".ljust(48) + f"  # {s}" for k, (v, s) in items.items()]
    return "\n".join(lines) + "\n"


def format_keys(rows: list[schema.Key]) -> str:
    """The ``presets --keys`` table: key, type, unit, default, bounds."""
    head = ("key", "type", "unit", "default", "bounds")
    body = [(r.key, r.type, r.unit, "" if r.default is None else toml_value(r.default), r.bounds) for r in rows]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(4)]
    fmt = lambda row: "  ".join(c.ljust(w) for c, w in zip(row[:4], widths)) + "  " + row[4]  # noqa: E731
    note = ("# bounds are probed from each stage's own validator, with the other keys at their defaults;\n"
            "# scan.<kind> defaults are the config class's: a scanner preset (scan.<kind>.preset) brings its own\n")
    return note + "\n".join(fmt(r).rstrip() for r in [head, *body]) + "\n"
