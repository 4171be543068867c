"""The trained autoencoders as the report reads them: torch models rebuilt from checkpoints.

The report never re-implements the forward pass: it rebuilds
:class:`~neurosim.training.models.DenseAutoencoder` /
:class:`~neurosim.training.models.SparseAutoencoder` from a checkpoint
(:mod:`neurosim.checkpoint`) and calls the model's own ``forward``,
``h = relu(x W_enc^T + b_enc - theta)``, ``y = sigmoid(h W_dec^T + b_dec)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from neurosim.training.models import DenseAutoencoder, SparseAutoencoder


def model_from_checkpoint(payload: dict[str, Any]) -> DenseAutoencoder:
    """The trained model of a loaded checkpoint (float64, eval mode, masks restored)."""
    cfg = payload["config"]
    sparse = cfg.get("gate") == "threshold"
    model = (SparseAutoencoder if sparse else DenseAutoencoder)(int(cfg["input_dim"]), int(cfg["hidden"]))
    state = dict(payload["state_dict"])
    if sparse:
        masks = payload.get("masks") or {}
        state["mask_encoder"] = masks.get("encoder.weight", model.mask_encoder).bool()
        state["mask_decoder"] = masks.get("decoder.weight", model.mask_decoder).bool()
    model.load_state_dict(state)
    return model.double().eval()


@torch.no_grad()
def forward(model: DenseAutoencoder, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(y, h)``: reconstructions (N, d) and gated hidden activations (N, H) of ``x`` (N, d)."""
    dtype = next(model.parameters()).dtype
    y, h = model(torch.as_tensor(np.asarray(x)).to(dtype))
    return y.double().numpy(), h.double().numpy()


def surviving(model: DenseAutoencoder) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the surviving (unpruned, nonzero) weights: encoder (H, d), decoder (d, H)."""
    w = {k: v.detach().cpu().numpy() != 0 for k, v in model.weight_tensors().items()}
    masks = model.masks()
    if masks is not None:
        w = {k: v & masks[k].cpu().numpy() for k, v in w.items()}
    return w["encoder.weight"], w["decoder.weight"]


def weights(model: DenseAutoencoder) -> dict[str, np.ndarray]:
    """``encoder.weight`` (H, d), ``decoder.weight`` (d, H) and ``decoder.bias`` (d,) as numpy."""
    return {"encoder.weight": model.encoder.weight.detach().double().numpy(),
            "decoder.weight": model.decoder.weight.detach().double().numpy(),
            "decoder.bias": model.decoder.bias.detach().double().numpy()}


__all__ = ["model_from_checkpoint", "forward", "surviving", "weights"]
