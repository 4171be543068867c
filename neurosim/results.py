"""Typed results of the pipeline stages (:mod:`neurosim.pipeline`).

Each result keeps the object a later stage needs (``network``, ``record``, the estimates) and
adds what a person reads first: per-inference figures, ``repr``, ``to_json()`` and
``save(path)``.

Totals and per-inference figures have distinct names everywhere: ``synaptic_ops`` and
``total_spikes`` are totals over all ``num_samples`` simulated samples;
``synaptic_ops_per_inference``, ``spikes_per_inference`` and ``macs_per_inference`` are
those totals divided by ``num_samples`` (one inference = one sample presented for ``T``
steps).
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurosim.fileio import json_default, write_atomic, write_json


def _fmt(value: float | None, digits: int = 4) -> str:
    return "None" if value is None else f"{value:.{digits}g}"


@dataclass
class ConversionResult:
    """A spiking network converted from a checkpoint, with what the conversion decided.

    Attributes
    ----------
    network : SpikingNetwork
        The network; ``network.metadata`` holds coding, calibration and provenance
        (``dataset``, ``split``, ``data_dir`` the model was trained and calibrated on).
    summary : dict
        Plain description (the ``NET.json`` a ``neurosim convert`` writes beside the NIR file).
    """

    network: Any
    summary: dict[str, Any]

    @property
    def coding(self) -> str | None:
        return self.network.metadata.get("coding")

    @property
    def model(self) -> str | None:
        return self.network.metadata.get("model")

    @property
    def source(self) -> str | None:
        """The checkpoint the network was converted from."""
        return self.network.metadata.get("source")

    @property
    def dataset(self) -> str | None:
        return self.network.metadata.get("dataset")

    @property
    def data_dir(self) -> str | None:
        return self.network.metadata.get("data_dir")

    @property
    def shape(self) -> list[int]:
        return [layer.size for layer in self.network.layers]

    @property
    def nonzero_synapses(self) -> int:
        return int(self.summary["nonzero_synapses"])

    @property
    def weight_density(self) -> float | None:
        return self.summary.get("weight_density")

    @property
    def payload_bits(self) -> int | None:
        """Graded coding: bits that cover activations up to the calibration percentile."""
        return self.network.metadata.get("payload_bits")

    @property
    def payload_bits_needed(self) -> int | None:
        """Graded coding: bits the largest calibration activation needs, ``ceil(log2(q_max + 1))``.

        Payloads are widened, never clipped: an activation above the calibration percentile is
        sent as a larger integer ``q > 2**payload_bits - 1``.
        """
        q = self.network.metadata.get("max_payload_int")
        return None if not q else max(int(math.ceil(math.log2(max(q) + 1))), 1)

    def to_json(self) -> str:
        return json.dumps(self.summary, indent=2, default=json_default) + "\n"

    def save(self, path: str | Path, *, strict: bool = False) -> tuple[Path, Path]:
        """Write the NIR file ``path`` (standard nodes only when ``strict``) and ``path.json`` beside it.

        The JSON summary is written only after the NIR file: never one without the other.
        """
        from converters.nir_io import write_network

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.summary["nir"] = str(path)
        if strict:
            from converters.nir_strict import write_strict

            write_strict(self.network, path)
        else:
            write_network(self.network, path)
        json_path = write_atomic(path.with_suffix(".json"), self.to_json())
        return path, json_path

    def __repr__(self) -> str:
        shape = "-".join(str(n) for n in self.shape)
        return (f"ConversionResult(model={self.model!r}, coding={self.coding!r}, shape={shape}, "
                f"nonzero_synapses={self.nonzero_synapses}, weight_density={_fmt(self.weight_density, 3)}, "
                f"dataset={self.dataset!r})")


@dataclass
class SimulationResult:
    """What one simulation measured: an :class:`~neurosim.activity.ActivityRecord` and its network.

    Attributes
    ----------
    record : ActivityRecord
        Spike counts, synaptic operations, outputs (see :mod:`neurosim.activity`).
    network : SpikingNetwork or None
        The simulated network (None for a record loaded from disk).
    """

    record: Any
    network: Any = None

    # ---- totals over all samples
    @property
    def num_samples(self) -> int:
        return self.record.num_samples

    @property
    def timesteps(self) -> int:
        """Simulation steps ``T`` (each layer's window is ``T - l``)."""
        return self.record.timesteps

    @property
    def dt_s(self) -> float:
        return self.record.dt_s

    @property
    def backend(self) -> str:
        return self.record.backend

    @property
    def layers(self) -> list[Any]:
        return self.record.layers

    @property
    def synaptic_ops(self) -> int:
        """Total synaptic operations over all ``num_samples`` samples."""
        return self.record.synaptic_ops

    @property
    def total_spikes(self) -> int:
        """Total spikes (nonzero messages) over all samples and layers."""
        return self.record.total_spikes

    # ---- per inference
    @property
    def synaptic_ops_per_inference(self) -> float:
        """``synaptic_ops / num_samples``: each spike times its neuron's nonzero outgoing synapses."""
        return self.record.synaptic_ops / max(self.num_samples, 1)

    @property
    def spikes_per_inference(self) -> float:
        return self.record.total_spikes / max(self.num_samples, 1)

    @property
    def macs_per_inference(self) -> float | None:
        """Effective MACs of the source ANN on the same samples (nonzero weights fed by nonzero
        activations), per inference; None for a network not converted from a ReLU ANN."""
        macs = self.record.info.get("ann_macs") or {}
        return macs.get("effective")

    @property
    def mse_vs_input(self) -> float | None:
        return self.record.mse_vs_input

    @property
    def mse_vs_ann(self) -> float | None:
        return self.record.mse_vs_ann

    @property
    def dataset(self) -> str | None:
        return self.record.info.get("dataset")

    @property
    def split(self) -> str | None:
        return self.record.info.get("split")

    @property
    def data_dir(self) -> str | None:
        return self.record.info.get("data_dir")

    def summary(self) -> dict[str, Any]:
        """The record's JSON summary plus ``macs_per_inference``."""
        s = self.record.summary()
        s["macs_per_inference"] = self.macs_per_inference
        return s

    def to_json(self) -> str:
        return json.dumps(self.summary(), indent=2, default=json_default) + "\n"

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``<stem>.json`` and ``<stem>.npz`` (read back with :func:`neurosim.load_record`)."""
        return self.record.save(path)

    def __repr__(self) -> str:
        return (f"SimulationResult(backend={self.backend!r}, samples={self.num_samples}, T={self.timesteps}, "
                f"dataset={self.dataset!r}, split={self.split!r}, "
                f"synaptic_ops_per_inference={_fmt(self.synaptic_ops_per_inference)}, "
                f"spikes_per_inference={_fmt(self.spikes_per_inference)}, "
                f"macs_per_inference={_fmt(self.macs_per_inference)}, mse_vs_input={_fmt(self.mse_vs_input)})")


def _as_plain(estimate: Any) -> Any:
    """An estimate as plain JSON-ready values (dicts pass through; typed results convert)."""
    for name in ("as_dict", "to_dict"):
        if hasattr(estimate, name):
            return getattr(estimate, name)()
    return estimate


def _get(estimate: Any, key: str, default: Any = None) -> Any:
    if isinstance(estimate, dict):
        return estimate.get(key, default)
    return getattr(estimate, key, default)


@dataclass
class Estimates(Sequence):
    """Energy and latency estimates, one per (record, profile), as
    :func:`neurosim.hardware.estimate.estimate` returns them; a read-only sequence.
    """

    items: list[Any] = field(default_factory=list)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Estimates(self.items[index])
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    @property
    def profiles(self) -> list[str]:
        return list(dict.fromkeys(str(_get(e, "profile")) for e in self.items))

    def for_profile(self, name: str) -> "Estimates":
        """The estimates on profile ``name``."""
        return Estimates([e for e in self.items if _get(e, "profile") == name])

    def table(self) -> list[dict[str, Any]]:
        """One row per (estimate, operating mode) with the medians, for plots and data frames.

        Keys: ``profile``, ``kind``, ``model``, ``source``, ``mode`` ('latency' | 'throughput'),
        ``energy_total_j``, ``energy_dynamic_j``, ``energy_static_j`` (per inference, J),
        ``latency_s`` (s), ``inferences_per_s`` (1/s).
        """
        rows = []
        for e in self.to_list():
            for mode, m in (e.get("modes") or {}).items():
                row = {k: e.get(k) for k in ("profile", "kind", "model", "source")}
                row["mode"] = mode
                for key in ("energy_total_j", "energy_dynamic_j", "energy_static_j", "latency_s", "inferences_per_s"):
                    value = m.get(key)
                    row[key] = value.get("median") if isinstance(value, dict) else value
                rows.append(row)
        return rows

    def to_list(self) -> list[Any]:
        """Plain values (what ``neurosim report --format json`` writes)."""
        return [_as_plain(e) for e in self.items]

    def to_json(self) -> str:
        return json.dumps(self.to_list(), indent=2, default=json_default) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the JSON list (read back with :func:`neurosim.load_estimates`)."""
        return write_json(self.to_list(), path)

    def __repr__(self) -> str:
        models = sorted({str(_get(e, "model")) for e in self.items})
        return f"Estimates({len(self)} estimates: models {models}, profiles {self.profiles})"
