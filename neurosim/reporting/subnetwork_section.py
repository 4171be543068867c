"""The demo's digit-specific subnetworks: the ``subnetworks`` stage and its figures.

:func:`analyse` (a pipeline stage of :func:`neurosim.reporting.demo.run_demo`) finds each
model's subnetworks on the **training** split's ANN activations
(:func:`neurosim.analysis.subnetworks.find_subnetworks`) and measures the ablation matrices
on the demo's **test** digits, in the ANN and in the rate-coded spiking network on the
reference engine, both on the same samples (:mod:`neurosim.analysis.ablation`). Defining the
sets on other inputs than those the ablation is measured on keeps the test honest.
:func:`figures` draws what the report shows from it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neurosim import pipeline
from neurosim.analysis.ablation import RANDOM_DRAWS, ablation_matrices, ann_errors, ever_active, snn_errors
from neurosim.analysis.subnetworks import DEFINITION, drawings, find_subnetworks, nearest_class
from neurosim.reporting import subnetwork_figures as S
from neurosim.reporting.ann import forward, surviving, weights
from neurosim.reporting.context import DemoContext
from neurosim.reporting.tables import SNN_MODELS
from neurosim.training.metrics import unit_order

#: random control sets per class in the spiking network (each a full simulation of the test digits)
SNN_RANDOM_DRAWS = 2


def analyse(ctx: DemoContext) -> str:
    """Subnetworks of the dense and sparse models and their ablation matrices (ANN and SNN); a one-line note."""
    train = pipeline.load_dataset(ctx.dataset, "train", ctx.data_dir)
    classes = [int(c) for c in np.unique(train.y)]
    x, y = ctx.test_x, ctx.test_y
    for model in SNN_MODELS:
        if model not in ctx.models:
            continue
        _, h = forward(ctx.models[model], train.x)
        sub = find_subnetworks(h, train.y, classes)
        ctx.subnetworks[model] = sub
        pool = ever_active(h)
        ctx.ablation[(model, "ANN")] = ablation_matrices(ann_errors(ctx.models[model], x), sub.members, y, classes,
                                                         pool, "ANN", draws=RANDOM_DRAWS)
        net = ctx.networks.get((model, "rate"))
        if net is not None:
            steps = int(ctx.options.get("timesteps"))
            ctx.ablation[(model, "SNN")] = ablation_matrices(snn_errors(net, x, y, steps), sub.members, y, classes,
                                                             pool, f"SNN (rate, T={steps}, reference)",
                                                             draws=SNN_RANDOM_DRAWS)
    parts = []
    for (model, engine), res in ctx.ablation.items():
        parts.append(f"{model} {engine.split(' ')[0]} ratio {res.ratio:.1f} (random {res.random_ratio:.2f})")
    sizes = {m: min(s.sizes) for m, s in ctx.subnetworks.items()}
    return (f"subnetworks on {len(train.y)} training inputs (smallest: " + ", ".join(f"{m} {n}" for m, n in sizes.items())
            + f" units); ablation on {len(y)} test digits: " + "; ".join(parts))


def unit_orders(ctx: DemoContext, freqs: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, int]]:
    """The one unit order per model: the subnetworks' (by selectivity) where the stage ran, else by firing frequency."""
    return {k: ((ctx.subnetworks[k].order, ctx.subnetworks[k].silent) if k in ctx.subnetworks else unit_order(f))
            for k, f in freqs.items()}


def figures(ctx: DemoContext, hidden: dict[str, np.ndarray], freqs: dict[str, np.ndarray],
            orders: dict[str, tuple[np.ndarray, int]]) -> tuple[list, dict[str, Any]]:
    """Rasters, class x unit map, overlap, per-digit drawings and ablation heatmaps; numbers for report.json."""
    figs = []
    x, y = ctx.test_x, ctx.test_y
    ex = ctx.example_idx
    classes = sorted(int(c) for c in np.unique(y))
    mean_counts = {k: ctx.records[(k, "rate")].layers[1].spike_counts.mean(axis=0)
                   for k in hidden if (k, "rate") in ctx.records and len(ctx.records[(k, "rate")].layers) > 1}
    figs.append(S.activity_rasters(x[ex], y[ex], ctx.image_shape, {k: ctx.spike_trains.get(k) for k in hidden},
                                   {k: hidden[k][ex] for k in hidden}, orders, mean_counts, dt_s=ctx.dt_s,
                                   coding="rate"))
    figs.append(S.class_unit_map(freqs, orders, classes))
    numbers: dict[str, Any] = {}
    subs = {k: s for k, s in ctx.subnetworks.items() if k in hidden}
    if subs:
        figs.append(S.overlap_figure({k: s.jaccard for k, s in subs.items()}, {k: s.cosine for k, s in subs.items()},
                                     {k: s.sizes for k, s in subs.items()}, {k: len(s.hubs) for k, s in subs.items()},
                                     subs[next(iter(subs))].classes, DEFINITION))
        numbers = {k: s.as_dict() for k, s in subs.items()}
    if "sparse" in subs:
        s = subs["sparse"]
        w = weights(ctx.models["sparse"])
        enc_mask, _ = surviving(ctx.models["sparse"])
        cls = s.classes
        images = {c: x[y == c].mean(axis=0) if np.any(y == c) else np.zeros(x.shape[1]) for c in cls}
        drawn = drawings(s.members, s.class_mean, w["decoder.weight"], w["decoder.bias"])
        nearest = nearest_class(drawn, np.stack([images[c] for c in cls]))
        numbers["sparse"]["drawing_nearest_digit"] = [cls[int(i)] for i in nearest]
        numbers["sparse"]["drawings_recognised"] = int(sum(cls[int(i)] == c for i, c in zip(nearest, cls)))
        figs.append(S.subnetwork_gallery(dict(zip(cls, s.members)), dict(zip(cls, drawn)), images, w["encoder.weight"],
                                         dict(zip(cls, s.dprime)), ctx.image_shape, enc_mask, s.empty, s.threshold,
                                         recognised=numbers["sparse"]["drawings_recognised"]))
    if ctx.ablation:
        figs.append(S.ablation_figure(ctx.ablation, subs[next(iter(subs))].classes if subs else classes))
        numbers["ablation"] = {f"{m} {e.split(' ')[0]}": r.as_dict() for (m, e), r in ctx.ablation.items()}
    return figs, numbers


__all__ = ["SNN_RANDOM_DRAWS", "analyse", "unit_orders", "figures"]
