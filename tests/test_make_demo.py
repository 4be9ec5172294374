"""`make demo` (the README's first command): its recipe writes every output where the tool accepts it.

The recipe's `reconstruct --out` once lay inside the generated dataset, which `reconstruct` refuses
(a submission must not change what a dataset publishes), so `make demo` failed after generating.
Running the recipe whole takes minutes (it generates `tiny`); here its lines are read from the
Makefile and each `--out` is checked by the tool's own rule against a real dataset at the
recipe's dataset path.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from pretty_printer.dataset.atomic import _refuse_inside_dataset

MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"


def _demo_commands() -> list[list[str]]:
    text = MAKEFILE.read_text()
    variables = dict(re.findall(r"^(\w+)\s*[:?]?=\s*(.*?)\s*$", text, flags=re.M))
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", text, flags=re.M).group(1)
    commands = []
    for line in recipe.splitlines():
        if line.strip().startswith("@echo"):  # the closing line saying where the outputs are
            continue
        line = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), line.strip())
        commands.append(shlex.split(line))
    return commands


def test_demo_writes_its_submission_outside_its_dataset(tiny_dataset, tmp_path):
    commands = [c for c in _demo_commands() if len(c) > 1 and c[1] in ("generate", "reconstruct", "score")]
    assert [c[1] for c in commands] == ["generate", "reconstruct", "score"]
    generate, reconstruct, score = commands
    dataset = generate[generate.index("--out") + 1]
    assert reconstruct[2] == dataset and score[2] == dataset
    sub = reconstruct[reconstruct.index("--out") + 1]
    assert score[3] == sub  # scores the submission it just wrote
    (tmp_path / dataset).parent.mkdir(parents=True)
    (tmp_path / dataset).symlink_to(tiny_dataset)  # a real dataset where the recipe generates one
    _refuse_inside_dataset(tmp_path / sub)  # raises DatasetError if the submission lands inside it
