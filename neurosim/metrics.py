"""NeuroBench-named metrics of an activity record: synaptic operations, activation and connection sparsity.

NeuroBench (Yik et al., "The NeuroBench framework for benchmarking neuromorphic computing
algorithms and systems", Nature Communications 16, 1545, 2025; the ``neurobench`` package,
2.x) measures a model by hooks on its torch modules. This module computes the same quantities
from what a neurosim simulation counted, so that a report can state them under NeuroBench's
names without running torch. ``docs/metrics.md`` gives the measured agreement and the schedule
on which NeuroBench's numbers equal these exactly.

Notation: ``N`` samples; layer ``l`` (0 = input) of ``n_l`` neurons, enabled for its window
``T_l = T - l`` steps (see :mod:`neurosim.network`); ``S_l`` its messages (spikes, binary or
graded) summed over samples and steps; ``F_l`` its synaptic operations, the messages times the
sender's nonzero outgoing synapses, summed over samples (``LayerActivity.synaptic_ops``);
``M_l`` the (n_l, n_{l-1}) synapse mask of the connection into layer ``l``.

* **Synaptic operations** (NeuroBench's ``SynapticOperations``, per inference):

  .. math::

     \\mathrm{Effective\\_ACs} = \\frac{1}{N}\\sum_{l \\in B} F_l, \\qquad
     \\mathrm{Effective\\_MACs} = \\frac{1}{N}\\sum_{l \\in G} F_l, \\qquad
     \\mathrm{Dense} = \\sum_{l=0}^{L-1} T_l\\, n_l\\, n_{l+1}

  ``B``: layers whose messages are binary spikes (``if``, ``lif``, ``cuba_lif``; the input
  with ``regular`` or ``bernoulli`` encoding), each message an accumulate; ``G``: layers whose
  messages carry a value (``sigma_delta``; the input with ``graded`` or ``current``
  encoding), each a multiply-accumulate. ``Dense`` counts every possible synapse, pruned
  ones included, for every step the sender is enabled; biases are not operations.
* **Activation sparsity** (``ActivationSparsity``): the fraction of silent neuron-steps
  over the layers ``A`` that emit messages, the input excluded (NeuroBench hooks neuron
  modules, and the input is data, not a neuron)

  .. math::

     \\mathrm{ActivationSparsity} = 1 - \\frac{\\sum_{l \\in A} S_l}{N \\sum_{l \\in A} n_l T_l}

* **Connection sparsity** (``ConnectionSparsity``): the fraction of absent synapses over all
  connections, biases excluded (NeuroBench rounds it to 4 decimals; this is not rounded)

  .. math::

     \\mathrm{ConnectionSparsity} = 1 - \\frac{\\sum_l \\lVert M_l \\rVert_0}{\\sum_l n_l n_{l-1}}

All three are dimensionless (operations per inference, fractions in [0, 1]).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neurosim.errors import RecordError

#: input encodings whose messages are binary spikes (accumulates) vs values (multiply-accumulates)
BINARY_ENCODINGS = ("regular", "bernoulli")
GRADED_ENCODINGS = ("graded", "current")
BINARY_KINDS = ("if", "lif", "cuba_lif")
GRADED_KINDS = ("sigma_delta",)


def _record(record: Any):
    """The :class:`~neurosim.activity.ActivityRecord` of a record or a ``SimulationResult``."""
    return getattr(record, "record", record)


def input_encoding(record: Any) -> str:
    """The input layer's encoding, as the record's network summary states it."""
    rec = _record(record)
    network = rec.network if isinstance(rec.network, dict) else {}
    layers = network.get("layers")
    first = layers[0] if isinstance(layers, list) and layers and isinstance(layers[0], dict) else {}
    encoding = first.get("encoding")
    if encoding is None and isinstance(rec.info, dict):
        encoding = rec.info.get("input_encoding")
    if encoding not in BINARY_ENCODINGS + GRADED_ENCODINGS:
        raise RecordError(f"activity record: field network.layers[0].encoding is {encoding!r}, expected one of "
                          f"{', '.join(BINARY_ENCODINGS + GRADED_ENCODINGS)}")
    return encoding


def message_type(record: Any, index: int) -> str | None:
    """``'binary'``, ``'graded'`` or None (the layer emits no messages) for layer ``index``."""
    layer = _record(record).layers[index]
    if layer.kind == "input":
        return "binary" if input_encoding(record) in BINARY_ENCODINGS else "graded"
    if layer.kind in BINARY_KINDS:
        return "binary"
    if layer.kind in GRADED_KINDS:
        return "graded"
    return None


def synaptic_operations(record: Any) -> dict[str, float]:
    """NeuroBench's ``SynapticOperations`` per inference: ``Effective_ACs``, ``Effective_MACs``, ``Dense``.

    See the module docstring for the equations.
    """
    rec = _record(record)
    n = max(rec.num_samples, 1)
    acs = macs = 0
    for i, layer in enumerate(rec.layers):
        kind = message_type(rec, i)
        if kind == "binary":
            acs += int(layer.synaptic_ops)
        elif kind == "graded":
            macs += int(layer.synaptic_ops)
    dense = sum(int(a.window) * int(a.size) * int(b.size) for a, b in zip(rec.layers, rec.layers[1:]))
    return {"Effective_MACs": macs / n, "Effective_ACs": acs / n, "Dense": float(dense)}


def activation_sparsity(record: Any) -> float:
    """NeuroBench's ``ActivationSparsity``: silent neuron-steps / all neuron-steps of the emitting layers.

    The input layer is excluded; see the module docstring.
    """
    rec = _record(record)
    spikes = slots = 0
    for i, layer in enumerate(rec.layers):
        if i == 0 or message_type(rec, i) is None:
            continue
        spikes += int(np.asarray(layer.spike_counts).sum())
        slots += rec.num_samples * int(layer.size) * int(layer.window)
    return 1.0 - spikes / slots if slots else 0.0


def connection_sparsity(record: Any) -> float:
    """NeuroBench's ``ConnectionSparsity``: absent synapses / all synapses, not rounded."""
    rec = _record(record)
    masks = [np.asarray(m) for m in rec.connections]
    total = sum(m.size for m in masks)
    return 1.0 - sum(int(np.count_nonzero(m)) for m in masks) / total if total else 0.0


def neurobench_metrics(record: Any) -> dict[str, Any]:
    """The three metrics under NeuroBench's result names, for a report's ``neurobench`` block."""
    rec = _record(record)
    return {
        "SynapticOperations": synaptic_operations(rec),
        "ActivationSparsity": activation_sparsity(rec),
        "ConnectionSparsity": connection_sparsity(rec),
        "per": "inference",
        "num_samples": rec.num_samples,
        "timesteps": rec.timesteps,
    }


def label_estimates(estimates: Any, records: list[Any], sources: list[Any]) -> None:
    """Add to each estimate the :func:`neurobench_metrics` of its record, as ``labels['neurobench']``.

    ``records[i]`` was estimated with ``source=str(sources[i])``; estimates are matched by source.
    A record that does not state its input encoding gets ``{'unavailable': reason}`` instead:
    the energy estimate does not need it, so the report is not refused for it.
    """
    by_source = {str(src): rec for rec, src in zip(records, sources)}
    for e in estimates:
        rec = by_source.get(str(getattr(e, "source", "")))
        if rec is None or not hasattr(e, "labels"):
            continue
        try:
            e.labels["neurobench"] = neurobench_metrics(rec)
        except RecordError as exc:
            e.labels["neurobench"] = {"unavailable": str(exc)}
