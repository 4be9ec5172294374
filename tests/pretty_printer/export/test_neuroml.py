"""NeuroML2 export judged by outside tools: the official schema (jNeuroML) and a run in NEURON
through pyNeuroML's exporter, which must compute the task as well as our own simulation does."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


JAVA = shutil.which("java")
PYNML = Path(sys.executable).with_name("pynml")
needs_jnml = pytest.mark.skipif(JAVA is None or not PYNML.exists(),
                                reason="jNeuroML needs Java and pyNeuroML (dev extra); not found here")


def _pynml(*args, cwd):
    env = dict(os.environ, NEURON_HOME=sys.prefix, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    return subprocess.run([str(PYNML), *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_wb_m_inf_component_is_the_exact_rate_ratio():
    """The LEMS expression written for the instantaneous Na gate equals wb.mod's am / (am + bm)."""
    import xml.etree.ElementTree as ET

    from pretty_printer.export.neuroml import _wb_minf_type

    doc = ET.Element("neuroml")
    _wb_minf_type(doc)
    cases = doc.find("ComponentType/Dynamics/ConditionalDerivedVariable").findall("Case")
    expr = re.sub(r"\bexp\b", "np.exp", cases[0].get("value"))
    V = np.linspace(-100, 40, 1401) + 1e-3  # avoid the removable point V = -35 exactly
    y, bm = (V + 35) / 10, 4 * np.exp(-(V + 60) / 18)
    am = 0.1 * (V + 35) / (1 - np.exp(-(V + 35) / 10))  # wb.mod: 0.1 * vtrap(-(v + 35), 10)
    np.testing.assert_allclose(eval(expr), am / (am + bm), rtol=1e-12)
    assert eval(re.sub(r"\bexp\b", "np.exp", cases[1].get("value")), {"np": np, "bm": 4 * np.exp(-25 / 18)}) \
        == pytest.approx(1.0 / (1.0 + 4 * np.exp(-25 / 18)))


@needs_jnml
def test_truth_neuroml_is_schema_valid(tiny_dataset):
    t = tiny_dataset / "truth"
    for f in (t / "circuit.net.nml", t / "neuroml" / "heldout.net.nml"):
        proc = _pynml(str(f), "-validate", cwd=f.parent)
        assert proc.returncode == 0 and "Valid against schema" in proc.stdout + proc.stderr, proc.stdout[-2000:]
