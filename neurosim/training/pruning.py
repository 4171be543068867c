"""Static weight sparsity: gradual magnitude pruning (Zhu & Gupta 2017).

Schedule
--------
M. Zhu and S. Gupta, "To prune, or not to prune: exploring the efficacy of pruning for model
compression", arXiv:1710.01878 (2017), eq. (1): the sparsity (fraction of weights pruned) rises
from :math:`s_i` to :math:`s_f` over :math:`n` pruning steps spaced :math:`\\Delta t` training
steps apart, starting at step :math:`t_0`:

.. math::

    s_t = s_f + (s_i - s_f) \\left(1 - \\frac{t - t_0}{n \\Delta t}\\right)^3,
    \\qquad t \\in \\{t_0,\\, t_0 + \\Delta t,\\, \\dots,\\, t_0 + n \\Delta t\\}.

Pruning is fast at first, while many redundant weights remain, and slows down as the network
has fewer weights left to lose. Between pruning steps the sparsity holds its last value; before
:math:`t_0` it is :math:`s_i`, from :math:`t_0 + n\\Delta t` on it is :math:`s_f` and the masks
are **fixed** (training goes on with the surviving weights only).

Masks
-----
At each pruning step the weights of smallest magnitude :math:`|w|` are masked until
``ceil(s_t * n_weights)`` are pruned (rounding up so the density never exceeds
:math:`1 - s_t`). A pruned weight never comes back: it is held at exactly zero and ranks below
every surviving weight. Ranking is per weight matrix (``scope='layer'``, as Zhu & Gupta do) or
over all matrices together (``scope='global'``). Biases are never pruned.
"""
from __future__ import annotations

import math

import torch

from neurosim.errors import ValidationError

SCOPES = ("layer", "global", "unit")


def cubic_schedule(step: int, initial: float, final: float, begin_step: int, end_step: int,
                   frequency: int = 1) -> float:
    """Target sparsity :math:`s_t` at training step ``step`` (Zhu & Gupta 2017, eq. 1).

    Parameters
    ----------
    step : int
        Training step ``t`` (optimizer updates, counted from 0).
    initial, final : float
        :math:`s_i` and :math:`s_f`, fractions in [0, 1).
    begin_step, end_step : int
        :math:`t_0` and :math:`t_0 + n \\Delta t`.
    frequency : int
        :math:`\\Delta t`, training steps between pruning steps (>= 1).

    Returns
    -------
    float
        The sparsity in force at ``step``: that of the latest pruning step at or before it.
    """
    if frequency < 1:
        raise ValidationError(f"pruning frequency must be >= 1 step, got {frequency}")
    if end_step < begin_step:
        raise ValidationError(f"pruning ends (step {end_step}) before it begins ({begin_step})")
    if step < begin_step:
        return float(initial)
    if step >= end_step or end_step == begin_step:
        return float(final)
    last = begin_step + ((step - begin_step) // frequency) * frequency
    progress = (last - begin_step) / (end_step - begin_step)
    return float(final + (initial - final) * (1.0 - progress) ** 3)


def is_pruning_step(step: int, begin_step: int, end_step: int, frequency: int) -> bool:
    """Whether masks are recomputed at ``step``: :math:`t_0 + k\\Delta t` up to the end step."""
    if step < begin_step or step > end_step:
        return False
    return (step - begin_step) % frequency == 0 or step == end_step


class GradualMagnitudePruner:
    """Grow boolean masks on weight tensors along the cubic schedule.

    Parameters
    ----------
    weights : dict[str, torch.Tensor]
        Weight tensors by name (parameters of the model, pruned in place).
    masks : dict[str, torch.Tensor]
        Boolean tensors of the same shapes (updated in place; True = weight kept).
    final_sparsity : float or dict[str, float]
        :math:`s_f` in [0, 1), one for all tensors or one per tensor name (not with
        ``scope='global'``).
    begin_step, end_step : int
        :math:`t_0` and :math:`t_0 + n\\Delta t` in training steps.
    frequency : int
        :math:`\\Delta t` in training steps.
    initial_sparsity : float
        :math:`s_i` (default 0).
    scope : {'layer', 'global', 'unit'}
        Rank magnitudes per tensor, over all tensors together, or per unit: within each slice
        of a tensor along ``unit_axes[name]`` (e.g. each hidden unit's incoming weights in the
        encoder and outgoing weights in the decoder), so that every unit keeps the same number
        of synapses (balanced fan-in/fan-out, as neuromorphic cores with per-neuron synapse
        budgets need).
    unit_axes : dict[str, int]
        For ``scope='unit'``: the axis of each tensor that indexes the units.
    """

    def __init__(self, weights: dict[str, torch.Tensor], masks: dict[str, torch.Tensor],
                 final_sparsity: float, begin_step: int, end_step: int, frequency: int = 1,
                 initial_sparsity: float = 0.0, scope: str = "layer",
                 unit_axes: dict[str, int] | None = None) -> None:
        if scope not in SCOPES:
            raise ValidationError(f"pruning scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        if set(weights) != set(masks):
            raise ValidationError("pruner needs one mask per weight tensor")
        if not isinstance(final_sparsity, dict):
            final_sparsity = {name: float(final_sparsity) for name in weights}
        elif scope == "global" and len(set(final_sparsity.values())) > 1:
            raise ValidationError("global pruning needs one final sparsity for all tensors")
        if set(final_sparsity) != set(weights):
            raise ValidationError("pruner needs one final sparsity per weight tensor")
        if scope == "unit" and (unit_axes is None or set(unit_axes) != set(weights)):
            raise ValidationError("unit-wise pruning needs unit_axes for every weight tensor")
        for name, value in (*((f"final weight sparsity of {k}", v) for k, v in final_sparsity.items()),
                            ("initial weight sparsity", initial_sparsity)):
            if not 0.0 <= float(value) < 1.0:
                raise ValidationError(f"{name} must be in [0, 1), got {value}")
            if float(initial_sparsity) > float(value):
                raise ValidationError(f"initial weight sparsity {initial_sparsity} exceeds the "
                                      f"{name} {value}")
        cubic_schedule(begin_step, initial_sparsity, 0.0, begin_step, end_step, frequency)
        self.weights = weights
        self.masks = masks
        self.final_sparsity = {k: float(v) for k, v in final_sparsity.items()}
        self.unit_axes = dict(unit_axes or {})
        self.initial_sparsity = float(initial_sparsity)
        self.begin_step = int(begin_step)
        self.end_step = int(end_step)
        self.frequency = int(frequency)
        self.scope = scope

    def sparsity_at(self, step: int, name: str | None = None) -> float:
        """Target sparsity :math:`s_t` of tensor ``name`` (default: the first) at ``step``."""
        final = self.final_sparsity[name if name is not None else next(iter(self.weights))]
        return cubic_schedule(step, self.initial_sparsity, final,
                              self.begin_step, self.end_step, self.frequency)

    def frozen(self, step: int) -> bool:
        """True once the schedule has ended: the masks no longer change."""
        return step > self.end_step

    @torch.no_grad()
    def step(self, step: int) -> bool:
        """Recompute the masks if ``step`` is a pruning step; return whether it was."""
        if not is_pruning_step(step, self.begin_step, self.end_step, self.frequency):
            return False
        self.prune_to({name: self.sparsity_at(step, name) for name in self.weights})
        return True

    @torch.no_grad()
    def prune_to(self, sparsity: float | dict[str, float]) -> None:
        """Mask the smallest-magnitude surviving weights until ``ceil(sparsity * n)`` are pruned
        in each ranking group (a tensor, all tensors, or one unit's slice)."""
        if not isinstance(sparsity, dict):
            sparsity = {name: float(sparsity) for name in self.weights}
        if self.scope == "unit":
            for name, w in self.weights.items():
                axis = self.unit_axes[name]
                score = self._score(name).movedim(axis, 0)
                flat = score.reshape(score.shape[0], -1)
                n_prune = min(flat.shape[1], math.ceil(sparsity[name] * flat.shape[1] - 1e-9))
                order = torch.sort(flat, dim=1, descending=True, stable=True).indices
                keep = torch.zeros_like(flat, dtype=torch.bool)
                keep.scatter_(1, order[:, : flat.shape[1] - n_prune], True)
                m = self.masks[name]
                m.copy_(keep.reshape(score.shape).movedim(0, axis))
                w.mul_(m)
            return
        groups = [[n] for n in self.weights] if self.scope == "layer" else [list(self.weights)]
        for names in groups:
            group_sparsity = sparsity[names[0]]
            scores = torch.cat([self._score(n).reshape(-1) for n in names])
            n_total = scores.numel()
            n_prune = min(n_total, math.ceil(group_sparsity * n_total - 1e-9))
            keep = torch.zeros(n_total, dtype=torch.bool)
            if n_prune < n_total:
                order = torch.sort(scores, descending=True, stable=True).indices
                keep[order[: n_total - n_prune]] = True
            offset = 0
            for n in names:
                m = self.masks[n]
                m.copy_(keep[offset: offset + m.numel()].reshape(m.shape))
                offset += m.numel()
                self.weights[n].mul_(m)

    def _score(self, name: str) -> torch.Tensor:
        # already pruned weights rank below every surviving one (they never come back)
        score = self.weights[name].detach().abs().clone()
        score[~self.masks[name]] = -1.0
        return score

    def density(self) -> float:
        """Fraction of weights kept by the masks."""
        kept = sum(int(m.sum()) for m in self.masks.values())
        return kept / sum(m.numel() for m in self.masks.values())
