"""Autoencoder checkpoints: the contract between training and conversion.

A checkpoint is a ``.pt`` file that loads with ``torch.load(path, weights_only=True)``:
tensors and plain Python values only, never pickled code. Layout (format version 1)::

    {
      "format": "neurosim.autoencoder",
      "format_version": 1,
      "model": "dense" | "sparse" | "small_dense",
      "config": {                      # plain values
          "input_dim": d, "hidden": H, "gate": "none" | "threshold",
          "weight_sparsity": float,    # target fraction of pruned weights (0 for dense)
          "active_fraction": float | None,  # target fraction of active hidden units
          "output_activation": "sigmoid",
          "dataset": "digits" | "mnist", "image_shape": [h, w], "seed": int, ...
      },
      "state_dict": {
          "encoder.weight": (H, d), "encoder.bias": (H,),
          "decoder.weight": (d, H), "decoder.bias": (d,),
          "gate.threshold": (H,)       # only when config["gate"] == "threshold"
      },
      "masks": {"encoder.weight": bool (H, d), "decoder.weight": bool (d, H)},  # sparse only
      "calibration": {                 # hidden activations on the training set
          "percentiles": (P,) float,   # the percentile levels, e.g. 50, 90, 99, 99.9, 99.99, 100
          "hidden": (P,) float,        # those percentiles of all positive hidden activations
          "input": (P,) float,         # those percentiles of all positive input values
          "num_samples": int,
      },
    }

The forward pass every consumer relies on (pruned weights are exact zeros)::

    h = relu(x @ W_enc.T + b_enc - theta)     # theta = gate.threshold, 0 without a gate
    y = sigmoid(h @ W_dec.T + b_dec)
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from neurosim import limits
from neurosim.errors import CheckpointError
from neurosim.fileio import write_atomic

FORMAT = "neurosim.autoencoder"
FORMAT_VERSION = 1
REQUIRED_WEIGHTS = ("encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias")


def save_checkpoint(payload: dict[str, Any], path: str | Path) -> Path:
    """Write ``payload`` atomically (temporary file, then rename): never a half-written file."""
    import torch

    path = Path(path)
    validate_checkpoint(payload, path)
    buf = io.BytesIO()
    torch.save(payload, buf)
    return write_atomic(path, buf.getvalue())


def load_raw(path: str | Path) -> Any:
    """``torch.load(path, weights_only=True, mmap=True)`` with one-line errors naming the file.

    Sizes before values: the file's size and its zip members are checked against
    :mod:`neurosim.limits` before loading; the tensors are memory-mapped, not read, and
    :func:`check_structure` checks every tensor's dtype, shape, strides and storage before any
    value is touched (a zero-strided tensor expanded to 40,000 x 50,000 from a 15 KB file is
    refused without allocating it).
    """
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file does not exist")
    _check_container(path)
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)  # torch's legacy (non-zip) format
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if any(k in text for k in ("invalid load key", "could not find MARK", "truncated", "Unsupported operand")):
            raise CheckpointError(f"{path}: corrupt or not a PyTorch checkpoint") from None
        # torch's message continues with advice to disable weights_only: keep only the reason
        reason = next((line.strip() for line in text.splitlines() if "Unsupported global" in line),
                      "it holds pickled objects other than tensors").split(". ")[0]
        raise CheckpointError(f"{path}: refused by torch.load(weights_only=True): {reason} "
                              "(neurosim never unpickles code)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.split(". ")[0]  # torch appends paragraphs of advice
        raise CheckpointError(f"{path}: corrupt or not a PyTorch checkpoint ({first[:200]})") from None
    except Exception as exc:  # anything else torch's reader trips over on a malformed file
        raise CheckpointError(f"{path}: corrupt or not a PyTorch checkpoint ({type(exc).__name__})") from None
    check_structure(obj, path)
    return obj


def _check_container(path: Path) -> None:
    """File size and (zip format) member count and declared sizes against the caps."""
    import zipfile

    size, cap = path.stat().st_size, limits.max_file_bytes()
    if size > cap:
        raise CheckpointError(f"{path}: {size:,} bytes, over the cap of {cap:,} (NEUROSIM_MAX_FILE_BYTES)")
    if not zipfile.is_zipfile(path):
        return  # torch's legacy format or not a checkpoint: torch.load decides
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise CheckpointError(f"{path}: corrupt or not a PyTorch checkpoint (bad zip directory)") from None
    if len(infos) > limits.limit("MAX_ZIP_MEMBERS"):
        raise CheckpointError(f"{path}: {len(infos)} zip members, over the cap of {limits.limit('MAX_ZIP_MEMBERS')} "
                              "(NEUROSIM_MAX_ZIP_MEMBERS)")
    declared = sum(info.file_size for info in infos)
    if declared > cap:
        raise CheckpointError(f"{path}: zip members declare {declared:,} bytes, over the cap of {cap:,} "
                              "(NEUROSIM_MAX_FILE_BYTES)")


#: tensor dtypes a checkpoint may hold: real floats, integers and bool (masks)
_REAL_DTYPES = ("float16", "bfloat16", "float32", "float64", "bool", "uint8", "int8", "int16", "int32", "int64")


def check_structure(obj: Any, path: str | Path = "<checkpoint>") -> None:
    """Walk a loaded checkpoint without touching tensor values: containers, keys and tensor layouts.

    Refuses (:class:`CheckpointError`) nesting deeper than ``MAX_NESTING``, more than
    ``MAX_CONTAINER_ITEMS`` items, dictionary keys that are not strings, and any tensor that is
    complex, quantized or sparse, holds more than ``MAX_ARRAY_ELEMENTS`` elements (all together:
    ``MAX_TOTAL_ELEMENTS``) or more elements than its storage (an expanded, zero-strided view).
    """
    import torch

    max_depth, max_items = limits.limit("MAX_NESTING"), limits.limit("MAX_CONTAINER_ITEMS")
    max_elements, max_total = limits.max_array_elements(), limits.max_total_elements()
    stack: list[tuple[Any, str, int]] = [(obj, "", 0)]
    seen: set[int] = set()
    items = total = 0
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, torch.Tensor):
            _check_tensor(value, where or "<root>", path, max_elements)
            total += value.numel()
            if total > max_total:
                raise CheckpointError(f"{path}: tensors hold more than {max_total:,} elements in all "
                                      "(NEUROSIM_MAX_TOTAL_ELEMENTS)")
            continue
        if not isinstance(value, (dict, list, tuple, set, frozenset)) or id(value) in seen:
            continue
        seen.add(id(value))
        if depth >= max_depth:
            raise CheckpointError(f"{path}: containers nested deeper than {max_depth} levels at {where!r} "
                                  "(NEUROSIM_MAX_NESTING)")
        items += len(value)
        if items > max_items:
            raise CheckpointError(f"{path}: more than {max_items:,} items in its containers "
                                  "(NEUROSIM_MAX_CONTAINER_ITEMS)")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise CheckpointError(f"{path}: key {_short(key)} in {where or 'the top level'!r} is a "
                                          f"{type(key).__name__}, expected a string")
                stack.append((item, f"{where}.{key}" if where else key, depth + 1))
        else:
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def _check_tensor(t: Any, where: str, path: str | Path, max_elements: int) -> None:
    import torch

    dtype = str(t.dtype).replace("torch.", "")
    if dtype not in _REAL_DTYPES:
        raise CheckpointError(f"{path}: tensor {where!r} has dtype {dtype}; expected real floats, integers or bool")
    if t.layout is not torch.strided:
        raise CheckpointError(f"{path}: tensor {where!r} has layout {t.layout}; expected a dense (strided) tensor")
    n = 1
    for d in t.shape:
        n *= int(d)
    if n > max_elements:
        raise CheckpointError(f"{path}: tensor {where!r} declares shape {tuple(t.shape)} ({n:,} elements), over the "
                              f"cap of {max_elements:,} (NEUROSIM_MAX_ARRAY_ELEMENTS)")
    stored = t.untyped_storage().nbytes() // max(t.element_size(), 1)
    if n > stored:
        raise CheckpointError(f"{path}: tensor {where!r} declares shape {tuple(t.shape)} ({n:,} elements) but its "
                              f"storage holds {stored:,} (an expanded or overlapping view); save a contiguous tensor")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_neurosim_checkpoint(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("format") == FORMAT


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and validate a neurosim autoencoder checkpoint."""
    obj = load_raw(path)
    if not is_neurosim_checkpoint(obj):
        raise CheckpointError(f"{path}: not a neurosim autoencoder checkpoint (no format={FORMAT!r} key)")
    validate_checkpoint(obj, path)
    return obj


def validate_checkpoint(obj: dict[str, Any], path: str | Path = "<checkpoint>") -> None:
    """Check the layout above; raise :class:`CheckpointError` naming the first problem.

    Structure before content: types, then shapes and dtypes of every tensor, then values
    (finite weights; calibration statistics finite, non-negative and ordered).
    """
    import torch

    check_structure(obj, path)
    version = obj.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: unsupported format_version {_short(version)} "
                              f"(this neurosim reads {FORMAT_VERSION})")
    config = obj.get("config")
    sd = obj.get("state_dict")
    if not isinstance(config, dict) or not isinstance(sd, dict):
        raise CheckpointError(f"{path}: 'config' and 'state_dict' must be dictionaries")
    if not isinstance(obj.get("model", ""), str):
        raise CheckpointError(f"{path}: 'model' must be a string, got {type(obj['model']).__name__}")
    _check_config(config, path)
    for key in REQUIRED_WEIGHTS:
        if key not in sd or not isinstance(sd[key], torch.Tensor):
            raise CheckpointError(f"{path}: state_dict lacks tensor {key!r}")
    w = sd["encoder.weight"]
    if w.ndim != 2 or 0 in w.shape:
        raise CheckpointError(f"{path}: encoder.weight has shape {tuple(w.shape)}, expected (hidden, inputs) "
                              "with both at least 1")
    h, d = (int(n) for n in w.shape)
    shapes = {"encoder.weight": (h, d), "encoder.bias": (h,), "decoder.weight": (d, h), "decoder.bias": (d,)}
    gate = config.get("gate", "none")
    if gate not in ("none", "threshold", None):
        raise CheckpointError(f"{path}: config gate must be 'none' or 'threshold', got {_short(gate)}")
    if gate == "threshold":
        shapes["gate.threshold"] = (h,)
        if not isinstance(sd.get("gate.threshold"), torch.Tensor):
            raise CheckpointError(f"{path}: config says gate='threshold' but state_dict lacks tensor 'gate.threshold'")
    for key, shape in shapes.items():
        if tuple(sd[key].shape) != shape:
            raise CheckpointError(f"{path}: {key} has shape {tuple(sd[key].shape)}, expected {shape}")
        if not sd[key].is_floating_point():
            raise CheckpointError(f"{path}: {key} has dtype {str(sd[key].dtype).replace('torch.', '')}, "
                                  "expected real floats")
    masks = obj.get("masks") or {}
    if not isinstance(masks, dict):
        raise CheckpointError(f"{path}: 'masks' must be a dictionary of bool tensors")
    for key, mask in masks.items():
        if key not in ("encoder.weight", "decoder.weight") or not isinstance(mask, torch.Tensor) \
                or tuple(mask.shape) != shapes[key]:
            raise CheckpointError(f"{path}: mask {key!r} does not match a weight of the same shape")
        if mask.dtype is not torch.bool:
            raise CheckpointError(f"{path}: mask {key!r} has dtype {str(mask.dtype).replace('torch.', '')}, "
                                  "expected bool")
    for key in shapes:  # values last, once every shape is known to be right
        if not torch.isfinite(sd[key]).all():
            raise CheckpointError(f"{path}: {key} contains NaN or infinite values")
    for key, n in (("input_dim", d), ("hidden", h)):
        if key in config and config[key] != n:
            raise CheckpointError(f"{path}: config says {key} = {_short(config[key])} but the weights are "
                                  f"{d} inputs - {h} hidden")
    if obj.get("calibration") is not None:
        _check_calibration(obj["calibration"], path)


def _check_config(config: dict[str, Any], path: str | Path) -> None:
    """Config values are plain JSON values with finite numbers; the documented keys have their types."""
    stack = [(config, "config")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, f"{where}.{k}") for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise CheckpointError(f"{path}: {where} is {value}, expected a finite number")
        elif value is not None and not isinstance(value, (str, int, float)):
            raise CheckpointError(f"{path}: {where} is a {type(value).__name__}, expected a plain value "
                                  "(string, number, list or dictionary)")
    for key in ("input_dim", "hidden", "seed"):
        if key in config and (type(config[key]) is not int or config[key] < 0):
            raise CheckpointError(f"{path}: config {key} must be a non-negative integer, got {_short(config[key])}")
    for key in ("weight_sparsity", "active_fraction"):
        value = config.get(key)
        if value is not None and (type(value) not in (int, float) or not 0 <= value <= 1):
            raise CheckpointError(f"{path}: config {key} must be a fraction in [0, 1], got {_short(value)}")
    for key in ("output_activation", "dataset", "gate"):
        if config.get(key) is not None and not isinstance(config[key], str):
            raise CheckpointError(f"{path}: config {key} must be a string, got {_short(config[key])}")
    shape = config.get("image_shape")
    if shape is not None:
        if not isinstance(shape, (list, tuple)) or len(shape) != 2 or \
                not all(type(n) is int and n > 0 for n in shape):
            raise CheckpointError(f"{path}: config image_shape must be [height, width] of positive integers, "
                                  f"got {_short(shape)}")
        if "input_dim" in config and shape[0] * shape[1] != config["input_dim"]:
            raise CheckpointError(f"{path}: config image_shape {list(shape)} does not hold input_dim = "
                                  f"{config['input_dim']} pixels")


#: most percentile levels a calibration may store
MAX_CALIBRATION_LEVELS = 1000


def _check_calibration(cal: Any, path: str | Path) -> None:
    """Percentile levels in [0, 100], increasing; statistics finite, non-negative, non-decreasing."""
    if not isinstance(cal, dict):
        raise CheckpointError(f"{path}: 'calibration' must be a dictionary")
    for key in ("percentiles", "hidden"):
        if key not in cal:
            raise CheckpointError(f"{path}: calibration lacks {key!r}")
    levels = _real_vector(cal["percentiles"], "calibration.percentiles", path)
    if levels.min() < 0 or levels.max() > 100 or (levels.size > 1 and not (levels[1:] > levels[:-1]).all()):
        raise CheckpointError(f"{path}: calibration.percentiles must increase within [0, 100], got "
                              f"{_short(levels.tolist())}")
    for key in ("hidden", "input"):
        if cal.get(key) is None and key == "input":
            continue
        values = _real_vector(cal[key], f"calibration.{key}", path)
        if values.shape != levels.shape:
            raise CheckpointError(f"{path}: calibration.{key} has {values.size} values for {levels.size} percentiles")
        if values.min() < 0 or (values.size > 1 and not (values[1:] >= values[:-1]).all()):
            raise CheckpointError(f"{path}: calibration.{key} must be non-negative and non-decreasing (percentiles "
                                  f"of positive activations), got {_short(values.tolist())}")
    n = cal.get("num_samples", 0)
    if n is not None and (type(n) is not int or n < 0):
        raise CheckpointError(f"{path}: calibration.num_samples must be a non-negative integer, got {_short(n)}")


def _real_vector(value: Any, where: str, path: str | Path):
    """A 1-D float64 array of 1..MAX_CALIBRATION_LEVELS finite real numbers from a tensor or a list."""
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        if value.ndim != 1 or not 1 <= value.numel() <= MAX_CALIBRATION_LEVELS or value.dtype is torch.bool \
                or value.is_complex():
            raise CheckpointError(f"{path}: {where} must be a 1-D tensor of 1 to {MAX_CALIBRATION_LEVELS} real "
                                  f"numbers, got {str(value.dtype).replace('torch.', '')} {tuple(value.shape)}")
        arr = value.detach().to(torch.float64).numpy()
    elif isinstance(value, (list, tuple)) and 1 <= len(value) <= MAX_CALIBRATION_LEVELS \
            and all(type(v) in (int, float) for v in value):
        arr = np.asarray(value, dtype=np.float64)
    else:
        raise CheckpointError(f"{path}: {where} must be a 1-D tensor or list of 1 to {MAX_CALIBRATION_LEVELS} real "
                              f"numbers, got {_short(value)}")
    if not np.isfinite(arr).all():
        raise CheckpointError(f"{path}: {where} contains NaN or infinite values")
    return arr
