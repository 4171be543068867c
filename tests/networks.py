"""Test networks and an independent simulator of them.

* :func:`make_checkpoint`: a small random autoencoder checkpoint built with torch exactly as
  :mod:`neurosim.checkpoint` documents the format (not with the trainer), optionally pruned and
  gated, with calibration statistics.
* :func:`naive_run`: a step-by-step simulator written straight from the :mod:`neurosim.network`
  docstring, free of the reference engine's optimisations, the independent expectation the
  engine's spike counts, active updates and outputs are checked against.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

PERCENTILES = (50.0, 90.0, 99.0, 99.9, 99.99, 100.0)


def make_checkpoint(path: Path, model: str = "sparse", d: int = 64, hidden: int = 32, seed: int = 0,
                    sparsity: float = 0.8, calibration: bool = True) -> Path:
    """A small random autoencoder checkpoint in format 1 (digits-sized by default)."""
    import torch

    from neurosim.checkpoint import FORMAT, FORMAT_VERSION, save_checkpoint
    from neurosim.data import load_dataset

    g = torch.Generator().manual_seed(seed)
    w_enc = torch.randn(hidden, d, generator=g) * (2.0 / d) ** 0.5
    b_enc = torch.randn(hidden, generator=g) * 0.1
    w_dec = torch.randn(d, hidden, generator=g) * (2.0 / hidden) ** 0.5
    b_dec = torch.randn(d, generator=g) * 0.1
    sd = {"encoder.weight": w_enc, "encoder.bias": b_enc, "decoder.weight": w_dec, "decoder.bias": b_dec}
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": model,
               "config": {"input_dim": d, "hidden": hidden, "gate": "none", "weight_sparsity": 0.0,
                          "active_fraction": None, "output_activation": "sigmoid", "dataset": "digits",
                          "image_shape": [8, 8], "seed": seed}}
    if model == "sparse":
        masks = {}
        for key in ("encoder.weight", "decoder.weight"):
            w = sd[key]
            cut = w.abs().flatten().kthvalue(int(sparsity * w.numel())).values
            masks[key] = w.abs() > cut
            sd[key] = w * masks[key]
        sd["gate.threshold"] = torch.rand(hidden, generator=g) * 0.3
        payload["masks"] = masks
        payload["config"].update(gate="threshold", weight_sparsity=sparsity, active_fraction=0.3)
    payload["state_dict"] = sd
    if calibration:
        x = torch.from_numpy(load_dataset("digits", "train").x[:300]) if d == 64 else torch.rand(300, d)
        h = torch.relu(x @ sd["encoder.weight"].T + sd["encoder.bias"] - sd.get("gate.threshold", 0.0))
        payload["calibration"] = {
            "percentiles": torch.tensor(PERCENTILES, dtype=torch.float64),
            "hidden": torch.from_numpy(np.percentile(h[h > 0].double().numpy(), PERCENTILES)),
            "input": torch.from_numpy(np.percentile(x[x > 0].double().numpy(), PERCENTILES)),
            "num_samples": int(x.shape[0])}
    return save_checkpoint(payload, path)


def naive_run(network, x: np.ndarray, T: int, seed: int = 0):
    """Step-by-step simulation straight from the network docstring: (counts, active, outputs)."""
    layers = network.layers
    L = len(layers)
    N = x.shape[0]
    dt = network.dt_s
    state = []
    for layer in layers:
        p = layer.params
        s = {}
        if "v_init" in p:
            s["v"] = np.tile(p["v_init"], (N, 1)).astype(float)
        else:
            s["v"] = np.zeros((N, layer.size))
        s["i_syn"] = np.zeros((N, layer.size))
        s["sigma"] = np.zeros((N, layer.size))
        s["a_sent"] = np.zeros((N, layer.size))
        s["acc"] = np.zeros((N, layer.size))
        s["v_sum"] = np.zeros((N, layer.size))
        state.append(s)
    counts = [np.zeros((N, layer.size), dtype=np.int64) for layer in layers]
    active = [0] * L
    prev = [np.zeros((N, layer.size)) for layer in layers]
    rng = np.random.default_rng(seed)
    inp = layers[0]
    drive = inp.params["gain"] * x
    step0 = float(inp.options.get("payload_step", 0.0) or 0.0)

    def quant(v, step):
        return v if not step else np.round(v / step) * step

    for k in range(T):
        msgs = [np.zeros((N, layer.size)) for layer in layers]
        enc = inp.options["encoding"]
        st = state[0]
        if enc == "regular":
            st["v"] += drive
            spk = st["v"] > 1.0
            st["v"] -= spk
            msgs[0] = spk.astype(float)
            received = drive != 0
        elif enc == "bernoulli":
            msgs[0] = (rng.random((N, inp.size)) < np.clip(drive, 0, 1)).astype(float)
            received = drive != 0
        elif enc == "current":
            msgs[0] = drive.copy()
            received = drive != 0
        else:
            msgs[0] = quant(drive, step0) if k == 0 else np.zeros_like(drive)
            received = (drive != 0) if k == 0 else np.zeros_like(drive, dtype=bool)
        active[0] += int(np.count_nonzero(received | (msgs[0] != 0)))
        for l in range(1, L):
            if k < l:
                continue
            layer, st = layers[l], state[l]
            W, b = layer.connection.dense(), layer.connection.bias
            m = prev[l - 1]
            I = m @ W.T + b
            rec = ((m != 0).astype(float) @ (W != 0).T.astype(float)) > 0
            p = layer.params
            spk = np.zeros((N, layer.size), dtype=bool)
            if layer.kind in ("if", "lif", "cuba_lif"):
                if layer.kind == "if":
                    st["v"] += I
                elif layer.kind == "lif":
                    st["v"] += dt / p["tau_s"] * (p["v_leak"] - st["v"]) + dt / p["tau_s"] * p["r"] * I
                else:
                    st["i_syn"] += -dt / p["tau_syn_s"] * st["i_syn"] + p["w_in"] * I
                    a = dt / p["tau_mem_s"]
                    st["v"] += a * (p["v_leak"] - st["v"]) + a * p["r"] * st["i_syn"]
                spk = st["v"] > p["v_threshold"]
                if layer.options["reset"] == "subtract":
                    st["v"] = np.where(spk, st["v"] - p["v_threshold"], st["v"])
                else:
                    st["v"] = np.where(spk, p["v_reset"], st["v"])
                msgs[l] = spk.astype(float)
            elif layer.kind == "sigma_delta":
                st["sigma"] += m @ W.T
                delta = np.maximum(st["sigma"] + b, 0) - st["a_sent"]
                pay = np.where(np.abs(delta) >= p["v_threshold"],
                               quant(delta, float(layer.options.get("payload_step", 0) or 0)), 0.0)
                st["a_sent"] += pay
                msgs[l] = pay
                spk = pay != 0
            elif layer.kind == "li":
                st["v"] += dt / p["tau_s"] * (p["v_leak"] - st["v"]) + dt / p["tau_s"] * p["r"] * I
                st["v_sum"] += st["v"]
            elif layer.kind == "readout":
                st["acc"] += I
                st["sigma"] += m @ W.T
            active[l] += int(np.count_nonzero(rec | spk))
        for l in range(L):
            counts[l] += (msgs[l] != 0)
        prev = msgs
    last, st = layers[-1], state[-1]
    window = T - (L - 1)
    if last.kind == "readout":
        act = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0),
               "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[last.options["activation"]]
        if last.options.get("decode", "mean") == "sum":
            out = act(last.params["scale"] * (st["sigma"] + last.connection.bias))
        else:
            out = act(last.params["scale"] * st["acc"] / window)
    elif last.kind == "li":
        out = st["v_sum"] / window
    else:
        out = counts[-1] / window
    return counts, active, out
