"""Export a Circuit to NeuroML2 (libNeuroML), so other simulators can run it.

The document holds the cell models (single-compartment cells with Hodgkin-Huxley channels in
NeuroML's standard rate forms), one double-exponential synapse per receptor, one population per
cell (named ``cell_<id>``), a projection per connection, and pulse generators for the bias
currents and for the encoded inputs of one chosen sample.

The Wang-Buzsaki Na activation is instantaneous (``m = m_inf(V)``).  NeuroML's instantaneous
gate needs a standard form, so ``m_inf`` is written as the sigmoid that best fits the exact
``alpha / (alpha + beta)`` (max error well under 1% of its range; see :func:`_wb_minf_sigmoid`).
"""

from __future__ import annotations

import contextlib
import io

from functools import lru_cache
from pathlib import Path

import numpy as np
import neuroml
from neuroml.writers import NeuroMLWriter

from pretty_printer.circuit.cellmodels import RECEPTOR_KINETICS, CellModel, get_cell_model
from pretty_printer.circuit.description import Circuit
from pretty_printer.errors import ConfigError


def _rate(kind: str, rate: float, midpoint: float, scale: float) -> neuroml.HHRate:
    return neuroml.HHRate(type=kind, rate=f"{rate:g}per_ms", midpoint=f"{midpoint:g}mV",
                          scale=f"{scale:g}mV")


@lru_cache(maxsize=1)
def _wb_minf_sigmoid() -> tuple[float, float]:
    """(midpoint_mV, scale_mV) of the logistic that best fits the Wang-Buzsaki m_inf."""
    from scipy.optimize import curve_fit
    from scipy.special import exprel

    v = np.linspace(-100.0, 40.0, 701)
    am = 1.0 / exprel(-(v + 35.0) / 10.0)  # = 0.1 x / (exp(x/10) - 1), x = -(v + 35), no 0/0
    bm = 4.0 * np.exp(-(v + 60.0) / 18.0)
    minf = am / (am + bm)
    (mid, sc), _ = curve_fit(lambda v, m, s: 1 / (1 + np.exp(-(v - m) / s)), v, minf, p0=(-35, 8))
    return float(mid), float(sc)


def _channels(model: CellModel, q10: neuroml.Q10Settings | None) -> list[neuroml.IonChannelHH]:
    """Na, K and leak channels of a model in NeuroML standard rate forms (rates per ms)."""
    if model.mechanism == "hh":
        m = (_rate("HHExpLinearRate", 1.0, -40, 10), _rate("HHExpRate", 4.0, -65, -18))
        h = (_rate("HHExpRate", 0.07, -65, -20), _rate("HHSigmoidRate", 1.0, -35, 10))
        n = (_rate("HHExpLinearRate", 0.1, -55, 10), _rate("HHExpRate", 0.125, -65, -80))
        na_m = neuroml.GateHHRates(id="m", instances=3, forward_rate=m[0], reverse_rate=m[1],
                                   q10_settings=q10)
    elif model.mechanism == "wb":
        phi = 5.0
        h = (_rate("HHExpRate", 0.07 * phi, -58, -20), _rate("HHSigmoidRate", 1.0 * phi, -28, 10))
        n = (_rate("HHExpLinearRate", 0.1 * phi, -34, 10),
             _rate("HHExpRate", 0.125 * phi, -44, -80))
        mid, sc = _wb_minf_sigmoid()
        na_m = neuroml.GateHHInstantaneous(
            id="m", instances=3, steady_state=neuroml.HHVariable(
                type="HHSigmoidVariable", rate="1", midpoint=f"{mid:.4f}mV", scale=f"{sc:.4f}mV"))
    else:
        raise ConfigError(f"cell model {model.name!r}: no NeuroML channel definitions for "
                          f"mechanism {model.mechanism!r}")
    gh = neuroml.GateHHRates(id="h", instances=1, forward_rate=h[0], reverse_rate=h[1],
                             q10_settings=q10)
    gn = neuroml.GateHHRates(id="n", instances=4, forward_rate=n[0], reverse_rate=n[1],
                             q10_settings=q10)
    na = neuroml.IonChannelHH(id=f"na_{model.name}", conductance="10pS", species="na")
    if isinstance(na_m, neuroml.GateHHInstantaneous):
        na.gate_hh_instantaneouses.append(na_m)
    else:
        na.gate_hh_rates.append(na_m)
    na.gate_hh_rates.append(gh)
    k = neuroml.IonChannelHH(id=f"k_{model.name}", conductance="10pS", species="k",
                             gate_hh_rates=[gn])
    leak = neuroml.IonChannelHH(id=f"leak_{model.name}", conductance="10pS",
                                type="ionChannelPassive")
    return [na, k, leak]


def _cell(model: CellModel, area_um2: float) -> neuroml.Cell:
    d = float(np.sqrt(area_um2 / np.pi))  # lateral area of a d x d cylinder = area
    seg = neuroml.Segment(id=0, name="soma",
                          proximal=neuroml.Point3DWithDiam(x=0, y=0, z=0, diameter=d),
                          distal=neuroml.Point3DWithDiam(x=0, y=d, z=0, diameter=d))
    morph = neuroml.Morphology(id=f"morph_{model.name}", segments=[seg])
    dens = [
        neuroml.ChannelDensity(id=f"na_{model.name}", ion_channel=f"na_{model.name}", ion="na",
                               cond_density=f"{model.g_na_mS_cm2:g}mS_per_cm2",
                               erev=f"{model.e_na_mV:g}mV"),
        neuroml.ChannelDensity(id=f"k_{model.name}", ion_channel=f"k_{model.name}", ion="k",
                               cond_density=f"{model.g_k_mS_cm2:g}mS_per_cm2",
                               erev=f"{model.e_k_mV:g}mV"),
        neuroml.ChannelDensity(id=f"leak_{model.name}", ion_channel=f"leak_{model.name}",
                               ion="non_specific", cond_density=f"{model.g_leak_mS_cm2:g}mS_per_cm2",
                               erev=f"{model.e_leak_mV:g}mV"),
    ]
    mem = neuroml.MembraneProperties(
        channel_densities=dens,
        spike_threshes=[neuroml.SpikeThresh(value="0mV")],
        specific_capacitances=[neuroml.SpecificCapacitance(value=f"{model.cm_uF_cm2:g}uF_per_cm2")],
        init_memb_potentials=[neuroml.InitMembPotential(value="-65mV")])
    intra = neuroml.IntracellularProperties(resistivities=[neuroml.Resistivity(value="100ohm_cm")])
    bio = neuroml.BiophysicalProperties(id=f"bio_{model.name}", membrane_properties=mem,
                                        intracellular_properties=intra)
    return neuroml.Cell(id=f"cell_{model.name}", morphology=morph, biophysical_properties=bio)


def circuit_to_neuroml(circuit: Circuit, x: np.ndarray | None = None) -> neuroml.NeuroMLDocument:
    """Build a NeuroML2 document for a circuit.

    Parameters
    ----------
    circuit : Circuit
    x : ndarray, optional
        One input sample, (n_in,) or (n_steps, n_in) for temporal tasks, turned into pulse
        generators on the input cells (one per bin).  Without it only the biases are written.
    """
    doc = neuroml.NeuroMLDocument(id=f"circuit_{circuit.task}")
    models = {c.model: get_cell_model(c.model) for c in circuit.cells}
    for name, model in sorted(models.items()):
        q10 = (neuroml.Q10Settings(type="q10ExpTemp", q10_factor="3", experimental_temp="6.3 degC")
               if model.mechanism == "hh" else None)
        doc.ion_channel_hhs.extend(_channels(model, q10))
        doc.cells.append(_cell(model, circuit.soma_area_um2))
    receptors = sorted({c.receptor for c in circuit.connections})
    for r in receptors:
        kin = RECEPTOR_KINETICS[r]
        doc.exp_two_synapses.append(neuroml.ExpTwoSynapse(
            id=f"syn_{r}", gbase="1nS", erev=f"{kin.e_rev_mV:g}mV",
            tau_rise=f"{kin.tau_rise_ms:g}ms", tau_decay=f"{kin.tau_decay_ms:g}ms"))
    net = neuroml.Network(id=f"net_{circuit.task}", type="networkWithTemperature",
                          temperature=f"{circuit.temperature_C:g} degC")
    doc.networks.append(net)
    for c in circuit.cells:
        net.populations.append(neuroml.Population(id=f"cell_{c.id}", component=f"cell_{c.model}",
                                                  size=1))
    for k, con in enumerate(circuit.connections):
        proj = neuroml.Projection(id=f"proj_{k}", presynaptic_population=f"cell_{con.pre}",
                                  postsynaptic_population=f"cell_{con.post}",
                                  synapse=f"syn_{con.receptor}")
        proj.connection_wds.append(neuroml.ConnectionWD(
            id=0, pre_cell_id=f"../cell_{con.pre}/0/cell_{circuit.cell(con.pre).model}",
            post_cell_id=f"../cell_{con.post}/0/cell_{circuit.cell(con.post).model}",
            weight=f"{con.weight_uS * 1e3:.6g}", delay=f"{con.delay_ms:g}ms"))
        net.projections.append(proj)
    _inputs(doc, net, circuit, x)
    return doc


def _inputs(doc, net, circuit: Circuit, x) -> None:
    bin_ms = circuit.readout.bin_ms
    xs = None if x is None else np.atleast_2d(np.asarray(x, float))
    n_steps = 1 if xs is None else xs.shape[0]
    total_ms = n_steps * bin_ms

    def pulse(pid, target, delay, dur, amp):
        doc.pulse_generators.append(neuroml.PulseGenerator(
            id=pid, delay=f"{delay:g}ms", duration=f"{dur:g}ms", amplitude=f"{amp:.6g}nA"))
        net.explicit_inputs.append(neuroml.ExplicitInput(target=f"cell_{target}[0]", input=pid))

    for c in circuit.cells:
        if c.bias_nA != 0.0:
            pulse(f"bias_{c.id}", c.id, 0.0, total_ms, c.bias_nA)
    if xs is None:
        return
    ids = {c.id for c in circuit.cells}
    enc = circuit.encoding
    for k, cid in enumerate(circuit.input_cells):
        if cid not in ids:
            continue
        for t in range(n_steps):
            amp = enc.offset_nA + enc.scale_nA * xs[t, k]
            pulse(f"input_{k}_bin{t}", cid, t * bin_ms, bin_ms, amp)


def write_neuroml(circuit: Circuit, path: str | Path, x: np.ndarray | None = None) -> Path:
    """Write ``circuit`` as a NeuroML2 file (``.net.nml``) and validate it against the schema."""
    from neuroml.utils import validate_neuroml2

    path = Path(path)
    NeuroMLWriter.write(circuit_to_neuroml(circuit, x), str(path))
    with contextlib.redirect_stdout(io.StringIO()):  # the validator prints "It's valid!"
        validate_neuroml2(str(path))
    return path
