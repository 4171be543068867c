"""Activity records: what a simulation measured, the contract between backends and reports.

Every backend returns an :class:`ActivityRecord` with the same fields and units for the
same network and inputs. On disk a record is two files side by side: ``NAME.json`` (the
summary, human-readable, every scalar) and ``NAME.npz`` (the arrays). ``save`` writes both
atomically; ``load_record`` reads either path.

Per layer (see :mod:`neurosim.network` for the exact counting rules):

* ``window`` int: ``T_l = T - l``, the steps layer ``l`` is enabled (the record's
  ``timesteps`` is ``T``). Records written before this name hold it as ``timesteps``.
* ``spike_counts`` (N, n) integers, in the smallest signed type that holds ``T`` (int8 for
  T <= 127): spikes (any nonzero message, binary or graded) per sample and neuron; zeros for
  non-spiking layers.
* ``synaptic_ops`` int: total over all samples of spikes x nonzero outgoing synapses.
* ``neuron_updates`` int: total neuron-steps simulated (N x n x T_l).
* ``active_neuron_updates`` int: neuron-steps with a nonzero input message or a spike.
* ``fan_out`` (n,) int64: nonzero outgoing synapses per neuron (0 for the last layer).
* ``step_counts`` (T, n) int32, optional: spikes of each neuron at each step ``k``, summed
  over all samples (zeros at the steps ``k < l`` before the layer is enabled);
  ``step_counts.sum(axis=0) == spike_counts.sum(axis=0)``. ``None`` when the backend does
  not measure it (and in records written before it existed). Size ``4 T n`` bytes per layer:
  2 MiB for 16,384 neurons x 32 steps. Derived: ``spikes_per_step`` (T,) and
  ``synaptic_ops_per_step`` (T,) ``= step_counts @ fan_out``, totals over all samples.

``connections`` holds, per layer l >= 1, the boolean synapse mask (n_l, n_{l-1}) so that
cost models (crossbar tiles) need no other file. ``outputs`` (N, d_out) are the decoded
outputs, ``inputs`` (N, d_in) the samples, ``ann_outputs`` the ANN's own reconstruction
when known. ``synaptic_ops`` and ``total_spikes`` are totals over all ``num_samples`` samples;
``synaptic_ops_per_inference`` and ``spikes_per_inference`` are those totals divided by
``num_samples``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurosim.errors import RecordError
from neurosim.fileio import write_atomic, write_json

RECORD_FORMAT = "neurosim.activity"
RECORD_VERSION = 1


@dataclass
class LayerActivity:
    name: str
    kind: str
    size: int
    window: int  # T_l = T - l: steps the layer is enabled
    spike_counts: np.ndarray
    synaptic_ops: int
    neuron_updates: int
    active_neuron_updates: int
    fan_out: np.ndarray
    step_counts: np.ndarray | None = None  # (T, n) int32, spikes per step summed over samples

    @property
    def total_spikes(self) -> int:
        return int(self.spike_counts.sum())

    @property
    def spikes_per_step(self) -> np.ndarray | None:
        """Spikes of the layer at each step, all samples, ``(T,)`` int64 (None without ``step_counts``)."""
        if self.step_counts is None:
            return None
        return self.step_counts.sum(axis=1, dtype=np.int64)

    @property
    def synaptic_ops_per_step(self) -> np.ndarray | None:
        """Synaptic operations sent at each step, all samples: ``step_counts @ fan_out``, ``(T,)`` int64."""
        if self.step_counts is None:
            return None
        return self.step_counts.astype(np.int64) @ np.asarray(self.fan_out, dtype=np.int64)

    def summary(self, num_samples: int) -> dict[str, Any]:
        n = max(num_samples, 1)
        active = (self.spike_counts > 0).mean() if self.spike_counts.size else 0.0
        return {
            "name": self.name, "kind": self.kind, "size": self.size, "window": self.window,
            "total_spikes": self.total_spikes, "synaptic_ops": int(self.synaptic_ops),
            "neuron_updates": int(self.neuron_updates), "active_neuron_updates": int(self.active_neuron_updates),
            "spikes_per_inference": self.total_spikes / n, "synaptic_ops_per_inference": self.synaptic_ops / n,
            "neuron_updates_per_inference": self.neuron_updates / n,
            "active_neuron_updates_per_inference": self.active_neuron_updates / n,
            "active_fraction": float(active),
            "nonzero_outgoing_synapses": int(self.fan_out.sum()),
        }


@dataclass
class ActivityRecord:
    backend: str
    backend_version: str
    timesteps: int
    dt_s: float
    layers: list[LayerActivity]
    outputs: np.ndarray
    inputs: np.ndarray
    connections: list[np.ndarray]
    wall_time_s: float
    network: dict[str, Any] = field(default_factory=dict)  # SpikingNetwork.summary() + path
    labels: np.ndarray | None = None
    ann_outputs: np.ndarray | None = None
    versions: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # dataset, coding, seed, ...
    #: per-step spikes of the samples a run was asked to record (layer name -> bool (R, T, n)); not saved
    step_spikes: dict[str, np.ndarray] | None = None

    @property
    def num_samples(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def mse_vs_input(self) -> float | None:
        if self.outputs.shape != self.inputs.shape:
            return None
        return float(np.mean((self.outputs - self.inputs) ** 2))

    @property
    def mse_vs_ann(self) -> float | None:
        if self.ann_outputs is None:
            return None
        return float(np.mean((self.outputs - self.ann_outputs) ** 2))

    @property
    def synaptic_ops(self) -> int:
        """Total synaptic operations over all ``num_samples`` samples."""
        return int(sum(layer.synaptic_ops for layer in self.layers))

    @property
    def total_spikes(self) -> int:
        """Total spikes over all samples and layers."""
        return int(sum(layer.total_spikes for layer in self.layers))

    @property
    def synaptic_ops_per_inference(self) -> float:
        """``synaptic_ops / num_samples``."""
        return self.synaptic_ops / max(self.num_samples, 1)

    @property
    def spikes_per_inference(self) -> float:
        """``total_spikes / num_samples``."""
        return self.total_spikes / max(self.num_samples, 1)

    def layer(self, name: str) -> LayerActivity:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def summary(self) -> dict[str, Any]:
        n = max(self.num_samples, 1)
        ann_mse = None
        if self.ann_outputs is not None and self.ann_outputs.shape == self.inputs.shape:
            ann_mse = float(np.mean((self.ann_outputs - self.inputs) ** 2))
        return {
            "format": RECORD_FORMAT, "format_version": RECORD_VERSION,
            "backend": self.backend, "backend_version": self.backend_version,
            "versions": self.versions, "num_samples": self.num_samples,
            "timesteps": self.timesteps, "dt_s": self.dt_s, "wall_time_s": self.wall_time_s,
            "mse_vs_input": self.mse_vs_input, "mse_vs_ann": self.mse_vs_ann, "ann_mse_vs_input": ann_mse,
            "total_spikes": self.total_spikes, "synaptic_ops": self.synaptic_ops,
            "spikes_per_inference": self.total_spikes / n, "synaptic_ops_per_inference": self.synaptic_ops / n,
            "layers": [layer.summary(self.num_samples) for layer in self.layers],
            "network": self.network, "info": self.info,
        }

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``<stem>.json`` and ``<stem>.npz`` (``path`` may carry either suffix or none)."""
        stem = _stem(path)
        stem.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {"outputs": self.outputs, "inputs": self.inputs}
        if self.labels is not None:
            arrays["labels"] = self.labels
        if self.ann_outputs is not None:
            arrays["ann_outputs"] = self.ann_outputs
        for i, layer in enumerate(self.layers):
            arrays[f"layer{i}_spike_counts"] = layer.spike_counts
            arrays[f"layer{i}_fan_out"] = layer.fan_out
            if layer.step_counts is not None:
                arrays[f"layer{i}_step_counts"] = np.asarray(layer.step_counts, dtype=np.int32)
        for i, mask in enumerate(self.connections):
            arrays[f"connection{i + 1}_mask"] = np.asarray(mask, dtype=bool)
        meta = self.summary()
        meta["layer_fields"] = [
            {"name": l.name, "kind": l.kind, "size": l.size, "window": l.window,
             "synaptic_ops": int(l.synaptic_ops), "neuron_updates": int(l.neuron_updates),
             "active_neuron_updates": int(l.active_neuron_updates)} for l in self.layers]
        npz_path, json_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        write_atomic(npz_path, buf.getvalue())
        write_json(meta, json_path)
        return json_path, npz_path


def load_record(path: str | Path) -> ActivityRecord:
    """Read a record from ``<stem>.json`` + ``<stem>.npz``; one-line errors naming the file.

    ``step_counts`` is optional: records without it load with ``step_counts=None``.

    The summary's fields are checked first, then the arrays' headers and sizes, then the
    arrays' contents against the summary (:mod:`neurosim.record_checks`).
    """
    from neurosim.arrayfiles import read_npz
    from neurosim.record_checks import check_arrays, check_meta, read_json

    stem = _stem(path)
    json_path, npz_path = stem.with_suffix(".json"), stem.with_suffix(".npz")
    for p in (json_path, npz_path):
        if not p.is_file():
            raise RecordError(f"{p}: activity record file does not exist")
    meta = read_json(json_path)
    fields = check_meta(meta, json_path, RECORD_FORMAT, RECORD_VERSION)
    check_arrays(fields, read_npz(npz_path, RecordError), npz_path, json_path)
    if "num_samples" in meta and meta["num_samples"] != fields["inputs"].shape[0]:
        raise RecordError(f"{json_path}: num_samples is {meta['num_samples']} but {npz_path.name} holds "
                          f"{fields['inputs'].shape[0]} samples")
    layers = [LayerActivity(name=lf["name"], kind=lf["kind"], size=lf["size"], window=lf["window"],
                            spike_counts=lf["spike_counts"], synaptic_ops=lf["synaptic_ops"],
                            neuron_updates=lf["neuron_updates"], active_neuron_updates=lf["active_neuron_updates"],
                            fan_out=lf["fan_out"], step_counts=lf.get("step_counts"))
              for lf in fields["layers"]]
    return ActivityRecord(
        backend=fields["backend"], backend_version=fields["backend_version"], timesteps=fields["timesteps"],
        dt_s=fields["dt_s"], layers=layers, outputs=fields["outputs"], inputs=fields["inputs"],
        connections=fields["connections"], wall_time_s=fields["wall_time_s"], network=meta.get("network", {}),
        labels=fields["labels"], ann_outputs=fields["ann_outputs"],
        versions=meta.get("versions", {}), info=meta.get("info", {}))


def _stem(path: str | Path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".json", ".npz") else path

