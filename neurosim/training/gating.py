"""Dynamic activity sparsity: a learned per-unit threshold gate with homeostatic control.

The gate
--------
Hidden unit ``j`` of the sparse autoencoder computes

.. math::

    z_j = \\sum_i W_{ji} x_i + b_j, \\qquad h_j = \\max(0,\\; z_j - \\theta_j),

with one learned threshold :math:`\\theta_j` per unit (``gate.threshold`` in a checkpoint).
The unit is *active* for an input when :math:`h_j > 0`. Gradients flow through the gate as
through any ReLU: for an active unit :math:`\\partial h_j/\\partial z_j = 1` and
:math:`\\partial h_j/\\partial\\theta_j = -1`; a silent unit passes no reconstruction gradient.

Why this gate (and not k-winners-take-all)
------------------------------------------
A spiking network reproduces this gate *exactly, with local neuron dynamics*: the threshold is a
constant negative bias current :math:`-\\theta_j` on an integrate-and-fire neuron, which then
integrates :math:`z_j - \\theta_j` and fires at a rate proportional to :math:`h_j` — and not at all
when :math:`z_j \\le \\theta_j`. Every neuron decides on its own input alone. k-WTA instead needs
the *rank* of a unit among all the others: a spiking network gets that only from lateral
inhibition (all-to-all inhibitory synapses or an inhibitory population), whose dynamics
approximate an exact top-k, cost synaptic events of their own and couple the neurons' timing.
The threshold gate costs nothing at inference beyond a bias and converts without approximation
(:mod:`converters`). Its price — the number of active units varies from input to input instead of
being exactly ``k`` — is measured and reported (``activation_density`` is the mean over test
inputs; the per-input spread is kept small in training, below).

How the thresholds are trained
------------------------------
*Homeostasis* (the mean level). After every training batch :math:`B`, an integral controller
moves each threshold toward the target active fraction :math:`a`:

.. math::

    r_j = \\frac{1}{|B|}\\sum_{x\\in B} [z_j(x) > \\theta_j], \\qquad
    \\theta_j \\leftarrow \\theta_j + \\eta\\, \\sigma_j\\, (r_j - a),

with gain :math:`\\eta` and :math:`\\sigma_j` a running average of the batch standard deviation
of :math:`z_j` (so the step is scale-free: it does not care how large the weights have grown).
A unit that fires too often raises its threshold, a silent one lowers it until it fires again
(no dead units). The first update warm-starts each threshold at its unit's :math:`1-a`
quantile of the first batch. This is *intrinsic plasticity*, a local rule a neuromorphic chip can run on-line.
At equilibrium every unit fires for a fraction :math:`a` of the inputs, hence the mean fraction
of active units per input is :math:`a`. The encoder bias of the sparse model is held at zero
(the threshold takes its place: :math:`b_j` and :math:`-\\theta_j` are the same parameter, and a
bias trained by the reconstruction loss, which always asks for more activity, would drift
against the controller).

*Differentiable surrogate penalty* (the spread across inputs). A per-unit rate alone lets all
units fire together for the inputs with the most ink and leaves faint inputs with no active
unit at all: that is a fixed point the reconstruction gradient cannot leave (silent units pass
no gradient). The training loss therefore adds

.. math::

    \\lambda \\operatorname{Var}_{x \\in B}\\big[\\tilde a(x)\\big], \\qquad
    \\tilde a(x) = \\frac{1}{H}\\sum_j \\operatorname{sigmoid}\\!\\Big(\\frac{z_j(x) - \\theta_j}{\\tau\\,\\sigma_j}\\Big),

a smooth count of the active units of each input whose variance across the batch is penalised
(its mean is left to the controller). Its gradient flows through the gate surrogate to the
weights and thresholds of every unit near threshold — including silent ones — and teaches the
encoder weights to balance positive and negative parts so that inputs with more ink do not
simply recruit more units. The penalty shapes training only; the deployed gate is exactly
``relu(z - theta)``.

Per-unit control also distributes the code across units: with 10 balanced classes and each unit
firing for 10 % of inputs, a unit can be reliably (> 50 %) on for at most about one class, which
keeps the overlap between classes' active-unit sets small.
"""
from __future__ import annotations

import torch
from torch import nn

from neurosim.errors import ValidationError


class ThresholdGate(nn.Module):
    """``h = relu(z - theta)`` with one learned threshold per unit.

    Parameters
    ----------
    size : int
        Number of hidden units ``H``; ``threshold`` has shape (H,), initialised to 0 (the gate
        then equals a plain ReLU).
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        if int(size) <= 0:
            raise ValidationError(f"gate size must be positive, got {size}")
        self.threshold = nn.Parameter(torch.zeros(int(size)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.relu(z - self.threshold)


def check_fraction(name: str, value: float) -> float:
    """Validate a fraction in (0, 1]; return it as float."""
    value = float(value)
    if not 0.0 < value <= 1.0:
        raise ValidationError(f"{name} must be in (0, 1], got {value}")
    return value


class HomeostaticController:
    """Integral controller of each unit's firing rate, ``theta_j += gain * sigma_j * (r_j - a)``.

    Parameters
    ----------
    gate : ThresholdGate
        The gate whose thresholds it moves (in place, outside autograd).
    target : float
        Target active fraction ``a`` in (0, 1].
    gain : float
        Controller gain ``eta`` (> 0): threshold step in units of the running standard deviation
        ``sigma_j`` of the unit's pre-activation, per unit of rate error.
    momentum : float
        Of the running average ``sigma_j`` (in [0, 1)).
    """

    def __init__(self, gate: ThresholdGate, target: float, gain: float = 0.3, momentum: float = 0.9) -> None:
        self.gate = gate
        self.target = check_fraction("target active fraction", target)
        if not float(gain) > 0:
            raise ValidationError(f"controller gain must be positive, got {gain}")
        if not 0.0 <= float(momentum) < 1.0:
            raise ValidationError(f"controller momentum must be in [0, 1), got {momentum}")
        self.gain = float(gain)
        self.momentum = float(momentum)
        self.scale: torch.Tensor | None = None
        self.started = False

    @torch.no_grad()
    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """Update and return the running scale ``sigma_j`` (H,) from pre-activations ``z`` (N, H)."""
        if z.shape[0] > 1:
            mean = z.mean(dim=0)
            spread = ((z * z).mean(dim=0) - mean * mean).clamp_min(0.0).sqrt()
        else:
            spread = z.abs().mean(dim=0)
        spread = spread.clamp_min(1e-6)
        if self.scale is None:
            self.scale = spread.clone()
        else:
            self.scale.mul_(self.momentum).add_((1.0 - self.momentum) * spread)
        return self.scale

    @torch.no_grad()
    def update(self, z: torch.Tensor) -> torch.Tensor:
        """Move the thresholds after a batch with pre-activations ``z`` (N, H).

        Returns the per-unit firing rates ``r`` (H,) of that batch (before the move).
        """
        if self.scale is None:
            self.observe(z)
        if not self.started:
            # warm start: each threshold at its unit's (1 - a) quantile of this first batch
            self.gate.threshold.copy_(torch.quantile(z, 1.0 - self.target, dim=0))
            self.started = True
        rate = (z > self.gate.threshold).float().mean(dim=0)
        self.gate.threshold.add_(self.gain * self.scale * (rate - self.target))
        return rate


def soft_active_fraction(z: torch.Tensor, threshold: torch.Tensor, scale: torch.Tensor,
                         temperature: float) -> torch.Tensor:
    """Smooth fraction of active units per input, ``mean_j sigmoid((z_j - theta_j) / (tau sigma_j))``.

    Shapes: ``z`` (N, H), ``threshold`` and ``scale`` (H,); returns (N,).
    """
    return torch.sigmoid((z - threshold) / (temperature * scale)).mean(dim=1)


def activity_spread_penalty(z: torch.Tensor, threshold: torch.Tensor, scale: torch.Tensor,
                            temperature: float = 1.0) -> torch.Tensor:
    """Variance across the batch of :func:`soft_active_fraction` (a scalar tensor)."""
    soft = soft_active_fraction(z, threshold, scale, temperature)
    return ((soft - soft.mean()) ** 2).mean()
