"""A quickly trained dense + sparse autoencoder pair in neurosim's checkpoint format (format 1).

Stand-in for ``neurosim train`` (issue 2) so that conversion can be verified before the real
training code lands; it follows :mod:`neurosim.checkpoint` exactly:

* dense: ``h = relu(W_enc x + b_enc)``, ``y = sigmoid(W_dec h + b_dec)``;
* sparse: the same shape, gradual magnitude pruning of both weight matrices to
  ``weight_sparsity`` (cubic schedule of Zhu & Gupta 2017 over the first 60% of the epochs,
  masks fixed afterwards) and a learned per-unit threshold gate
  ``h = relu(W_enc x + b_enc - theta)`` pushed towards ``active_fraction`` by an L1 activity
  penalty whose weight adapts each epoch.

Calibration statistics: percentiles (50, 90, 99, 99.9, 99.99, 100) of all positive hidden
activations and of all positive inputs on the training split.

Usage: ``python experiments/quick_autoencoder.py --dataset digits --out results/quick``
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PERCENTILES = (50.0, 90.0, 99.0, 99.9, 99.99, 100.0)


def train_pair(dataset: str = "digits", data_dir: str | None = None, hidden: int = 256, epochs: int = 150,
               weight_sparsity: float = 0.9, active_fraction: float = 0.1, seed: int = 0,
               out: str | Path = "results/quick", progress: bool = True) -> dict[str, Path]:
    import torch
    from torch import nn

    from neurosim.checkpoint import FORMAT, FORMAT_VERSION, save_checkpoint
    from neurosim.data import load_dataset

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    data = load_dataset(dataset, "train", data_dir)
    x_all = torch.from_numpy(data.x)
    d = x_all.shape[1]

    class AE(nn.Module):
        def __init__(self, gate: bool):
            super().__init__()
            self.encoder = nn.Linear(d, hidden)
            self.decoder = nn.Linear(hidden, d)
            self.gate = gate
            if gate:
                self.threshold = nn.Parameter(torch.zeros(hidden))

        def hidden_act(self, x):
            z = self.encoder(x)
            if self.gate:
                z = z - self.threshold
            return torch.relu(z)

        def forward(self, x):
            h = self.hidden_act(x)
            return torch.sigmoid(self.decoder(h)), h

    models = {"dense": AE(False), "sparse": AE(True)}
    models["sparse"].load_state_dict(models["dense"].state_dict(), strict=False)
    opts = {k: torch.optim.Adam(m.parameters(), lr=2e-3) for k, m in models.items()}
    masks = {"encoder.weight": torch.ones(hidden, d, dtype=torch.bool),
             "decoder.weight": torch.ones(d, hidden, dtype=torch.bool)}
    l1 = 1e-3
    prune_end = int(0.6 * epochs)
    gen = torch.Generator().manual_seed(seed)
    it = range(epochs)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc=f"quick-train {dataset}", leave=False)
    for epoch in it:
        # cubic sparsity schedule s_t = s_f (1 - (1 - t/t_end)^3)
        s_t = weight_sparsity * (1 - (1 - min(epoch, prune_end) / max(prune_end, 1)) ** 3)
        if epoch <= prune_end:
            sparse = models["sparse"]
            for key, mod in (("encoder.weight", sparse.encoder), ("decoder.weight", sparse.decoder)):
                w = mod.weight.detach().abs().flatten()
                k = int(round(s_t * w.numel()))
                if k > 0:
                    cut = w.kthvalue(k).values
                    masks[key] = (mod.weight.detach().abs() > cut)
        perm = torch.randperm(len(x_all), generator=gen)
        active_seen = []
        for start in range(0, len(x_all), 64):
            xb = x_all[perm[start:start + 64]]
            for name, model in models.items():
                y, h = model(xb)
                loss = nn.functional.mse_loss(y, xb)
                if name == "sparse":
                    loss = loss + l1 * h.mean()
                    active_seen.append((h > 0).float().mean().item())
                opts[name].zero_grad()
                loss.backward()
                opts[name].step()
                if name == "sparse":
                    with torch.no_grad():
                        model.encoder.weight.mul_(masks["encoder.weight"])
                        model.decoder.weight.mul_(masks["decoder.weight"])
        frac = float(np.mean(active_seen))
        l1 = l1 * (1.3 if frac > active_fraction else 1 / 1.3)
    out = Path(out)
    paths = {}
    for name, model in models.items():
        model.eval()
        with torch.no_grad():
            _, h = model(x_all)
        pos_h = h[h > 0].double().numpy()
        pos_x = data.x[data.x > 0].astype(np.float64)
        sd = {k: v.detach().clone() for k, v in model.state_dict().items() if k != "threshold"}
        if model.gate:
            sd["gate.threshold"] = model.threshold.detach().clone()
        cfg = {"input_dim": d, "hidden": hidden, "gate": "threshold" if model.gate else "none",
               "weight_sparsity": weight_sparsity if model.gate else 0.0,
               "active_fraction": active_fraction if model.gate else None, "output_activation": "sigmoid",
               "dataset": dataset, "image_shape": list(data.image_shape), "seed": seed, "epochs": epochs,
               "trainer": "experiments/quick_autoencoder.py"}
        payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": name, "config": cfg,
                   "state_dict": sd,
                   "calibration": {"percentiles": torch.tensor(PERCENTILES, dtype=torch.float64),
                                   "hidden": torch.from_numpy(np.percentile(pos_h, PERCENTILES)),
                                   "input": torch.from_numpy(np.percentile(pos_x, PERCENTILES)),
                                   "num_samples": int(len(x_all))}}
        if model.gate:
            payload["masks"] = {k: v.clone() for k, v in masks.items()}
        paths[name] = save_checkpoint(payload, out / f"{name}.pt")
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--data-dir")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/quick")
    a = ap.parse_args(argv)
    paths = train_pair(a.dataset, a.data_dir, a.hidden, a.epochs, seed=a.seed, out=a.out)
    for name, p in paths.items():
        print(f"{name}: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
