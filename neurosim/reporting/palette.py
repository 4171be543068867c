"""The one colour palette of every neurosim figure and page.

A model keeps its colour everywhere: training plots, the live training page, the demo
report's figures and its HTML tables (the CSS variables come from :func:`css_variables`).
"""
from __future__ import annotations

#: model -> colour (seaborn "deep": distinguishable, also for the common colour-vision deficiencies)
MODEL_COLORS = {"dense": "#4C72B0", "sparse": "#DD8452", "small_dense": "#55A868"}
#: model -> legend label
MODEL_LABELS = {"dense": "dense (same shape)", "sparse": "sparse (pruned + gated)",
                "small_dense": "small dense (iso-compute)"}
#: coding -> colour, where codings (not models) are compared
CODING_COLORS = {"rate": "#DD8452", "graded": "#8172B3"}
#: coding -> matplotlib line style
CODING_STYLES = {"rate": "-", "graded": "--"}
#: secondary series (densities, targets) that are neither a model nor a coding
SERIES_COLORS = {"weight_density": "#55A868", "activation_density": "#8172B3"}


def css_variables() -> str:
    """``--dense:#4C72B0; --sparse:...`` for a stylesheet's ``:root`` rule."""
    names = {"dense": "dense", "sparse": "sparse", "small_dense": "small"}
    return " ".join(f"--{names[m]}:{c};" for m, c in MODEL_COLORS.items())


__all__ = ["MODEL_COLORS", "MODEL_LABELS", "CODING_COLORS", "CODING_STYLES", "SERIES_COLORS", "css_variables"]
