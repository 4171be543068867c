"""Which figures the demo report shows, drawn from what the stages produced.

:func:`build_figures` takes the :class:`~neurosim.reporting.context.DemoContext` and calls the
pure figure functions of :mod:`neurosim.reporting.figures` and
:mod:`neurosim.reporting.hidden_figures` with plain arrays. The ANN's hidden activations and
reconstructions come from the trained models' own forward pass
(:func:`neurosim.reporting.ann.forward`); spiking figures from the activity records.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neurosim.reporting import figures as F
from neurosim.reporting import hidden_figures as H
from neurosim.reporting import subnetwork_section
from neurosim.reporting.ann import forward, surviving
from neurosim.reporting.context import DemoContext
from neurosim.reporting.tables import MODELS, SNN_MODELS, hardware_rows
from neurosim.training.metrics import firing_frequency

#: figures with fine detail are drawn sharper (the rest at 100 dpi)
FIGURE_DPI = {"activity_rasters": 130, "subnetworks": 120, "class_unit_map": 120, "ablation": 110}


def build_figures(ctx: DemoContext) -> tuple[list[F.ReportFigure], dict[str, Any]]:
    """Make every figure the context supports; return (figures, numbers for report.json)."""
    figs: list[F.ReportFigure] = []
    numbers: dict[str, Any] = {}
    m = ctx.metrics or {}
    x, y = ctx.test_x, ctx.test_y
    classes = list(range(10))
    # ---- training
    hist = {k: m[k].get("history") for k in MODELS if isinstance(m.get(k), dict) and m[k].get("history")}
    hist = {k: v for k, v in hist.items() if isinstance(v, dict)}
    if hist:
        figs.append(F.training_curves(hist))
    passes = {k: forward(ctx.models[k], x) for k in MODELS if k in ctx.models} if x is not None else {}
    if passes:
        ex = ctx.example_idx
        mse = {k: float(np.mean((out - x) ** 2)) for k, (out, _) in passes.items()}
        figs.append(F.reconstructions(x[ex], {k: out[ex] for k, (out, _) in passes.items()}, ctx.image_shape,
                                      y[ex], mse))
        numbers["ann_test_mse"] = mse
    # ---- subnetworks and activity
    hidden = {k: passes[k][1] for k in SNN_MODELS if k in passes}
    freqs = {k: firing_frequency(h > 0, y, classes) for k, h in hidden.items()}
    orders = subnetwork_section.unit_orders(ctx, freqs)
    if hidden:
        sub_figs, numbers["subnetworks"] = subnetwork_section.figures(ctx, hidden, freqs, orders)
        figs.extend(sub_figs)
    if ctx.models:
        kept = {k: surviving(ctx.models[k]) for k in MODELS if k in ctx.models}
        dens = {k: {"encoder": float(enc.mean()), "decoder": float(dec.mean())} for k, (enc, dec) in kept.items()}
        numbers["weight_density_per_layer"] = dens
        if "sparse" in kept:
            enc, dec = kept["sparse"]
            layers = {"encoder (input → hidden)": {"mask": enc.T, "ylabel": "input pixel (row-major index)"},
                      "decoder (hidden → output)": {"mask": dec, "ylabel": "output pixel (row-major index)"}}
            figs.append(H.weight_masks(layers, dens, orders.get("sparse", (None,))[0], ctx.image_shape))
    if hidden:
        series: dict[str, np.ndarray] = {}
        for k in SNN_MODELS:
            if k in hidden:
                series[f"{k} ANN"] = np.array([(hidden[k][y == c] > 0).mean() for c in classes])
            rec = ctx.records.get((k, "rate"))
            if rec is not None and len(rec.layers) > 1:
                counts = rec.layers[1].spike_counts
                series[f"{k} SNN ({ctx.options.get('timesteps')} steps, rate)"] = np.array(
                    [(counts[rec.labels == c] > 0).mean() for c in classes])
        figs.append(H.activation_density(classes, series, ctx.configs.get("sparse", {}).get("active_fraction")))
        numbers["activation_density_per_class"] = {k: np.round(v, 4).tolist() for k, v in series.items()}
    # ---- conversion
    if ctx.sweep:
        ann_mse = {k: numbers.get("ann_test_mse", {}).get(k) for k in SNN_MODELS}
        ann_macs = {k: (m.get(k) or {}).get("macs_per_inference") for k in SNN_MODELS}
        figs.append(F.fidelity_vs_timesteps(ctx.sweep, ann_mse, ann_macs))
        numbers["fidelity_sweep"] = ctx.sweep
    if ctx.agreement:
        figs.append(F.backend_agreement(ctx.agreement))
        numbers["backend_agreement"] = [{k: v for k, v in e.items() if not isinstance(v, np.ndarray)}
                                        for e in ctx.agreement]
    # ---- hardware
    rows = hardware_rows(ctx.estimates)
    if rows:
        figs.append(F.energy_latency(rows))
        numbers["hardware"] = [{k: v for k, v in r.items() if k != "raw"} for r in rows]
    if ctx.options.get("sweep_dir"):  # neurosim demo --sweep DIR: the sparsity frontier's figures
        from neurosim.sweep.figures import report_figures

        figs.extend(report_figures(ctx.options["sweep_dir"]))
    return figs, numbers


__all__ = ["FIGURE_DPI", "build_figures"]
