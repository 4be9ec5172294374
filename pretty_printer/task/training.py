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

The unit model (measured f-I activation, conductance driving forces, tonic-channel biases) is
:mod:`pretty_printer.task.rate_model`.  Penalties on saturation, total synaptic drive and bias
keep every unit in the regime where that mean-field description holds for a point cell driven
by a few regular spike trains.

Weights are stored in physical units: nA per Hz of presynaptic rate (at ``V_ref``), biases in nA.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

from pretty_printer.circuit.cellmodels import FICurve, FISurface, nA_per_uA_cm2
from pretty_printer.errors import ConfigError
from pretty_printer.task.rate_model import (ANN, Normalisation, _Physics, _physics, _run_net,
                                           default_surface, forward)

__all__ = ["ARCHITECTURES", "TrainConfig", "ANN", "Normalisation", "forward", "train",
           "encoding_nA", "save_ann", "load_ann"]

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


def train(task_data, fi: FICurve, cfg: TrainConfig = TrainConfig(), *, seed: int = 0,
          surface: FISurface | None = None) -> ANN:
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
    surface : FISurface, optional
        The cell model's measured f-I surface under conductance load (default: measured or
        cached by :func:`pretty_printer.sim.fi.fi_surface`).

    Returns
    -------
    ANN
    """
    # tiny full-batch problems: one thread is faster than two and far faster on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(task_data, fi, cfg, seed, surface or default_surface(fi))
    finally:
        torch.set_num_threads(threads)


def _train(task_data, fi: FICurve, cfg: TrainConfig, seed: int, surface: FISurface) -> ANN:
    recurrent = task_data.kind == "temporal"
    norm = Normalisation.from_fi(fi)
    phys = _physics(fi, surface, norm, cfg.surrogate_leak, cfg.excitability == "channels")
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
