"""The rate model of a compiled circuit: the ANN and its measured activation under conductance load.

Every unit stands for one cell of the compiled circuit (see :mod:`pretty_printer.task.training` for
how the network is trained).  Input units are cells driven by an injected current; their
activation is the measured f-I curve.  Every other input is a conductance -- synapses
(``g * rate * (E_rev - V)``) and the bias, a tonic cation-leak or GABA_A conductance
(``excitability="channels"``) -- so a unit's activation is the cell's measured f-I *surface*
``f(J, G)``: its rate for a current ``J`` (the inputs' currents at ``v_ref``) under an added
conductance ``G`` (their total conductance, reversing at ``v_ref``; see
:class:`~pretty_printer.circuit.cellmodels.FISurface`).  Shunting by tonic GABA_A and the
faster recovery that a conductance gives between spikes are thus in the activation, measured,
not modelled.  ``excitability="current"`` (a test option) keeps the bias an injected current.

Weights are stored in physical units: nA per Hz of presynaptic rate (at ``V_ref``), biases in nA.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from pretty_printer.circuit.cellmodels import FICurve, FISurface, nA_per_uA_cm2
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


def default_surface(fi: FICurve) -> FISurface:
    """The measured (cached) f-I surface of ``fi``'s cell model and temperature."""
    from pretty_printer.circuit.cellmodels import FIProtocol
    from pretty_printer.sim.fi import fi_surface

    return fi_surface(fi.model, FIProtocol(temperature_C=fi.temperature_C))


# --------------------------------------------------------------------------- dynamics
def _smooth(slope: np.ndarray, sigma: float) -> np.ndarray:
    """Rows of ``slope`` (last axis) Gaussian-smoothed over ``sigma`` grid steps, edges held."""
    pad = int(np.ceil(4 * sigma))
    k = np.exp(-0.5 * (np.arange(-pad, pad + 1) / sigma) ** 2)
    k /= k.sum()
    rows = np.atleast_2d(slope)
    out = np.stack([np.convolve(np.pad(r, pad, mode="edge"), k, mode="valid") for r in rows])
    return out.reshape(slope.shape)


class _SurfaceActivation(torch.autograd.Function):
    """Exact measured f(J, G) forward (bilinear), smoothed slopes backward (as :class:`_FIActivation`).

    ``u`` is the normalised current (fractional column ``(u - u0) / du``), ``s`` the fractional
    conductance row; ``rates``, ``slope_u`` and ``slope_s`` are (n_G, n_J) tables.
    """

    @staticmethod
    def forward(ctx, u, s, u0, du, rates, slope_u, slope_s):
        n_g, n_j = rates.shape
        pu = ((u - u0) / du).clamp(0, n_j - 1 - 1e-6)
        ps = s.clamp(0, n_g - 1 - 1e-6)
        corners = _corners(n_g, n_j, pu, ps)
        y = _bilinear(rates, corners)
        y = torch.where(u < u0, torch.zeros_like(y), y)
        ctx.corners = corners  # the backward reads its slopes at the same corners and weights
        ctx.save_for_backward(slope_u, slope_s)
        ctx.du = du
        return y

    @staticmethod
    def backward(ctx, gy):
        slope_u, slope_s = ctx.saved_tensors
        gu = _bilinear(slope_u, ctx.corners)
        gs = _bilinear(slope_s, ctx.corners)
        return gy * gu, gy * gs, None, None, None, None, None


def _corners(n_g: int, n_j: int, pu: torch.Tensor, ps: torch.Tensor) -> tuple:
    """Flat indices of the four grid points around (row ``ps``, column ``pu``) of an (n_g, n_j)
    table, and the bilinear weights ``(1 - fj, fj, 1 - fg, fg)``."""
    j, g = pu.floor().long(), ps.floor().long()
    fj, fg = pu - j, ps - g
    j1, g1 = (j + 1).clamp(max=n_j - 1), (g + 1).clamp(max=n_g - 1)
    return (g * n_j + j, g * n_j + j1, g1 * n_j + j, g1 * n_j + j1), (1 - fj, fj, 1 - fg, fg)


def _bilinear(table: torch.Tensor, corners: tuple) -> torch.Tensor:
    (i00, i01, i10, i11), (wj0, wj1, wg0, wg1) = corners
    flat = table.reshape(-1)
    return (flat[i00] * wj0 + flat[i01] * wj1) * wg0 + (flat[i10] * wj0 + flat[i11] * wj1) * wg1


@dataclass
class _Physics:
    """The unit model in normalised units: the measured f-I surface under conductance load.

    Every input of a unit is a conductance: synapses (``g * rate * (E_rev - V)``) and, with
    ``tonic``, the bias (a cation leak or tonic GABA_A conductance).  Each is split exactly into
    its current at ``v_ref`` plus a conductance reversing at ``v_ref`` (see
    :class:`~pretty_printer.circuit.cellmodels.FISurface`): the normalised current is
    ``u = b + e - i`` (weights and biases are currents at ``v_ref``) and the conductance load is
    ``G = g_tonic(b) + delta * (e / (E_exc - v_ref) + i / (v_ref - E_inh))`` (mS/cm^2).  The unit
    fires at the measured ``f(u, G)``: no mean-potential approximation, only the mean-field one
    (synaptic conductances replaced by their means).
    """

    act: _Activation  # f-I without load (input cells: an injected current)
    rates: torch.Tensor  # (n_G, n_J) Hz/100
    slope_u: torch.Tensor
    slope_s: torch.Tensor
    u0: float
    du: float
    g_scale: float  # the surface's conductance warping scale (mS/cm^2)
    s_per_log: float  # rows per unit of log1p(G / g_scale)
    norm: "Normalisation"
    g_exc: float  # mS/cm^2 per normalised unit of excitatory current at v_ref
    g_inh: float
    g_cat: float  # mS/cm^2 per uA/cm^2 of positive bias (cation leak)
    g_gaba: float  # mS/cm^2 per uA/cm^2 of negative bias (tonic GABA_A)
    v_ref_mV: float
    tonic: bool = True  # the bias is a tonic conductance, not an injected current

    def conductance(self, b, e, i):
        """Conductance load (mS/cm^2) of a unit with bias b and drives e, i (normalised)."""
        g = self.g_exc * e + self.g_inh * i
        if self.tonic:
            i_ref = self.norm.threshold_uA_cm2 + self.norm.delta_uA_cm2 * b
            g = g + self.g_cat * torch.relu(i_ref) + self.g_gaba * torch.relu(-i_ref)
        return g

    def rate(self, b, e, i):
        """(normalised current u, rate in Hz/100) of units with bias b and drives e, i."""
        u = b + e - i
        s = self.s_per_log * torch.log1p(self.conductance(b, e, i) / self.g_scale)
        return u, _SurfaceActivation.apply(u, s, self.u0, self.du, self.rates, self.slope_u,
                                           self.slope_s)


def _physics(fi: FICurve, surface: FISurface, norm: Normalisation, leak: float,
             tonic: bool = True) -> _Physics:
    from phantoms.channels import CHANNEL_SPECIES
    from pretty_printer.circuit.cellmodels import RECEPTOR_KINETICS

    v_ref = float(fi.v_mean(norm.threshold_uA_cm2))
    if abs(surface.v_ref_mV - v_ref) > 1e-9 or surface.model != fi.model:
        raise ConfigError(f"surface: expected the f-I surface of {fi.model} at v_ref {v_ref:.3f} mV, "
                          f"got {surface.model} at {surface.v_ref_mV:.3f} mV")
    act = _activation(fi, norm, leak)
    u = (surface.current_uA_cm2 - norm.threshold_uA_cm2) / norm.delta_uA_cm2
    du = float(u[1] - u[0])
    rates = surface.rate_Hz / 100.0
    sigma = max(1.0, 0.05 / du)  # smooth over ~0.05 normalised current units, as _activation
    slope_u = _smooth(np.gradient(rates, du, axis=1), sigma)
    slope_u = np.maximum(slope_u, leak * slope_u.max())
    slope_s = _smooth(np.gradient(rates, axis=0), sigma)  # per row of the conductance grid
    n_g = len(surface.conductance_mS_cm2)
    g0 = surface.conductance_scale_mS_cm2
    delta = norm.delta_uA_cm2

    def t(a):
        return torch.tensor(np.ascontiguousarray(a), dtype=torch.float64)

    return _Physics(
        act, t(rates), t(slope_u), t(slope_s), float(u[0]), du, g0,
        (n_g - 1) / float(np.log1p(surface.conductance_mS_cm2[-1] / g0)), norm,
        g_exc=delta / (RECEPTOR_KINETICS["AMPA"].e_rev_mV - v_ref),
        g_inh=delta / (v_ref - RECEPTOR_KINETICS["GABA_A"].e_rev_mV),
        g_cat=1.0 / (CHANNEL_SPECIES["cation_leak"].e_rev_mV - v_ref),
        g_gaba=1.0 / (v_ref - CHANNEL_SPECIES["tonic_gabaa"].e_rev_mV), v_ref_mV=v_ref, tonic=tonic)


def _layer(phys: _Physics, r_pre, w, b, currents: list, loads: list):
    """Rates of a layer (Hz/100) from presynaptic rates and signed normalised weights."""
    e = r_pre @ w.clamp(min=0).T
    i = r_pre @ (-w).clamp(min=0).T
    u, r = phys.rate(b, e, i)
    currents.append(u)
    loads.append(e + i)
    return r


def _run_net(weights, phys: _Physics, r_in: torch.Tensor, recurrent: bool, n_relax: int,
             relax: float, currents: list | None = None, loads: list | None = None):
    """Normalised forward pass: rates in Hz/100 for (n, n_in) or (n_seq, n_steps, n_in).

    ``weights`` is ``(w_ih, w_hh, w_ho, b_h, b_o)`` (signed, normalised).  Every unit's input
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
    w_exc, w_inh = w_hh.clamp(min=0), (-w_hh).clamp(min=0)
    hs = []
    for t in range(n_steps):
        e_in = r_in[:, t] @ w_ih.T
        for _ in range(n_relax):
            e = e_in + r_h @ w_exc.T
            i = r_h @ w_inh.T
            u, f = phys.rate(b_h, e, i)
            r_h = r_h + relax * (f - r_h)
        currents.append(u)
        loads.append(e + i)
        hs.append(r_h)
    hs = torch.stack(hs, dim=1)
    return hs, _layer(phys, hs, w_ho, b_o, currents, loads)


def forward(ann: ANN, fi: FICurve, X: np.ndarray,
            surface: FISurface | None = None) -> dict[str, np.ndarray]:
    """Rates (Hz) of every unit for inputs X, computed with the exact measured f-I curve.

    Returns a dict with ``input``, ``hidden`` and ``output`` arrays; for a recurrent ANN and
    X of shape (n_seq, n_steps, n_in) each has shape (n_seq, n_steps, n_units).  ``surface`` is
    the cell model's measured f-I surface (default: :func:`default_surface`).
    """
    norm = Normalisation.from_fi(fi)
    phys = _physics(fi, surface or default_surface(fi), norm, 0.0, ann.excitability == "channels")
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
