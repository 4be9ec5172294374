"""
f-I curves and the compiled circuit
===================================

Each ANN unit becomes a Hodgkin-Huxley neuron.  The bridge between the two is the f-I curve:
the steady firing rate of the neuron model for a constant injected current, measured in NEURON.
The ANN was trained with that curve as its activation, so when every weight becomes a synaptic
conductance the spiking circuit computes what the ANN computed.  Left: f-I curves of the classic
Hodgkin-Huxley squid axon (type II: it jumps to a high rate at threshold) and of the
Wang-Buzsaki interneuron (type I: rates start near zero).  Right: the compiled XOR circuit.
"""

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pretty_printer.sim.fi import fi_curve
from pretty_printer.circuit.compiler import compile_task
from pretty_printer.viz.show import draw_circuit

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

# %%
# Measured (and cached) f-I curves.
curves = {name: fi_curve(name) for name in ("hh", "wang_buzsaki")}

# %%
# Train the XOR ANN and compile it into Wang-Buzsaki cells; the compiler checks the circuit in
# NEURON on the held-out inputs.
result = compile_task("xor", cell="wang_buzsaki", seed=0)

fig, axes = plt.subplots(1, 3, figsize=(16, 4.2), gridspec_kw={"width_ratios": [1, 1, 1.6]})
for ax, (name, fi) in zip(axes[:2], curves.items()):
    ax.plot(fi.current_uA_cm2, fi.rate_Hz, "o-", ms=3)
    ax.axvline(fi.threshold_uA_cm2, color="grey", ls=":", label=f"threshold {fi.threshold_uA_cm2:.2g} uA/cm^2")
    ax.set(title=f"f-I curve: {name}", xlabel="injected current (uA/cm^2)", ylabel="rate (Hz)")
    ax.legend(fontsize=8)
draw_circuit(result.circuit, axes[2], title=(
    f"XOR circuit: ANN accuracy {result.ann_accuracy:.2f}, HH circuit {result.circuit_accuracy:.2f}, "
    f"rate correlation {result.rate_correlation:.2f}"))
fig.tight_layout()
fig.savefig(OUT / "plot_fi_curves_and_circuit.png")
