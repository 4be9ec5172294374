"""Export a Circuit to NeuroML2 plus a LEMS simulation, so jNeuroML and NEURON's exporter run it.

The NeuroML document holds, per circuit cell, a single-compartment cell (``cell_<id>``) with
the cell model's channels at the cell's densities (plus any tonic conductances the circuit
gives it), one double-exponential synapse per receptor, and a network in which every cell is a
population (``pop_<id>``, a ``populationList``) with one instance per *copy* of the circuit.
Copy ``k`` is driven by input sample ``k``: static samples run as independent copies side by
side, exactly as :func:`pretty_printer.sim.neuron_backend.simulate` runs them.

Channel kinetics are exact.  Hodgkin-Huxley rates are NeuroML's standard forms; the
Wang-Buzsaki Na activation is instantaneous, ``m = alpha_m / (alpha_m + beta_m)``, which no
standard form expresses, so the document carries a LEMS ``ComponentType`` (``wb_m_inf``) with
that exact expression (equations from ``sim/mechanisms/wb.mod``; Wang & Buzsaki 1996,
J Neurosci 16:6402).  Gates are written as ``<gate type=...>`` so one channel may hold an
instantaneous and a rate gate and still satisfy the NeuroML v2.3 schema.

:func:`write_lems_simulation` writes ``LEMS_<name>.xml``, which jNeuroML and pyNeuroML's NEURON
export both run: it includes the network file, runs for the stimulus duration at
:data:`LEMS_DT_MS` and records every output cell's spikes per copy (``ID_TIME`` event file whose
ids are ``copy * n_outputs + output index``), which :func:`read_lems_output_rates` turns into
output rates over the readout window.

Why not NEURON's dt: both outside simulators integrate every gate and synapse by forward Euler
(jNeuroML natively; pyNeuroML's NEURON export writes ``q' = rate_q`` with ``rate_q`` an ASSIGNED
variable, which nocmodl's ``cnexp`` cannot solve exactly and so steps by Euler), while our
mechanisms and ``Exp2Syn`` are integrated exactly over each step.  At the backend's 0.025 ms
the exported Wang-Buzsaki cell fires 7 % slower than ours (113 against 121 Hz at 2.5 uA/cm2),
which moved the seed-7 tiny XOR export to 0.96 against 1.00.  At 0.005 ms it fires 118 Hz; both
converge to 119 Hz at 0.001 ms, so what is left is mostly the backend's own 0.025 ms error
(measured here with both mechanisms in one NEURON process).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from pretty_printer.circuit.cellmodels import RECEPTOR_KINETICS, CellModel, get_cell_model
from pretty_printer.circuit.description import Circuit
from pretty_printer.errors import ConfigError

NML_NS = "http://www.neuroml.org/schema/neuroml2"
NML_SCHEMA = "https://raw.githubusercontent.com/NeuroML/NeuroML2/development/Schemas/NeuroML2/NeuroML_v2.3.xsd"
LEMS_DT_MS = 0.005  # outside simulators' forward Euler matches our exact-per-step 0.025 ms only at
# dt <= 0.005 ms (measured here on HH and Wang-Buzsaki cells; see the module docstring)
SPIKE_THRESHOLD_MV = 0.0  # as pretty_printer.sim.neuron_backend
V_INIT_MV = -65.0
RA_OHM_CM = 100.0  # as pretty_printer.sim.neuron_backend.MorphSimConfig (irrelevant for point cells)

# Wang-Buzsaki m_inf = am / (am + bm), am = 0.1 (V+35) / (1 - exp(-(V+35)/10)) (limit 1 at
# V = -35), bm = 4 exp(-(V+60)/18); V in mV.  Same expression as wb.mod's `rates`.
_WB_MINF = {
    "name": "wb_m_inf", "extends": "baseVoltageDepVariable",
    "description": "Wang-Buzsaki (1996) instantaneous Na activation am/(am+bm), exact",
}


def _el(parent, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})


def _wb_minf_type(doc: ET.Element) -> None:
    ct = _el(doc, "ComponentType", **_WB_MINF)
    _el(ct, "Constant", name="MV", dimension="voltage", value="1mV")
    dyn = _el(ct, "Dynamics")
    _el(dyn, "DerivedVariable", name="V", dimension="none", value="v / MV")
    _el(dyn, "DerivedVariable", name="y", dimension="none", value="(V + 35) / 10")
    _el(dyn, "DerivedVariable", name="bm", dimension="none", value="4 * exp(-(V + 60) / 18)")
    # (the schema wants DerivedVariables before ConditionalDerivedVariables: am is inlined)
    x = _el(dyn, "ConditionalDerivedVariable", name="x", exposure="x", dimension="none")
    _el(x, "Case", condition="y .neq. 0", value="(y / (1 - exp(-y))) / (y / (1 - exp(-y)) + bm)")
    _el(x, "Case", value="1 / (1 + bm)")


def _rate(gate, tag: str, kind: str, rate: float, midpoint: float, scale: float) -> None:
    _el(gate, tag, type=kind, rate=f"{rate:g}per_ms", midpoint=f"{midpoint:g}mV", scale=f"{scale:g}mV")


def _gate(ch, gid: str, instances: int, fwd, rev, q10: bool) -> None:
    g = _el(ch, "gate", id=gid, type="gateHHrates", instances=instances)
    if q10:
        _el(g, "q10Settings", type="q10ExpTemp", q10Factor="3", experimentalTemp="6.3 degC")
    _rate(g, "forwardRate", *fwd)
    _rate(g, "reverseRate", *rev)


def _channels(doc: ET.Element, model: CellModel) -> None:
    """Na, K and leak channels of a model, exact (rates per ms, V in mV)."""
    na = _el(doc, "ionChannelHH", id=f"na_{model.name}", conductance="10pS", species="na")
    k = None
    if model.mechanism == "hh":  # NEURON's hh.mod, Q10 = 3 from 6.3 degC
        _gate(na, "m", 3, ("HHExpLinearRate", 1.0, -40, 10), ("HHExpRate", 4.0, -65, -18), True)
        _gate(na, "h", 1, ("HHExpRate", 0.07, -65, -20), ("HHSigmoidRate", 1.0, -35, 10), True)
        k = _el(doc, "ionChannelHH", id=f"k_{model.name}", conductance="10pS", species="k")
        _gate(k, "n", 4, ("HHExpLinearRate", 0.1, -55, 10), ("HHExpRate", 0.125, -65, -80), True)
    elif model.mechanism == "wb":  # sim/mechanisms/wb.mod: h and n rates scaled by phi = 5
        phi = 5.0
        m = _el(na, "gate", id="m", type="gateHHInstantaneous", instances=3)
        _el(m, "steadyState", type=_WB_MINF["name"])
        _gate(na, "h", 1, ("HHExpRate", 0.07 * phi, -58, -20), ("HHSigmoidRate", 1.0 * phi, -28, 10),
              False)
        k = _el(doc, "ionChannelHH", id=f"k_{model.name}", conductance="10pS", species="k")
        _gate(k, "n", 4, ("HHExpLinearRate", 0.1 * phi, -34, 10),
              ("HHExpRate", 0.125 * phi, -44, -80), False)
    else:
        raise ConfigError(f"cell model {model.name!r}: no NeuroML channel definitions for "
                          f"mechanism {model.mechanism!r}")
    _el(doc, "ionChannelHH", id=f"leak_{model.name}", conductance="10pS", type="ionChannelPassive")


def cell_densities(cell, model: CellModel, g=None) -> list[tuple[str, str, str, float, float]]:
    """(density id, channel id, ion, mS/cm2, erev mV) of one circuit cell's membrane.

    Reads the cell model's Na, K and leak densities (or ``g`` = (g_na, g_k, g_leak) of a grown
    section) and, generically, any tonic conductance the circuit declares on the cell (see
    :func:`tonic_channels`).
    """
    g_na, g_k, g_leak = g if g is not None else (model.g_na_mS_cm2, model.g_k_mS_cm2, model.g_leak_mS_cm2)
    out = [("na", f"na_{model.name}", "na", g_na, model.e_na_mV),
           ("k", f"k_{model.name}", "k", g_k, model.e_k_mV),
           ("leak", f"leak_{model.name}", "non_specific", g_leak, model.e_leak_mV)]
    return out + _tonic_densities(cell) if g is None else out


def _tonic_densities(cell) -> list:
    return [(name, "tonic_passive", "non_specific", g, erev) for name, g, erev in tonic_channels(cell)]


def tonic_channels(cell) -> list[tuple[str, float, float]]:
    """(name, mS/cm2, erev mV) of a cell's tonic conductances (any field ``g_<name>_mS_cm2``).

    Reversal potentials come from the channel species the circuit's excitability declares
    (``pretty_printer.circuit.excitability.CHANNEL_SPECIES``); a density without a known
    species is an error rather than a silently dropped current.
    """
    try:
        from pretty_printer.circuit.excitability import CHANNEL_SPECIES
    except ImportError:  # circuits without tonic channels
        CHANNEL_SPECIES = {}
    species = {s.column: s for s in CHANNEL_SPECIES.values()}
    out = []
    for key, val in sorted(vars(cell).items()):
        if key.startswith("g_") and key.endswith("_mS_cm2") and val:
            if key not in species:
                raise ConfigError(f"cell {cell.id}: tonic conductance {key!r} has no known reversal potential")
            out.append((species[key].name, float(val), float(species[key].e_rev_mV)))
    return out


def _cell(doc: ET.Element, cell, model: CellModel, area_um2: float, cell_morph=None):
    """A point cell of ``area_um2`` (as the NEURON backend builds it), or the grown ``cell_morph``."""
    if cell_morph is not None:
        from pretty_printer.export.neuroml_grown import grown_cell
        from pretty_printer.sim.neuron_backend import MorphSimConfig, nseg_d_lambda

        cfg = MorphSimConfig()  # the discretisation simulate_morphological uses by default
        idx, mem, bio = grown_cell(doc, cell, cell_morph, lambda sec: cell_densities(
            cell, model, (sec.g_na_mS_cm2, sec.g_k_mS_cm2, sec.g_leak_mS_cm2)), _tonic_densities(cell),
            nseg=lambda sec: nseg_d_lambda(sec.length_um, float(np.mean(sec.diam_um)), model.cm_uF_cm2, cfg))
    else:
        idx = None
        c = _el(doc, "cell", id=f"cell_{cell.id}")
        d = float(np.sqrt(area_um2 / np.pi))  # lateral area of a d x d cylinder = area (as NEURON)
        seg = _el(_el(c, "morphology", id=f"morph_{cell.id}"), "segment", id=0, name="soma")
        _el(seg, "proximal", x=0, y=0, z=0, diameter=f"{d:.10g}")
        _el(seg, "distal", x=0, y=f"{d:.10g}", z=0, diameter=f"{d:.10g}")
        bio = _el(c, "biophysicalProperties", id=f"bio_{cell.id}")
        mem = _el(bio, "membraneProperties")
        for did, chan, ion, g, erev in cell_densities(cell, model):
            _el(mem, "channelDensity", id=f"{did}_{cell.id}", ionChannel=chan, condDensity=f"{g:.10g}mS_per_cm2",
                erev=f"{erev:.10g}mV", ion=ion)
    _el(mem, "spikeThresh", value=f"{SPIKE_THRESHOLD_MV:g}mV")
    _el(mem, "specificCapacitance", value=f"{model.cm_uF_cm2:g}uF_per_cm2")
    _el(mem, "initMembPotential", value=f"{V_INIT_MV:g}mV")
    _el(_el(bio, "intracellularProperties"), "resistivity", value=f"{RA_OHM_CM:g}ohm_cm")
    return idx


def as_trials(X, n_in: int) -> np.ndarray:
    """Inputs as (n_copies, n_steps, n_in): (n_in,) one sample, (n, n_in) static, 3-D sequences."""
    X = np.asarray(X, float)
    X = X[None, None] if X.ndim == 1 else (X[:, None] if X.ndim == 2 else X)
    if X.ndim != 3 or X.shape[-1] != n_in:
        raise ConfigError(f"X: expected (n_in,), (n, n_in) or (n_seq, n_steps, n_in) with n_in = {n_in}, "
                          f"got shape {np.shape(X)}")
    return X


def circuit_to_neuroml(circuit: Circuit, X=None, *, morphology=None, input_gain=None) -> ET.ElementTree:
    """The NeuroML2 document of ``circuit`` with one copy per input sample.

    Parameters
    ----------
    circuit : Circuit
    X : ndarray, optional
        (n_in,), (n_samples, n_in) static samples or (n_seq, n_steps, n_in) sequences (see
        :func:`as_trials`).  Without it the network holds one undriven copy (biases only).
    morphology : pretty_printer.sim.morphology.Morphology, optional
        Grown cells: each cell becomes its multi-compartment morphology with per-section
        densities, and each connection's synapses sit at their grown sites (conductance share,
        conduction delay), as in :func:`~pretty_printer.sim.neuron_backend.simulate_morphological`.
        ``circuit`` must then be the recalibrated one (``truth/circuit_morphology.json``).
    input_gain : dict, optional
        Input cell id -> factor on its encoded current (the recalibration's ``input_gain``).
    """
    trials = None if X is None else as_trials(X, len(circuit.input_cells))
    doc = ET.Element("neuroml", {"xmlns": NML_NS, "id": f"circuit_{circuit.task}",
                                 "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                                 "xsi:schemaLocation": f"{NML_NS} {NML_SCHEMA}"})
    models = {c.model: get_cell_model(c.model) for c in circuit.cells}
    # element order follows the schema's NeuroMLDocument sequence
    for name, model in sorted(models.items()):
        _channels(doc, model)
    if any(tonic_channels(c) for c in circuit.cells):
        _el(doc, "ionChannelHH", id="tonic_passive", conductance="10pS", type="ionChannelPassive")
    for r in sorted({c.receptor for c in circuit.connections}):
        kin = RECEPTOR_KINETICS[r]
        _el(doc, "expTwoSynapse", id=f"syn_{r}", gbase="1nS", erev=f"{kin.e_rev_mV:g}mV",
            tauRise=f"{kin.tau_rise_ms:g}ms", tauDecay=f"{kin.tau_decay_ms:g}ms")
    segs = {c.id: _cell(doc, c, models[c.model], circuit.soma_area_um2,
                        None if morphology is None else morphology.cell(c.id)) for c in circuit.cells}
    n_copies = 1 if trials is None else trials.shape[0]
    n_steps = 1 if trials is None else trials.shape[1]
    _pulses(doc, circuit, trials, n_steps * circuit.readout.bin_ms)
    _network(doc, circuit, trials, n_copies, morphology, segs, input_gain or {})
    if any(m.mechanism == "wb" for m in models.values()):
        _wb_minf_type(doc)
    ET.indent(doc)
    return ET.ElementTree(doc)


def _pulses(doc, circuit: Circuit, trials, total_ms: float) -> None:
    """Unit (1 nA) pulse generators: ``tonic`` for the biases, ``bin_<t>`` per stimulus bin.

    Each cell scales them by its own input weight (``inputW``), so the document holds one
    component per bin however many copies it drives (NEURON's exporter makes a mechanism of
    each component).
    """
    if any(c.bias_nA != 0.0 for c in circuit.cells):
        _el(doc, "pulseGenerator", id="tonic", delay="0ms", duration=f"{total_ms:g}ms", amplitude="1nA")
    if trials is None:
        return
    bin_ms = circuit.readout.bin_ms
    for t in range(trials.shape[1]):
        _el(doc, "pulseGenerator", id=f"bin_{t}", delay=f"{t * bin_ms:g}ms", duration=f"{bin_ms:g}ms",
            amplitude="1nA")


def _ref(cid: int, copy: int) -> str:
    return f"../pop_{cid}/{copy}/cell_{cid}"


def _network(doc, circuit: Circuit, trials, n_copies: int, morphology, segs: dict, gain: dict) -> None:
    net = _el(doc, "network", id=f"net_{circuit.task}", type="networkWithTemperature",
              temperature=f"{circuit.temperature_C:g} degC")
    ids = {c.id for c in circuit.cells}
    for c in circuit.cells:
        pop = _el(net, "population", id=f"pop_{c.id}", component=f"cell_{c.id}", size=n_copies,
                  type="populationList")
        for s in range(n_copies):
            _el(_el(pop, "instance", id=s), "location", x=f"{20.0 * s:g}", y="0", z=f"{20.0 * c.id:g}")
    conns = [k for k in circuit.connections if k.pre in ids and k.post in ids and k.weight_uS > 0]
    for j, con in enumerate(conns):
        proj = _el(net, "projection", id=f"proj_{j}_{con.pre}_{con.post}",
                   presynapticPopulation=f"pop_{con.pre}", postsynapticPopulation=f"pop_{con.post}",
                   synapse=f"syn_{con.receptor}")
        n = 0
        for site in _sites(con, morphology, segs[con.post]):
            delay = max(con.delay_ms + site[3], circuit.dt_ms)  # as the NEURON backend's NetCon delay
            for s in range(n_copies):
                _el(proj, "connectionWD", id=n, preCellId=_ref(con.pre, s), postCellId=_ref(con.post, s),
                    postSegmentId=site[0], postFractionAlong=f"{site[1]:.6g}",
                    weight=f"{con.weight_uS * site[2] * 1e3:.10g}", delay=f"{delay:.10g}ms")
                n += 1
    _inputs(net, circuit, trials, n_copies, ids, gain)


def _sites(con, morphology, seg_index) -> list[tuple[int, float, float, float]]:
    """(post segment, fraction along, conductance share, extra delay ms) of each synapse of ``con``."""
    if morphology is None:
        return [(0, 0.5, 1.0, 0.0)]
    out = []
    for site in morphology.sites_of(con.pre, con.post):
        seg, frac = seg_index.locate(site.section, site.x)
        out.append((seg, frac, site.share, site.delay_ms))
    return out


def _inputs(net, circuit: Circuit, trials, n_copies: int, ids, gain: dict) -> None:
    """Bias and encoded inputs as weighted unit pulses at each cell's soma (segment 0)."""
    for c in circuit.cells:
        if c.bias_nA != 0.0:
            il = _el(net, "inputList", id=f"bias_{c.id}", population=f"pop_{c.id}", component="tonic")
            for s in range(n_copies):
                _el(il, "inputW", id=s, target=_ref(c.id, s), destination="synapses",
                    weight=f"{c.bias_nA:.9g}")
    if trials is None:
        return
    enc = circuit.encoding
    for k, cid in enumerate(circuit.input_cells):
        if cid not in ids:
            continue
        g = float(gain.get(int(cid), 1.0))
        for t in range(trials.shape[1]):  # input k of copy s in bin t: gain (offset + scale x[s, t, k]) nA
            il = _el(net, "inputList", id=f"input_{k}_bin_{t}", population=f"pop_{cid}", component=f"bin_{t}")
            for s in range(trials.shape[0]):
                _el(il, "inputW", id=s, target=_ref(cid, s), destination="synapses",
                    weight=f"{g * (enc.offset_nA + enc.scale_nA * trials[s, t, k]):.9g}")


def write_neuroml(circuit: Circuit, path: str | Path, X=None, **grown) -> Path:
    """Write ``circuit`` (one copy per sample of ``X``, see :func:`circuit_to_neuroml`) as NeuroML2."""
    path = Path(path)
    circuit_to_neuroml(circuit, X, **grown).write(path, encoding="UTF-8", xml_declaration=True)
    return path


def write_lems_simulation(circuit: Circuit, X, out_dir: str | Path, name: str = "heldout", *,
                          dt_ms: float = LEMS_DT_MS, **grown) -> Path:
    """Write ``<name>.net.nml`` (the circuit driven by ``X``) and its LEMS simulation into ``out_dir``.

    ``LEMS_<name>.xml`` (for ``jnml`` and ``pynml ... -neuron``) steps at ``dt_ms`` (default
    :data:`LEMS_DT_MS`: the outside simulators' forward Euler needs it to compute what the NEURON
    backend computes at ``circuit.dt_ms``; see the module docstring), runs for
    ``n_steps * readout.bin_ms`` and writes ``<name>.spikes`` (ID_TIME): id
    ``copy * n_outputs + j`` is output cell ``circuit.output_cells[j]`` of copy ``copy``.
    ``grown`` (``morphology=``, ``input_gain=``) exports the grown cells (see
    :func:`circuit_to_neuroml`).  Returns the path of ``LEMS_<name>.xml``.

    Raises
    ------
    ConfigError
        ``dt_ms`` not positive, or ``X`` of the wrong shape (see :func:`as_trials`).
    """
    if not dt_ms > 0:
        raise ConfigError(f"dt_ms: expected > 0, got {dt_ms!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trials = as_trials(X, len(circuit.input_cells))
    net_file = write_neuroml(circuit, out / f"{name}.net.nml", trials, **grown)
    lems = _lems(circuit, trials, name, net_file.name, dt_ms)
    ET.ElementTree(lems).write(out / f"LEMS_{name}.xml", encoding="UTF-8", xml_declaration=True)
    return out / f"LEMS_{name}.xml"


def _lems(circuit: Circuit, trials, name: str, net_file: str, dt_ms: float) -> ET.Element:
    lems = ET.Element("Lems")
    _el(lems, "Target", component=f"sim_{name}")
    for inc in ("Cells.xml", "Networks.xml", "Simulation.xml"):
        _el(lems, "Include", file=inc)
    _el(lems, "Include", file=net_file)
    tstop = trials.shape[1] * circuit.readout.bin_ms
    sim = _el(lems, "Simulation", id=f"sim_{name}", length=f"{tstop:g}ms", step=f"{dt_ms:g}ms",
              target=f"net_{circuit.task}", seed="0")
    ev = _el(sim, "EventOutputFile", id="spikes", fileName=f"{name}.spikes", format="ID_TIME")
    n_out = len(circuit.output_cells)
    ids = {c.id for c in circuit.cells}
    for s in range(trials.shape[0]):
        for j, cid in enumerate(circuit.output_cells):
            if cid in ids:
                _el(ev, "EventSelection", id=s * n_out + j, select=f"pop_{cid}/{s}/cell_{cid}",
                    eventPort="spike")
    ET.indent(lems)
    return lems


def write_grown_neuroml(truth_dir: str | Path, phantom, X) -> Path:
    """``truth/neuroml/LEMS_grown.xml`` + ``grown.net.nml``: the grown, recalibrated circuit on ``X``."""
    from pretty_printer.sim.morphology import morphology_from_phantom
    from pretty_printer.sim.morphology_calibration import Recalibration

    rec = Recalibration.load(Path(truth_dir) / "circuit_morphology.json")
    return write_lems_simulation(rec.circuit, X, Path(truth_dir) / "neuroml", "grown",
                                 morphology=morphology_from_phantom(phantom), input_gain=rec.input_gain)


def read_lems_output_rates(circuit: Circuit, spikes_file: str | Path, n_copies: int,
                           n_steps: int = 1) -> np.ndarray:
    """Output rates (Hz), (n_copies, n_steps, n_outputs), from a ``write_lems_simulation`` run.

    Spike times in the file are in seconds (jNeuroML's and its NEURON export's convention);
    rates count spikes in the last ``readout.window_ms`` of each bin, as the NEURON backend does.
    """
    bin_ms, window_ms = circuit.readout.bin_ms, circuit.readout.window_ms
    n_out = len(circuit.output_cells)
    counts = np.zeros((n_copies, n_steps, n_out))
    text = Path(spikes_file).read_text().split()
    data = np.asarray(text, float).reshape(-1, 2) if text else np.zeros((0, 2))
    for gid, t_s in data:
        t = t_s * 1e3
        step = int(np.floor(t / bin_ms))
        if step < n_steps and t - step * bin_ms >= bin_ms - window_ms:
            counts[int(gid) // n_out, step, int(gid) % n_out] += 1
    return counts * (1000.0 / window_ms)
