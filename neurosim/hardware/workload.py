"""The counts a cost model reads: one :class:`Workload` per activity record (or network).

Every cost model is a pure function of a :class:`Workload` and a
:class:`~neurosim.hardware.profile.Profile`. A workload holds, per connection layer
``l >= 1`` (``n_in = n_{l-1}``, ``n_out = n_l``), *per inference* (totals / samples):

* ``synops_in``: synaptic operations delivered into layer ``l`` (the record's
  ``synaptic_ops`` of layer ``l-1``: spikes x nonzero outgoing synapses);
* ``spikes_in`` / ``spikes_out``: spikes of layer ``l-1`` / layer ``l``;
* ``updates`` / ``active_updates``: neuron updates of layer ``l`` (all / with input or spike);
* ``mask`` (n_out, n_in) bool: which synapses exist (crossbar tiles, fan-in, MACs on nonzero
  weights); ``None`` = dense;
* ``in_active`` (N, n_in) bool: which inputs of layer ``l`` were nonzero for each sample,
  taken from the record as ``spike_counts[l-1] > 0``. Targets that run the ANN use it as the
  activation pattern (a silent unit of the SNN is a zero activation of the ANN; a unit that
  spiked at least once is a nonzero one). ``None`` = every input nonzero.

Optional per-step arrays (``T`` = the record's timesteps; built from a record whose layers carry
``step_counts``, else ``None`` and the cost models use the per-step means), per inference:

* ``spikes_in_steps`` (T, n_in): spikes of layer ``l-1`` arriving at layer ``l`` at step ``k``,
  i.e. sent at step ``k-1`` (the one-step synaptic delay; row 0 is zero);
* ``events_in_steps`` (T, n_out): synaptic events delivered into each neuron of layer ``l`` at
  step ``k``, ``spikes_in_steps @ mask.T``;
* ``spikes_out_steps`` (T, n_out): spikes layer ``l`` emits at step ``k``.

Spikes sent at the last step arrive after the run: they are in ``synops_in`` (their energy is
paid) but in no row of ``events_in_steps`` (they take no step's time).

Workloads for tests and validation cases can be built directly (``Workload.mlp``) without
any simulation, e.g. for published networks whose per-layer activity a paper states.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

@dataclass
class WorkloadLayer:
    """One connection layer (see the module docstring for every field's meaning)."""

    name: str
    kind: str
    n_in: int
    n_out: int
    timesteps: int = 1
    nnz: int | None = None
    mask: np.ndarray | None = None
    in_active: np.ndarray | None = None
    synops_in: float = 0.0
    spikes_in: float = 0.0
    spikes_out: float = 0.0
    updates: float = 0.0
    active_updates: float = 0.0
    spikes_in_steps: np.ndarray | None = None
    events_in_steps: np.ndarray | None = None
    spikes_out_steps: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.n_in, self.n_out, self.timesteps = int(self.n_in), int(self.n_out), max(int(self.timesteps), 1)
        if self.mask is not None:
            self.mask = np.asarray(self.mask, dtype=bool)
            if self.mask.shape != (self.n_out, self.n_in):
                raise ValueError(f"layer {self.name!r}: mask shape {self.mask.shape} != ({self.n_out}, {self.n_in})")
            self.nnz = int(self.mask.sum())
        elif self.nnz is None:
            self.nnz = self.n_in * self.n_out
        if self.in_active is not None:
            self.in_active = np.asarray(self.in_active, dtype=bool)
            if self.in_active.ndim != 2 or self.in_active.shape[1] != self.n_in:
                raise ValueError(f"layer {self.name!r}: in_active must be (N, {self.n_in}), got {self.in_active.shape}")
        steps = [self.spikes_in_steps, self.events_in_steps, self.spikes_out_steps]
        if any(a is not None for a in steps):
            if any(a is None for a in steps):
                raise ValueError(f"layer {self.name!r}: spikes_in_steps, events_in_steps and spikes_out_steps "
                                 "go together")
            self.spikes_in_steps, self.events_in_steps, self.spikes_out_steps = (
                np.asarray(a, dtype=np.float64) for a in steps)
            T = self.spikes_in_steps.shape[0]
            for key, a, n in (("spikes_in_steps", self.spikes_in_steps, self.n_in),
                              ("events_in_steps", self.events_in_steps, self.n_out),
                              ("spikes_out_steps", self.spikes_out_steps, self.n_out)):
                if a.shape != (T, n) or T < 1:
                    raise ValueError(f"layer {self.name!r}: {key} must be (T, {n}) with T >= 1, got {a.shape}")

    @property
    def has_steps(self) -> bool:
        """Whether the per-step arrays are present."""
        return self.events_in_steps is not None

    @property
    def dense(self) -> int:
        return self.n_in * self.n_out

    @property
    def col_nnz(self) -> np.ndarray:
        """Nonzero weights from each input (its fan-out into this layer), shape (n_in,)."""
        if self.mask is None:
            return np.full(self.n_in, self.n_out * self.nnz / max(self.dense, 1))
        return self.mask.sum(axis=0).astype(np.float64)

    @property
    def max_fan_in(self) -> int:
        if self.mask is None:
            return self.n_in if self.nnz else 0
        return int(self.mask.sum(axis=1).max(initial=0))

    @property
    def sources(self) -> int:
        """Inputs with at least one synapse into this layer."""
        if self.mask is None:
            return self.n_in if self.nnz else 0
        return int(self.mask.any(axis=0).sum())

    @property
    def active_inputs(self) -> float:
        """Mean number of nonzero inputs per inference."""
        if self.in_active is None:
            return float(self.n_in)
        return float(self.in_active.sum(axis=1).mean()) if self.in_active.shape[0] else 0.0

    def work(self, skip_zero_weights: bool, skip_zero_activations: bool) -> float:
        """MACs per inference when the hardware skips zero weights and/or zero activations.

        ``sum_j a_j c_j`` averaged over samples, with ``a_j`` = input ``j`` nonzero (1 when
        activations are not skipped) and ``c_j`` = its nonzero fan-out (``n_out`` when weights
        are not skipped).
        """
        fan = self.col_nnz if skip_zero_weights else np.full(self.n_in, float(self.n_out))
        if not skip_zero_activations or self.in_active is None:
            return float(fan.sum())
        if self.in_active.shape[0] == 0:
            return 0.0
        return float((self.in_active.astype(np.float64) @ fan).mean())


@dataclass
class Workload:
    """Per-inference counts of one network on one set of inputs (see the module docstring)."""

    model: str
    layers: list[WorkloadLayer]
    timesteps: int = 1
    num_samples: int = 1
    input_size: int = 0
    input_spikes: float = 0.0
    coding: str | None = None
    dt_s: float | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ totals
    @property
    def synops(self) -> float:
        return float(sum(l.synops_in for l in self.layers))

    @property
    def spikes(self) -> float:
        return float(self.input_spikes + sum(l.spikes_out for l in self.layers))

    @property
    def total_nnz(self) -> int:
        return int(sum(l.nnz for l in self.layers))

    @property
    def total_dense(self) -> int:
        return int(sum(l.dense for l in self.layers))

    def with_layers(self, layers: list[WorkloadLayer]) -> "Workload":
        return replace(self, layers=layers)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_any(cls, obj: Any) -> "Workload":
        """From an :class:`~neurosim.activity.ActivityRecord`, a workload, a ``SpikingNetwork``
        or a ``SpikingNetwork.summary()`` dict."""
        from neurosim.activity import ActivityRecord

        if isinstance(obj, Workload):
            return obj
        if isinstance(obj, ActivityRecord):
            return cls.from_record(obj)
        if hasattr(obj, "summary") and hasattr(obj, "layers") and not isinstance(obj, dict):
            return cls.from_network(obj)
        if isinstance(obj, dict) and "layers" in obj:
            return cls.from_summary(obj)
        raise TypeError(f"cannot build a workload from {type(obj).__name__}")

    @classmethod
    def from_record(cls, record: Any, source: str = "") -> "Workload":
        """Counts of an activity record, per inference (totals divided by ``num_samples``)."""
        n = max(record.num_samples, 1)
        steps = bool(record.layers) and all(layer.step_counts is not None for layer in record.layers)
        layers = []
        for l in range(1, len(record.layers)):
            prev, cur = record.layers[l - 1], record.layers[l]
            mask = record.connections[l - 1] if l - 1 < len(record.connections) else None
            per_step = step_arrays(prev.step_counts, cur.step_counts, mask, n) if steps else {}
            layers.append(WorkloadLayer(
                name=cur.name, kind=cur.kind, n_in=prev.size, n_out=cur.size, timesteps=cur.window,
                mask=mask, in_active=np.asarray(prev.spike_counts) > 0,
                synops_in=prev.synaptic_ops / n, spikes_in=prev.total_spikes / n, spikes_out=cur.total_spikes / n,
                updates=cur.neuron_updates / n, active_updates=cur.active_neuron_updates / n, **per_step))
        network = record.network or {}
        meta = dict(network.get("metadata", {}) or {})
        info = record.info or {}
        model = meta.get("model") or info.get("model") or _guess_model(network.get("path") or source) or "unknown"
        coding = meta.get("coding") or info.get("coding")
        return cls(model=str(model), layers=layers, timesteps=int(record.timesteps), num_samples=record.num_samples,
                   input_size=record.layers[0].size if record.layers else 0,
                   input_spikes=(record.layers[0].total_spikes / n) if record.layers else 0.0,
                   coding=coding, dt_s=record.dt_s, source=source or str(network.get("path", "")),
                   meta={"weight_bits": meta.get("weight_bits"), "backend": record.backend})

    @classmethod
    def from_network(cls, network: Any) -> "Workload":
        """Structure only (masks, no activity) of a ``SpikingNetwork``."""
        layers = []
        for prev, cur in zip(network.layers, network.layers[1:]):
            layers.append(WorkloadLayer(name=cur.name, kind=cur.kind, n_in=prev.size, n_out=cur.size,
                                        mask=cur.connection.mask))
        meta = dict(network.metadata or {})
        return cls(model=str(meta.get("model", "unknown")), layers=layers, input_size=network.input_size,
                   coding=meta.get("coding"), dt_s=network.dt_s, meta={"weight_bits": meta.get("weight_bits")})

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> "Workload":
        """Structure only (sizes and nonzero counts) of a ``SpikingNetwork.summary()`` dict."""
        entries = summary.get("layers", [])
        layers = []
        for prev, cur in zip(entries, entries[1:]):
            nnz = cur.get("nonzero_synapses", cur.get("synapses", int(prev["size"]) * int(cur["size"])))
            layers.append(WorkloadLayer(name=str(cur.get("name", "")), kind=str(cur.get("kind", "")),
                                        n_in=int(prev["size"]), n_out=int(cur["size"]), nnz=int(nnz)))
        meta = dict(summary.get("metadata", {}) or {})
        return cls(model=str(meta.get("model", "unknown")), layers=layers,
                   input_size=int(entries[0]["size"]) if entries else 0, coding=meta.get("coding"),
                   dt_s=summary.get("dt_s"), meta={"weight_bits": meta.get("weight_bits")})

    @classmethod
    def mlp(cls, sizes: list[int], *, model: str = "mlp", timesteps: int = 1, rates: list[float] | None = None,
            masks: list[np.ndarray | None] | None = None, in_active: list[np.ndarray | None] | None = None,
            active_fraction: list[float] | None = None, coding: str | None = "rate",
            meta: dict[str, Any] | None = None, dt_s: float | None = None) -> "Workload":
        """A feed-forward network ``sizes[0] -> sizes[1] -> ...`` with stated activity.

        ``rates[i]``: mean spikes per neuron per timestep of layer ``i`` (layer 0 = input);
        the last layer's rate is usually 0 (a non-spiking readout). Synaptic operations into
        layer ``l`` = spikes of layer ``l-1`` x mean nonzero fan-out. ``active_fraction[l]``:
        fraction of layer ``l``'s neuron updates that are active (default ``min(1, 2 x input
        rate)``, a stated assumption). Used for published workloads in validation tests.
        """
        n_layers = len(sizes) - 1
        rates = rates if rates is not None else [0.0] * len(sizes)
        masks = masks if masks is not None else [None] * n_layers
        in_active = in_active if in_active is not None else [None] * n_layers
        layers = []
        spikes = [sizes[i] * rates[i] * timesteps for i in range(len(sizes))]
        for l in range(1, len(sizes)):
            layer = WorkloadLayer(name=f"layer{l}", kind="if" if l < n_layers else "readout", n_in=sizes[l - 1],
                                  n_out=sizes[l], timesteps=timesteps, mask=masks[l - 1], in_active=in_active[l - 1])
            mean_fan = layer.nnz / max(layer.n_in, 1)
            layer.synops_in = spikes[l - 1] * mean_fan
            layer.spikes_in, layer.spikes_out = spikes[l - 1], spikes[l]
            layer.updates = sizes[l] * timesteps
            frac = (active_fraction[l] if active_fraction is not None else min(1.0, 2.0 * rates[l - 1]))
            layer.active_updates = layer.updates * frac
            layers.append(layer)
        return cls(model=model, layers=layers, timesteps=timesteps, num_samples=1, input_size=sizes[0],
                   input_spikes=spikes[0], coding=coding, dt_s=dt_s, meta=dict(meta or {}))


def step_arrays(steps_in: np.ndarray, steps_out: np.ndarray, mask: np.ndarray | None,
                num_samples: int) -> dict[str, np.ndarray]:
    """Per-inference per-step arrays of one connection layer from two layers' ``step_counts``.

    ``steps_in`` (T, n_in) and ``steps_out`` (T, n_out): spikes per step summed over
    ``num_samples`` samples. A spike sent at step ``k`` arrives at ``k + 1``:
    ``spikes_in_steps[k] = steps_in[k - 1] / N`` (row 0 zero) and
    ``events_in_steps = spikes_in_steps @ mask.T`` (every input reaches every neuron when
    ``mask`` is None).
    """
    n = max(int(num_samples), 1)
    arriving = np.zeros(np.shape(steps_in), dtype=np.float64)
    arriving[1:] = np.asarray(steps_in, dtype=np.float64)[:-1] / n
    n_out = np.shape(steps_out)[1]
    if mask is None:
        events = np.repeat(arriving.sum(axis=1, keepdims=True), n_out, axis=1)
    else:
        from scipy import sparse

        events = np.asarray(sparse.csr_array(np.asarray(mask, dtype=bool)).astype(np.float64) @ arriving.T).T
    return {"spikes_in_steps": arriving, "events_in_steps": events,
            "spikes_out_steps": np.asarray(steps_out, dtype=np.float64) / n}


def _guess_model(path: Any) -> str | None:
    text = str(path or "").lower()
    for name in ("sparse", "dense"):
        if name in text:
            return name
    return None
