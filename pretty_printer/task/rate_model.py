"""The rate model of a compiled circuit: the ANN, its measured f-I activation and driving forces.

Every unit stands for one cell of the compiled circuit (see :mod:`pretty_printer.task.training` for
how the network is trained).  Its activation is the measured f-I curve of the cell model (rate in Hz
for an input current); synaptic currents are conductances, so a unit scales its excitatory and
inhibitory inputs by ``(E_rev - V_mean(I)) / (E_rev - V_ref)``, where ``V_mean(I)`` is the cell's
time-averaged potential measured along its f-I curve, and solves for the self-consistent current.
A unit's bias is a tonic conductance's current at ``V_ref`` (``excitability="channels"``) or an
injected current (``"current"``, a test option).

Weights are stored in physical units: nA per Hz of presynaptic rate (at ``V_ref``), biases in nA.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from pretty_printer.circuit.cellmodels import FICurve, nA_per_uA_cm2
from pretty_printer.errors import ConfigError

__all__ = ["ANN", "Normalisation", "forward"]


@dataclass(frozen=True)
class ANN:
    """A trained rate network in physical units.

    ``w_*`` are signed weights (nA/Hz) indexed ``[post, pre]``; the sign of a column is the sign
    of its presynaptic unit (``hidden_sign``; inputs are excitatory).
    """

    architecture: str
    cell: str
    area_um2: float
    enc_offset_nA: float
    enc_scale_nA: float
    hidden_sign: np.ndarray = field(repr=False)  # (n_hidden,) +1 excitatory, -1 inhibitory
    w_ih: np.ndarray = field(repr=False)  # (n_hidden, n_in), >= 0
    w_hh: np.ndarray = field(repr=False)  # (n_hidden, n_hidden), zeros when feedforward
    w_ho: np.ndarray = field(repr=False)  # (n_out, n_hidden)
    b_h_nA: np.ndarray = field(repr=False)
    b_o_nA: np.ndarray = field(repr=False)
    n_relax: int = 12
    relax: float = 0.35
    v_ref_mV: float = -62.0  # mean potential at which weights (nA/Hz) equal g * area * drive
    excitability: str = "channels"  # biases are tonic conductances' currents at v_ref, or currents

    @property
    def n_inputs(self) -> int:
        return self.w_ih.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.w_ih.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.w_ho.shape[0]

    def check_dale(self) -> None:
        """Raise if any unit's outgoing weights do not share its sign."""
        if np.any(self.w_ih < 0):
            raise ConfigError("w_ih: expected >= 0 (input cells are excitatory)")
        for w, name in ((self.w_hh, "w_hh"), (self.w_ho, "w_ho")):
            bad = (w * self.hidden_sign[None, :]) < 0
            if np.any(bad):
                raise ConfigError(f"{name}: {int(bad.sum())} weights break Dale's law")


# --------------------------------------------------------------------------- activation
class _FIActivation(torch.autograd.Function):
    """Exact measured f-I in the forward pass, a smoothed slope in the backward pass.

    The measured curve has a kink (type I) or a jump (type II) at threshold; gradients of a
    Gaussian-smoothed copy, floored by a small leak, keep silent units trainable while the
    forward pass -- and hence the ANN's accuracy -- is the exact rate response.
    """

    @staticmethod
    def forward(ctx, x, grid0, step, rates, slopes):
        pos = ((x - grid0) / step).clamp(0, rates.numel() - 1 - 1e-6)
        i = pos.floor().long()
        frac = pos - i
        y = rates[i] * (1 - frac) + rates[(i + 1).clamp(max=rates.numel() - 1)] * frac
        y = torch.where(x < grid0, torch.zeros_like(y), y)
        ctx.save_for_backward(pos, slopes)
        return y

    @staticmethod
    def backward(ctx, gy):
        pos, slopes = ctx.saved_tensors
        g = slopes[pos.round().long()]
        return gy * g, None, None, None, None


@dataclass
class _Activation:
    """f-I in normalised units: input current u (threshold 0, one unit = ``delta``) -> Hz/100."""

    grid0: float
    step: float
    rates: torch.Tensor
    slopes: torch.Tensor

    def __call__(self, u: torch.Tensor) -> torch.Tensor:
        return _FIActivation.apply(u, self.grid0, self.step, self.rates, self.slopes)


@dataclass(frozen=True)
class Normalisation:
    """Maps normalised training currents to densities: ``I = threshold + delta * u``."""

    threshold_uA_cm2: float
    delta_uA_cm2: float

    @classmethod
    def from_fi(cls, fi: FICurve) -> "Normalisation":
        th = fi.threshold_uA_cm2
        r_th, r_max = fi.rate(th), fi.rate_Hz.max()
        target = r_th + 0.5 * (r_max - r_th)  # mid-range rate
        i_mid = float(np.interp(target, fi.rate_Hz[fi.current_uA_cm2 >= th],
                                fi.current_uA_cm2[fi.current_uA_cm2 >= th]))
        return cls(th, i_mid - th)


def _activation(fi: FICurve, norm: Normalisation, leak: float) -> _Activation:
    u = (fi.current_uA_cm2 - norm.threshold_uA_cm2) / norm.delta_uA_cm2
    step = float(u[1] - u[0])
    rates = fi.rate_Hz / 100.0
    slope = np.gradient(rates, step)
    sigma = max(1.0, 0.05 / step)  # smooth over ~0.05 normalised current units
    k = np.exp(-0.5 * (np.arange(-4 * sigma, 4 * sigma + 1) / sigma) ** 2)
    smooth = np.convolve(np.pad(slope, len(k) // 2, mode="edge"), k / k.sum(), mode="valid")
    smooth = np.maximum(smooth, leak * smooth.max())
    return _Activation(float(u[0]), step, torch.tensor(rates), torch.tensor(smooth))


# --------------------------------------------------------------------------- dynamics
class _Interp:
    """Differentiable piecewise-linear interpolation of several curves on one uniform grid.

    ``values`` is (n_grid, n_curves); calling returns (..., n_curves), held at both ends.
    """

    def __init__(self, x0: float, step: float, values: np.ndarray):
        v = torch.tensor(values, dtype=torch.float64)
        self.x0, self.step, self.n = x0, step, v.shape[0]
        self.lo, self.slope = v, torch.cat([v[1:] - v[:-1], torch.zeros_like(v[:1])])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        pos = ((x - self.x0) / self.step).clamp(0, self.n - 1)
        i = pos.detach().floor().long()
        frac = (pos - i).unsqueeze(-1)
        return self.lo[i] + self.slope[i] * frac


@dataclass
class _Physics:
    """The unit model in normalised units: f-I curve and mean-V-dependent driving forces.

    A synapse's mean current is ``g * rate * area * (E_rev - V_mean)``, and the postsynaptic
    cell's time-averaged potential ``V_mean`` rises with its own input current (measured with
    the f-I curve).  Weights are currents at the reference potential ``v_ref`` (the mean
    potential at threshold); ``m_exc(u)`` and ``m_inh(u)`` rescale them for the cell's actual
    state, which is solved self-consistently by damped fixed-point iteration.
    """

    act: _Activation
    m: _Interp  # (m_exc, m_inh, m_cation, m_tonic_gaba) as functions of the normalised current
    v_ref_mV: float
    norm: "Normalisation"
    tonic: bool = True  # the bias is a tonic conductance (rescaled with V_mean), not a current
    n_iter: int = 6

    def _step(self, b, e, i, u):
        m = self.m(u)
        if self.tonic:  # bias current at v_ref -> a cation or GABA_A conductance's current at V
            th, delta = self.norm.threshold_uA_cm2, self.norm.delta_uA_cm2
            i_ref = th + delta * b
            i_now = torch.relu(i_ref) * m[..., 2] - torch.relu(-i_ref) * m[..., 3]
            b = (i_now - th) / delta
        return 0.5 * u + 0.5 * (b + m[..., 0] * e - m[..., 1] * i)

    def settle(self, b, e, i, u=None, n_iter: int | None = None):
        """Self-consistent input current for bias b, excitatory and inhibitory drives e, i.

        Damped fixed-point iteration; gradients flow through the last step only (the earlier
        ones just find the operating point).
        """
        n_iter = self.n_iter if n_iter is None else n_iter
        if u is None:
            u = b + e - i
        with torch.no_grad():
            u_op = u.detach()
            for _ in range(n_iter - 1):
                u_op = self._step(b, e, i, u_op)
        return self._step(b, e, i, u_op + (u - u.detach()))


def _physics(fi: FICurve, norm: Normalisation, leak: float, tonic: bool = True) -> _Physics:
    from phantoms.channels import CHANNEL_SPECIES
    from pretty_printer.circuit.cellmodels import RECEPTOR_KINETICS

    act = _activation(fi, norm, leak)
    u = (fi.current_uA_cm2 - norm.threshold_uA_cm2) / norm.delta_uA_cm2
    v_ref = float(fi.v_mean(norm.threshold_uA_cm2))
    e_exc = RECEPTOR_KINETICS["AMPA"].e_rev_mV
    e_inh = RECEPTOR_KINETICS["GABA_A"].e_rev_mV
    step = float(u[1] - u[0])
    e_cat = CHANNEL_SPECIES["cation_leak"].e_rev_mV
    e_tonic = CHANNEL_SPECIES["tonic_gabaa"].e_rev_mV
    m = np.stack([(e_exc - fi.v_mean_mV) / (e_exc - v_ref),
                  (e_inh - fi.v_mean_mV) / (e_inh - v_ref),
                  (e_cat - fi.v_mean_mV) / (e_cat - v_ref),
                  (e_tonic - fi.v_mean_mV) / (e_tonic - v_ref)], axis=1)
    return _Physics(act, _Interp(float(u[0]), step, m), v_ref, norm, tonic)


def _layer(phys: _Physics, r_pre, w, b, currents: list, loads: list):
    """Rates of a layer (Hz/100) from presynaptic rates and signed normalised weights."""
    e = r_pre @ w.clamp(min=0).T
    i = r_pre @ (-w).clamp(min=0).T
    u = phys.settle(b, e, i)
    currents.append(u)
    loads.append(e + i)
    return phys.act(u)


def _run_net(weights, phys: _Physics, r_in: torch.Tensor, recurrent: bool, n_relax: int,
             relax: float, currents: list | None = None, loads: list | None = None):
    """Normalised forward pass: rates in Hz/100 for (n, n_in) or (n_seq, n_steps, n_in).

    ``weights`` is ``(w_ih, w_hh, w_ho, b_h, b_o)`` (signed, normalised).  Every settled input
    current is appended to ``currents`` (saturation penalty) and every unit's total synaptic
    drive ``sum |w| r`` to ``loads`` (conductance penalty).
    """
    currents = [] if currents is None else currents
    loads = [] if loads is None else loads
    w_ih, w_hh, w_ho, b_h, b_o = weights
    if not recurrent:
        r_h = _layer(phys, r_in, w_ih, b_h, currents, loads)
        return r_h, _layer(phys, r_h, w_ho, b_o, currents, loads)
    n_seq, n_steps, _ = r_in.shape
    r_h = torch.zeros(n_seq, w_ih.shape[0], dtype=torch.float64)
    u = torch.zeros_like(r_h) + b_h
    w_exc, w_inh = w_hh.clamp(min=0), (-w_hh).clamp(min=0)
    hs = []
    for t in range(n_steps):
        e_in = r_in[:, t] @ w_ih.T
        for _ in range(n_relax):
            e = e_in + r_h @ w_exc.T
            i = r_h @ w_inh.T
            u = phys.settle(b_h, e, i, u, n_iter=1)  # relaxation iterates u along with r
            r_h = r_h + relax * (phys.act(u) - r_h)
        currents.append(u)
        loads.append(e + i)
        hs.append(r_h)
    hs = torch.stack(hs, dim=1)
    return hs, _layer(phys, hs, w_ho, b_o, currents, loads)


def forward(ann: ANN, fi: FICurve, X: np.ndarray) -> dict[str, np.ndarray]:
    """Rates (Hz) of every unit for inputs X, computed with the exact measured f-I curve.

    Returns a dict with ``input``, ``hidden`` and ``output`` arrays; for a recurrent ANN and
    X of shape (n_seq, n_steps, n_in) each has shape (n_seq, n_steps, n_units).
    """
    norm = Normalisation.from_fi(fi)
    phys = _physics(fi, norm, 0.0, ann.excitability == "channels")
    k = nA_per_uA_cm2(ann.area_um2)
    w_scale = norm.delta_uA_cm2 * k / 100.0

    def t(a):
        return torch.tensor(np.asarray(a, float), dtype=torch.float64)

    weights = (t(ann.w_ih / w_scale), t(ann.w_hh / w_scale), t(ann.w_ho / w_scale),
               t((ann.b_h_nA / k - norm.threshold_uA_cm2) / norm.delta_uA_cm2),
               t((ann.b_o_nA / k - norm.threshold_uA_cm2) / norm.delta_uA_cm2))
    X = np.asarray(X, float)
    i_in = ann.enc_offset_nA + ann.enc_scale_nA * X
    r_in = fi.rate_from_nA(i_in, ann.area_um2)
    with torch.no_grad():
        hs, out = _run_net(weights, phys, t(r_in / 100.0), ann.architecture == "recurrent",
                           ann.n_relax, ann.relax)
    return {"input": r_in, "hidden": 100.0 * hs.numpy(), "output": 100.0 * out.numpy()}
