"""
f-I curves and the compiled circuit
===================================

Each ANN unit becomes a Hodgkin-Huxley neuron.  The bridge between the two is the f-I curve:
the steady firing rate of the neuron model for a constant injected current, measured in NEURON.
The ANN was trained with that curve as its activation, so when every weight becomes a synaptic
conductance the spiking circuit computes what the ANN computed.  Left: f-I curves of the classic
Hodgkin-Huxley squid axon (type II: it jumps to a high rate at threshold) and of the
Wang-Buzsaki interneuron (type I: rates start near zero).  Right: the compiled XOR circuit,
its cells numbered with the ids they carry in a dataset (the truth cell ids, also the label values
of the volumes and the numbers ``pretty-printer show`` prints).

The dotted line is the repetitive-firing threshold measured finer than the f-I grid
(:func:`pretty_printer.sim.fi.fi_threshold` re-measures the grid step where firing starts); the
grid alone only says "between two grid currents".
"""

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pretty_printer.circuit.compiler import compile_task
from pretty_printer.dataset.generate import renumber_cells
from pretty_printer.sim.fi import fi_curve, fi_threshold
from pretty_printer.viz.show import draw_circuit

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

# %%
# Measured (and cached) f-I curves.
curves = {name: fi_curve(name) for name in ("hh", "wang_buzsaki")}
thresholds = {name: fi_threshold(name) for name in curves}  # (threshold, resolution) in uA/cm^2

# %%
# Train the XOR ANN and compile it into Wang-Buzsaki cells; the compiler checks the circuit in
# NEURON on the held-out inputs.
result = compile_task("xor", cell="wang_buzsaki", seed=0)

fig, axes = plt.subplots(1, 3, figsize=(16, 4.2), gridspec_kw={"width_ratios": [1, 1, 1.6]})
for ax, (name, fi) in zip(axes[:2], curves.items()):
    ax.plot(fi.current_uA_cm2, fi.rate_Hz, "o-", ms=3)
    th, res = thresholds[name]
    ax.axvline(th, color="grey", ls=":", label=f"threshold {th:.2f} uA/cm^2 (to {res:.1g})")
    ax.set(title=f"f-I curve: {name}", xlabel="injected current (uA/cm^2)", ylabel="rate (Hz)")
    ax.legend(fontsize=8)
# the dataset numbers cells from 1 (label 0 is extracellular space): use the same ids here
draw_circuit(renumber_cells(result.circuit), axes[2], title=(
    f"XOR circuit: ANN accuracy {result.ann_accuracy:.2f}, HH circuit {result.circuit_accuracy:.2f}, "
    f"rate correlation {result.rate_correlation:.2f}"))
for name, (th, res) in thresholds.items():
    print(f"{name}: repetitive-firing threshold {th:.3f} uA/cm^2 (resolution {res:.3g}; "
          f"f-I grid alone: {curves[name].threshold_uA_cm2:g})")
fig.tight_layout()
fig.savefig(OUT / "plot_fi_curves_and_circuit.png")
