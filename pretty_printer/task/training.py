"""Rate-network (ANN) training in torch, with Dale's law and measured f-I activations.

Every unit stands for one cell of the compiled circuit: its activation is the measured f-I curve
of that cell model (rate in Hz for an input current), input units included -- an input unit is
a cell driven by the encoded current ``offset + scale * x``.  Each unit is excitatory or
inhibitory and all its outgoing weights share that sign (Dale's law); inputs and outputs are
excitatory.

Two architectures:

* ``feedforward`` -- inputs -> hidden (E and I) -> outputs.
* ``recurrent`` -- inputs -> a recurrent hidden pool (E and I) -> outputs.  The continuous-time
  rate dynamics ``tau dr/dt = -r + f(I)`` are discretised per stimulus bin as ``n_relax`` Euler
  steps of size ``relax`` (in units of tau), starting from the previous bin's state, so the ANN
  settles like the circuit does during each bin; the output is read at the end of the bin.

Synapses in the circuit are conductances, so a synaptic current depends on the postsynaptic
potential: ``g * (E_rev - V)``.  A unit therefore scales its excitatory and inhibitory inputs by
``(E_rev - V_mean(I)) / (E_rev - V_ref)``, where ``V_mean(I)`` is the cell's time-averaged
potential measured along its f-I curve, and solves for the self-consistent current.  Penalties on
saturation, total synaptic drive and bias keep every unit in the regime where this mean-field
description holds for a point cell driven by a few regular spike trains.

A unit's bias is not an injected current but a tonic conductance (``excitability="channels"``,
the default; see :mod:`pretty_printer.circuit.excitability`): its current at ``V_ref`` is the
bias, and it is rescaled with ``V_mean`` like a synapse -- a cation leak (0 mV) for a positive
bias, a tonic GABA_A conductance (-80 mV) for a negative one.  ``excitability="current"`` keeps
the bias a constant injected current (a test option).

Weights are stored in physical units: nA per Hz of presynaptic rate (at ``V_ref``), biases in nA.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from pretty_printer.circuit.cellmodels import FICurve, nA_per_uA_cm2
from pretty_printer.errors import ConfigError

ARCHITECTURES = ("feedforward", "recurrent")


@dataclass(frozen=True)
class TrainConfig:
    """Training knobs; every default lives here once."""

    n_excitatory: int = 6
    n_inhibitory: int = 3
    epochs: int = 500
    lr: float = 0.03
    logit_scale_Hz: float = 10.0  # output rate difference worth one nat of cross-entropy
    weight_decay: float = 1e-4
    n_relax: int = 12  # recurrent: Euler steps per stimulus bin
    relax: float = 0.35  # recurrent: Euler step in units of the rate time constant
    surrogate_leak: float = 0.02  # slope floor (fraction of max) so silent units still learn
    rate_cap: float = 0.6  # fraction of the top measured rate above which currents are penalised
    saturation_penalty: float = 10.0
    n_restarts: int = 3  # independent initialisations; the lowest final training loss wins
    # Large, balanced E and I inputs put a point cell in a high-conductance state where the
    # mean-field current no longer predicts its rate; this keeps total synaptic drive modest.
    load_penalty: float = 0.05
    # A large constant current balanced by large synaptic drive makes single EPSPs decisive
    # (spikes lock to a few strong inputs); small biases keep cells in the mean-field regime.
    bias_penalty: float = 0.05
    weight_noise: float = 0.0  # relative s.d. of per-epoch multiplicative weight noise
    area_um2: float = 1000.0
    excitability: str = "channels"  # "channels" (tonic conductances) or "current" (test option)

    def __post_init__(self) -> None:
        if self.excitability not in ("channels", "current"):
            raise ConfigError(f"excitability: expected 'channels' or 'current', got "
                              f"{self.excitability!r}")
        for key in ("n_excitatory", "epochs", "n_relax", "n_restarts"):
            if int(getattr(self, key)) < 1:
                raise ConfigError(f"{key}: expected >= 1, got {getattr(self, key)!r}")
        if self.n_inhibitory < 0:
            raise ConfigError(f"n_inhibitory: expected >= 0, got {self.n_inhibitory!r}")
        for key in ("lr", "logit_scale_Hz", "area_um2"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"{key}: expected > 0, got {getattr(self, key)!r}")
        if not 0 < self.relax <= 1:
            raise ConfigError(f"relax: expected in (0, 1], got {self.relax!r}")


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


# --------------------------------------------------------------------------- training
class _Net(torch.nn.Module):
    def __init__(self, n_in, n_out, cfg: TrainConfig, recurrent: bool, gen: torch.Generator):
        super().__init__()
        n_h = cfg.n_excitatory + cfg.n_inhibitory
        self.register_buffer("sign", torch.tensor([1.0] * cfg.n_excitatory
                                                  + [-1.0] * cfg.n_inhibitory, dtype=torch.float64))

        def init(*shape, mean):
            return torch.nn.Parameter(mean + 0.5 * torch.randn(*shape, generator=gen,
                                                               dtype=torch.float64))

        # softplus(raw) are magnitudes; fan-in scaling keeps initial currents O(1)
        self.raw_ih = init(n_h, n_in, mean=np.log(np.expm1(1.0 / n_in)))
        self.raw_ho = init(n_out, n_h, mean=np.log(np.expm1(1.0 / n_h)))
        self.recurrent = recurrent
        self.raw_hh = init(n_h, n_h, mean=np.log(np.expm1(1.0 / n_h))) if recurrent else None
        self.b_h = torch.nn.Parameter(0.3 * torch.randn(n_h, generator=gen, dtype=torch.float64))
        self.b_o = torch.nn.Parameter(torch.zeros(n_out, dtype=torch.float64))

    def weights(self):
        sp = torch.nn.functional.softplus
        w_ih = sp(self.raw_ih)
        w_ho = sp(self.raw_ho) * self.sign[None, :]
        w_hh = (sp(self.raw_hh) * self.sign[None, :] if self.recurrent
                else torch.zeros(len(self.sign), len(self.sign), dtype=torch.float64))
        return w_ih, w_hh, w_ho, self.b_h, self.b_o


def _current_at(fi: FICurve, norm: Normalisation, rate_Hz: float) -> float:
    """Normalised current at which the (monotonic part of the) f-I curve reaches ``rate_Hz``."""
    keep = fi.current_uA_cm2 >= norm.threshold_uA_cm2
    cur = np.interp(rate_Hz, fi.rate_Hz[keep], fi.current_uA_cm2[keep])
    return float((cur - norm.threshold_uA_cm2) / norm.delta_uA_cm2)


def encoding_nA(fi: FICurve, area_um2: float) -> tuple[float, float]:
    """Input encoding (offset, scale) in nA: x = 0 at threshold, x = 1 at mid-range rate."""
    norm = Normalisation.from_fi(fi)
    k = nA_per_uA_cm2(area_um2)
    return norm.threshold_uA_cm2 * k, norm.delta_uA_cm2 * k


def train(task_data, fi: FICurve, cfg: TrainConfig = TrainConfig(), *, seed: int = 0) -> ANN:
    """Train a Dale's-law rate network on a task with the measured f-I curve as activation.

    Parameters
    ----------
    task_data : TaskData
        Static tasks train a feedforward network, temporal tasks a recurrent one.
    fi : FICurve
        Measured f-I curve of the cell model every unit will become.
    cfg : TrainConfig
    seed : int
        Seeds the torch generator for the initial weights; training is full-batch, so the same
        seed gives identical weights.

    Returns
    -------
    ANN
    """
    # tiny full-batch problems: one thread is faster than two and far faster on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(task_data, fi, cfg, seed)
    finally:
        torch.set_num_threads(threads)


def _train(task_data, fi: FICurve, cfg: TrainConfig, seed: int) -> ANN:
    recurrent = task_data.kind == "temporal"
    norm = Normalisation.from_fi(fi)
    phys = _physics(fi, norm, cfg.surrogate_leak, cfg.excitability == "channels")
    # input cells see the encoded current; in normalised units x = 0 is threshold, 1 is delta
    with torch.no_grad():
        r_in = phys.act(torch.tensor(np.asarray(task_data.X_train, float)))
    y = torch.tensor(np.asarray(task_data.y_train), dtype=torch.long)
    u_cap = _current_at(fi, norm, cfg.rate_cap * fi.rate_Hz.max())
    best = None
    for child in np.random.SeedSequence(int(seed)).spawn(cfg.n_restarts):
        gen = torch.Generator().manual_seed(int(child.generate_state(1, np.uint64)[0] >> 1))
        net = _Net(task_data.n_inputs, task_data.n_outputs, cfg, recurrent, gen)
        loss = _fit(net, phys, r_in, y, cfg, u_cap)
        if best is None or loss < best[0]:
            best = (loss, net)
    return _to_physical(best[1], fi, norm, cfg, recurrent, phys.v_ref_mV)


def _fit(net: _Net, phys: _Physics, r_in, y, cfg: TrainConfig, u_cap: float) -> float:
    """Full-batch Adam; returns the final training loss."""
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scale = 100.0 / cfg.logit_scale_Hz

    gen = torch.Generator().manual_seed(0)  # noise stream; the init generator seeds the rest

    def objective(noisy=False):
        currents: list[torch.Tensor] = []
        loads: list[torch.Tensor] = []
        weights = net.weights()
        if noisy and cfg.weight_noise > 0:
            # train under random synaptic gain errors, like those a spiking realisation makes,
            # so the solution (and a recurrent net's attractors) tolerates them
            weights = tuple(w * (1 + cfg.weight_noise * torch.randn(
                w.shape, generator=gen, dtype=torch.float64)).clamp(min=0) for w in weights[:3]
                            ) + weights[3:]
        _, out = _run_net(weights, phys, r_in, net.recurrent, cfg.n_relax, cfg.relax,
                          currents, loads)
        loss = torch.nn.functional.cross_entropy(
            (scale * out).reshape(-1, out.shape[-1]), y.reshape(-1))
        over = torch.cat([torch.relu(u - u_cap).reshape(-1) for u in currents])
        load = torch.cat([x.reshape(-1) for x in loads])
        bias = torch.cat([net.b_h, net.b_o])
        return (loss + cfg.saturation_penalty * (over ** 2).mean()
                + cfg.load_penalty * (load ** 2).mean() + cfg.bias_penalty * (bias ** 2).mean())

    for _ in range(cfg.epochs):
        opt.zero_grad()
        objective(noisy=True).backward()
        opt.step()
    with torch.no_grad():
        return float(objective())


def _to_physical(net: _Net, fi: FICurve, norm: Normalisation, cfg: TrainConfig,
                 recurrent: bool, v_ref_mV: float) -> ANN:
    k = nA_per_uA_cm2(cfg.area_um2)
    # normalised u = (I - threshold) / delta with rates in Hz/100, so a weight w_n becomes
    # delta * k / 100 nA per Hz, and a bias b_n becomes threshold + delta * b_n (in nA).
    w_scale = norm.delta_uA_cm2 * k / 100.0
    with torch.no_grad():
        w_ih, w_hh, w_ho, b_h, b_o = (w.numpy().copy() for w in net.weights())
    offset, enc_scale = encoding_nA(fi, cfg.area_um2)
    return ANN(
        architecture="recurrent" if recurrent else "feedforward", cell=fi.model,
        area_um2=cfg.area_um2, enc_offset_nA=offset, enc_scale_nA=enc_scale,
        hidden_sign=net.sign.numpy().astype(np.int8), w_ih=w_ih * w_scale,
        w_hh=w_hh * w_scale, w_ho=w_ho * w_scale,
        b_h_nA=(norm.threshold_uA_cm2 + norm.delta_uA_cm2 * b_h) * k,
        b_o_nA=(norm.threshold_uA_cm2 + norm.delta_uA_cm2 * b_o) * k,
        n_relax=cfg.n_relax, relax=cfg.relax, v_ref_mV=v_ref_mV, excitability=cfg.excitability)


# --------------------------------------------------------------------------- I/O
def save_ann(ann: ANN, path: str | Path) -> None:
    """Write an ANN as .npz with deterministic bytes (fixed zip timestamps, sorted names)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for f in sorted(fields(ann), key=lambda f: f.name):
            arr = np.asarray(getattr(ann, f.name))
            info = zipfile.ZipInfo(f"{f.name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            data = io.BytesIO()
            np.lib.format.write_array(data, arr, allow_pickle=False)
            zf.writestr(info, data.getvalue())
    Path(path).write_bytes(buf.getvalue())


def load_ann(path: str | Path) -> ANN:
    """Read an ANN written by :func:`save_ann`."""
    with np.load(path, allow_pickle=False) as z:
        kw = {}
        for f in fields(ANN):
            if f.name not in z.files and f.name == "excitability":
                kw[f.name] = "current"  # written before excitability was a field: a bias current
                continue
            v = z[f.name]
            kw[f.name] = v.item() if v.ndim == 0 else v
    return ANN(**kw)
