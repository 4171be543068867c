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

from pathlib import Path
from typing import Any

from neurosim.errors import CheckpointError

FORMAT = "neurosim.autoencoder"
FORMAT_VERSION = 1
REQUIRED_WEIGHTS = ("encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias")


def save_checkpoint(payload: dict[str, Any], path: str | Path) -> Path:
    """Write ``payload`` atomically (temporary file, then rename): never a half-written file."""
    import torch

    path = Path(path)
    validate_checkpoint(payload, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_raw(path: str | Path) -> Any:
    """``torch.load(path, weights_only=True)`` with one-line errors naming the file."""
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
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
        raise CheckpointError(f"{path}: corrupt or not a PyTorch checkpoint ({first})") from None


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
    """Check the layout above; raise :class:`CheckpointError` naming the first problem."""
    import torch

    if obj.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: unsupported format_version {obj.get('format_version')!r} "
                              f"(this neurosim reads {FORMAT_VERSION})")
    config = obj.get("config")
    sd = obj.get("state_dict")
    if not isinstance(config, dict) or not isinstance(sd, dict):
        raise CheckpointError(f"{path}: 'config' and 'state_dict' must be dictionaries")
    for key in REQUIRED_WEIGHTS:
        if key not in sd or not isinstance(sd[key], torch.Tensor):
            raise CheckpointError(f"{path}: state_dict lacks tensor {key!r}")
        if not torch.isfinite(sd[key]).all():
            raise CheckpointError(f"{path}: {key} contains NaN or infinite values")
    h, d = sd["encoder.weight"].shape
    shapes = {"encoder.bias": (h,), "decoder.weight": (d, h), "decoder.bias": (d,)}
    if config.get("gate") == "threshold":
        shapes["gate.threshold"] = (h,)
        if "gate.threshold" not in sd:
            raise CheckpointError(f"{path}: config says gate='threshold' but state_dict lacks 'gate.threshold'")
    for key, shape in shapes.items():
        if tuple(sd[key].shape) != shape:
            raise CheckpointError(f"{path}: {key} has shape {tuple(sd[key].shape)}, expected {shape}")
    for key, mask in (obj.get("masks") or {}).items():
        if key not in sd or tuple(mask.shape) != tuple(sd[key].shape):
            raise CheckpointError(f"{path}: mask {key!r} does not match a weight of the same shape")
    if config.get("input_dim", d) != d or config.get("hidden", h) != h:
        raise CheckpointError(f"{path}: config says {config.get('input_dim')}-{config.get('hidden')} "
                              f"but weights are {d}-{h}")
