"""Checks of an activity record read from disk (:func:`neurosim.activity.load_record`).

Structure before content: the JSON summary's fields are checked for type, sign and range
first (``timesteps`` a positive integer, ``dt_s`` in :data:`neurosim.limits.DT_S_RANGE`, every
count a non-negative integer, each layer's ``window`` at most ``timesteps``); then the NPZ
arrays are read with their headers and sizes checked before their data
(:func:`neurosim.arrayfiles.read_npz`); then the two files are checked against each other:

* ``inputs`` (N, n_0) and ``outputs`` (N, n_{L-1}) real and finite, N >= 1 (an empty record
  would give NaN results); ``labels`` (N,) integers; ``ann_outputs`` shaped as ``outputs``;
* per layer l: ``spike_counts`` (N, n_l) integers in [0, window_l] (one message per enabled
  step at most); ``fan_out`` (n_l,) equal to the column sums of the next layer's synapse mask
  (0 for the last layer); ``connection{l}_mask`` (n_l, n_{l-1}) bool;
* per layer: ``synaptic_ops`` = sum over neurons of spikes x fan_out, ``neuron_updates`` =
  N x n_l x window_l, ``active_neuron_updates`` <= ``neuron_updates`` (the counting rules of
  :mod:`neurosim.network`);
* optional, per layer l: ``layer{l}_step_counts`` (T, n_l) integers in [0, N], zero before the
  layer is enabled, its sum over the steps equal to ``spike_counts`` summed over the samples.

Every failure is a :class:`~neurosim.errors.RecordError` naming the file and the field.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from neurosim import limits
from neurosim.errors import RecordError
from neurosim.network import KINDS

#: most layers a record may describe
MAX_LAYERS = 1000


def read_json(path: Path) -> dict[str, Any]:
    """The JSON summary, size-capped, as a dict (``NaN``/``Infinity`` literals are read, then refused by the checks)."""
    import json

    size, cap = path.stat().st_size, limits.max_file_bytes()
    if size > cap:
        raise RecordError(f"{path}: {size:,} bytes, over the cap of {cap:,} (NEUROSIM_MAX_FILE_BYTES)")
    try:
        meta = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise RecordError(f"{path}: not valid JSON ({text})") from None
    return meta


def _int(value: Any, where: str, path: Path, low: int = 0) -> int:
    if type(value) is not int or value < low:
        raise RecordError(f"{path}: {where} must be an integer >= {low}, got {_short(value)}")
    return value


def _real(value: Any, where: str, path: Path, low: float, high: float = math.inf) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        raise RecordError(f"{path}: {where} must be a finite number in [{low:g}, {high:g}], got {_short(value)}")
    return float(value)


def _str(value: Any, where: str, path: Path) -> str:
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise RecordError(f"{path}: {where} must be a non-empty string, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_meta(meta: Any, path: Path, record_format: str, version: int) -> dict[str, Any]:
    """The JSON summary's fields: types, signs, ranges. Returns the plain values load_record needs."""
    if not isinstance(meta, dict) or meta.get("format") != record_format:
        raise RecordError(f"{path}: not a neurosim activity record (format != {record_format!r})")
    v = meta.get("format_version", version)
    if type(v) is not int or not 1 <= v <= version:
        raise RecordError(f"{path}: format_version must be an integer from 1 to {version}, got {_short(v)}")
    out: dict[str, Any] = {
        "backend": _str(meta.get("backend"), "backend", path),
        "backend_version": meta.get("backend_version"),
        "timesteps": _int(meta.get("timesteps"), "timesteps", path, 1),
        "dt_s": _real(meta.get("dt_s"), "dt_s", path, *limits.DT_S_RANGE),
        "wall_time_s": _real(meta.get("wall_time_s"), "wall_time_s", path, 0.0),
    }
    if not isinstance(out["backend_version"], str):
        raise RecordError(f"{path}: backend_version must be a string, got {_short(out['backend_version'])}")
    for key in ("network", "versions", "info"):
        if not isinstance(meta.get(key, {}), dict):
            raise RecordError(f"{path}: {key} must be a JSON object, got {_short(meta.get(key))}")
    if "num_samples" in meta:
        _int(meta["num_samples"], "num_samples", path, 1)
    fields = meta.get("layer_fields")
    if not isinstance(fields, list) or not 2 <= len(fields) <= MAX_LAYERS:
        raise RecordError(f"{path}: layer_fields must be a list of 2 to {MAX_LAYERS} layers, got {_short(fields)}")
    layers, names = [], set()
    for i, lf in enumerate(fields):
        where = f"layer_fields[{i}]"
        if not isinstance(lf, dict):
            raise RecordError(f"{path}: {where} must be a JSON object, got {_short(lf)}")
        name = _str(lf.get("name"), f"{where}.name", path)
        if name in names:
            raise RecordError(f"{path}: {where}.name {name!r} appears twice")
        names.add(name)
        kind = lf.get("kind")
        if kind not in KINDS or (kind == "input") != (i == 0):
            raise RecordError(f"{path}: {where}.kind must be {'input' if i == 0 else 'a neuron kind'} (one of "
                              f"{', '.join(KINDS)}), got {_short(kind)}")
        window = lf["window"] if "window" in lf else lf.get("timesteps")  # older records: timesteps
        layers.append({
            "name": name, "kind": kind, "size": _int(lf.get("size"), f"{where}.size", path, 1),
            "window": _int(window, f"{where}.window", path, 0),
            "synaptic_ops": _int(lf.get("synaptic_ops"), f"{where}.synaptic_ops", path),
            "neuron_updates": _int(lf.get("neuron_updates"), f"{where}.neuron_updates", path),
            "active_neuron_updates": _int(lf.get("active_neuron_updates"), f"{where}.active_neuron_updates", path)})
        if layers[-1]["window"] > out["timesteps"]:
            raise RecordError(f"{path}: {where}.window {layers[-1]['window']} exceeds timesteps {out['timesteps']}")
    out["layers"] = layers
    return out


def _array(arrays: dict[str, np.ndarray], key: str, path: Path, shape: tuple[int, ...], kinds: str,
           required: bool = True) -> np.ndarray | None:
    if key not in arrays:
        if required:
            raise RecordError(f"{path}: array {key!r} is missing")
        return None
    a = arrays[key]
    if a.shape != shape or a.dtype.kind not in kinds:
        names = {"b": "bool", "i": "int", "u": "uint", "f": "float"}
        raise RecordError(f"{path}: array {key!r} is {a.dtype} {a.shape}, expected "
                          f"{'/'.join(names[k] for k in kinds)} {shape}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise RecordError(f"{path}: array {key!r} contains NaN or infinite values")
    return a


def check_arrays(meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path, json_path: Path) -> None:
    """Arrays against the summary and each other (see the module docstring); fills ``meta`` with them."""
    layers = meta["layers"]
    inputs = arrays.get("inputs")
    if inputs is None or inputs.ndim != 2 or inputs.shape[0] < 1:
        raise RecordError(f"{path}: array 'inputs' must be (N, {layers[0]['size']}) with N >= 1 samples, got "
                          f"{None if inputs is None else inputs.shape}")
    n = inputs.shape[0]
    meta["inputs"] = _array(arrays, "inputs", path, (n, layers[0]["size"]), "biuf")
    meta["outputs"] = _array(arrays, "outputs", path, (n, layers[-1]["size"]), "biuf")
    meta["labels"] = _array(arrays, "labels", path, (n,), "iu", required=False)
    meta["ann_outputs"] = _array(arrays, "ann_outputs", path, (n, layers[-1]["size"]), "biuf", required=False)
    masks = [_array(arrays, f"connection{l}_mask", path, (layers[l]["size"], layers[l - 1]["size"]), "b")
             for l in range(1, len(layers))]
    for l, lf in enumerate(layers):
        counts = _array(arrays, f"layer{l}_spike_counts", path, (n, lf["size"]), "iu")
        fan_out = _array(arrays, f"layer{l}_fan_out", path, (lf["size"],), "iu")
        if counts.size and (counts.min() < 0 or counts.max() > lf["window"]):
            raise RecordError(f"{path}: layer{l}_spike_counts must lie in [0, {lf['window']}] (one message per "
                              f"enabled step), got [{counts.min()}, {counts.max()}]")
        expected_fan_out = masks[l].sum(axis=0) if l + 1 < len(layers) else np.zeros(lf["size"], np.int64)
        if not np.array_equal(fan_out, expected_fan_out):
            raise RecordError(f"{path}: layer{l}_fan_out does not match the synapses of connection{l + 1}_mask"
                              if l + 1 < len(layers) else f"{path}: layer{l}_fan_out of the last layer must be 0")
        spikes = counts.sum(axis=0, dtype=np.int64)
        ops = int(spikes.astype(object).dot(fan_out.astype(object)))
        if ops != lf["synaptic_ops"]:
            raise RecordError(f"{json_path}: layer_fields[{l}].synaptic_ops is {lf['synaptic_ops']} but the spikes and "
                              f"fan-out give {ops}")
        if lf["neuron_updates"] != n * lf["size"] * lf["window"]:
            raise RecordError(f"{json_path}: layer_fields[{l}].neuron_updates is {lf['neuron_updates']}, expected "
                              f"N x size x window = {n * lf['size'] * lf['window']}")
        if lf["active_neuron_updates"] > lf["neuron_updates"]:
            raise RecordError(f"{json_path}: layer_fields[{l}].active_neuron_updates exceeds neuron_updates")
        lf["spike_counts"], lf["fan_out"] = counts, fan_out
        lf["step_counts"] = _step_counts(arrays, l, lf, meta["timesteps"], n, spikes, path)
    meta["connections"] = masks


def _step_counts(arrays: dict[str, np.ndarray], l: int, lf: dict[str, Any], timesteps: int, n: int,
                 spikes: np.ndarray, path: Path) -> np.ndarray | None:
    """The optional ``layer{l}_step_counts`` (T, n_l): in [0, N], zero before the layer is enabled, summing to the counts."""
    key = f"layer{l}_step_counts"
    steps = _array(arrays, key, path, (timesteps, lf["size"]), "iu", required=False)
    if steps is None:
        return None
    if steps.size and (steps.min() < 0 or steps.max() > n):
        raise RecordError(f"{path}: {key} must lie in [0, {n}] (one message per sample and step), got "
                          f"[{steps.min()}, {steps.max()}]")
    if steps[:timesteps - lf["window"]].any():
        raise RecordError(f"{path}: {key} has spikes before step {timesteps - lf['window']}, when the layer is enabled")
    if not np.array_equal(steps.sum(axis=0, dtype=np.int64), spikes):
        raise RecordError(f"{path}: {key} summed over the steps does not equal layer{l}_spike_counts summed over "
                          "the samples")
    return steps
