"""A finished training run on disk and on screen: :func:`save_run` and :func:`summary_lines`.

``save_run`` writes into one folder::

    dense.pt  sparse.pt  small_dense.pt    checkpoints (neurosim.checkpoint)
    metrics.json                           measurements (neurosim.training.metrics)
    config.toml                            the resolved configuration: `neurosim train --config` reruns it
    *.png                                  figures (neurosim.training.plots), unless plots=False
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from neurosim.checkpoint import save_checkpoint
from neurosim.fileio import write_json
from neurosim.training.config import write_config
from neurosim.training.results import MODEL_KINDS, TrainResult


def save_run(result: TrainResult, out: str | Path, plots: bool = True) -> dict[str, Path]:
    """Write checkpoints, ``metrics.json``, ``config.toml`` and (optionally) the PNG figures
    into ``out``; return name -> path of every file written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind in MODEL_KINDS:
        written[kind] = save_checkpoint(result.checkpoints[kind], out / f"{kind}.pt")
    written["config"] = write_config(result.config, out / "config.toml")
    if plots:
        from neurosim.training.plots import write_plots

        figures = write_plots(result, out)
        written.update(figures)
        result.metrics["plots"] = {k: v.name for k, v in figures.items()}
    written["metrics"] = write_json(result.metrics, out / "metrics.json")
    return written


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    """A short human summary of a run (what ``neurosim train`` prints)."""
    d, s, sd, c = metrics["dense"], metrics["sparse"], metrics["small_dense"], metrics["comparisons"]
    lines = [
        f"dataset {metrics['dataset']}: {metrics['num_train']} train / {metrics['num_test']} test images "
        f"({metrics['data_note']})",
        f"{'model':<12} {'H':>5} {'test MSE':>9} {'w-density':>9} {'active':>7} {'MACs/inference':>15}",
    ]
    for kind, m in (("dense", d), ("sparse", s), ("small_dense", sd)):
        lines.append(f"{kind:<12} {m['hidden']:>5} {m['test_mse']:>9.5f} {m['weight_density']:>9.3f} "
                     f"{m['activation_density']:>7.3f} {m['macs_per_inference']:>15,.0f}")
    lines.append(f"sparse vs same-shape dense: {c['mac_reduction_vs_dense']:.1f}x fewer MACs, "
                 f"MSE ratio {c['mse_ratio_sparse_to_dense']:.2f}")
    lines.append(f"iso-compute: small_dense MSE / sparse MSE = {c['mse_ratio_small_dense_to_sparse']:.2f} "
                 f"(small_dense H={sd['hidden']}, {c['macs_ratio_small_dense_to_sparse']:.2f}x the sparse MACs; "
                 f"PCA with {sd['hidden']} components: MSE "
                 f"{metrics['iso_compute']['pca_test_mse_at_small_dense_hidden']:.5f})")
    lines.append(f"class overlap: mean pairwise Jaccard {s['mean_pairwise_jaccard']:.3f}; "
                 f"training took {metrics['train_time_s']:.1f} s on {metrics['threads']} thread(s)")
    return lines
