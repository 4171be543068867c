"""Measurements of trained autoencoders: reconstruction, sparsity, compute and class subnetworks.

The one home of the class x unit analysis that ``neurosim train``'s plots, the live view and
the demo report all draw:

* :func:`firing_frequency` ``F[c, j]``: fraction of the inputs of class ``c`` for which hidden
  unit ``j`` is active (``h_j > 0``);
* :func:`per_class_active_units`: a class's *reliable set*, the units with ``F[c, j] > 0.5``;
* :func:`unit_order`: units grouped by preferred class, most frequent first, silent units last;
* :func:`jaccard_matrix` ``J[a, b] = |A ∩ B| / |A ∪ B|`` of the classes' reliable sets and
  :func:`mean_offdiag`, its mean over pairs of different classes.

:func:`evaluate` gives one model's test metrics (the per-model blocks of ``metrics.json``),
:func:`comparisons` the ratios between the models, :func:`pca_reference` a linear baseline.
These are measurements only; the targets they are compared with live in
``experiments/targets.toml``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

#: a unit belongs to a class's reliable set when active for more than this fraction of its inputs
RELIABLE_FRACTION = 0.5


def firing_frequency(active: np.ndarray, labels: np.ndarray, classes: Sequence[int] | None = None) -> np.ndarray:
    """``F[c, j]``: fraction of the inputs of class ``classes[c]`` for which unit ``j`` is active.

    Parameters
    ----------
    active : array (N, H)
        Hidden activity or a boolean activity mask; a unit is active where the value is > 0.
    labels : array (N,)
        Class of each input.
    classes : sequence of int, optional
        Rows of the result (default: the sorted distinct labels); a class without inputs gets zeros.

    Returns
    -------
    ndarray (C, H), values in [0, 1]
    """
    active = np.asarray(active) > 0
    labels = np.asarray(labels)
    classes = np.unique(labels) if classes is None else classes
    return np.stack([active[labels == c].mean(axis=0) if np.any(labels == c) else np.zeros(active.shape[1])
                     for c in classes])


def per_class_active_units(active: np.ndarray, labels: np.ndarray) -> dict[int, list[int]]:
    """For each class: the units active (h > 0) for more than half of that class's inputs."""
    classes = [int(c) for c in np.unique(labels)]
    freq = firing_frequency(active, labels, classes)
    return {c: [int(u) for u in np.flatnonzero(freq[i] > RELIABLE_FRACTION)] for i, c in enumerate(classes)}


def unit_order(freq: np.ndarray) -> tuple[np.ndarray, int]:
    """Order hidden units so that a class x unit map shows its block structure.

    Units are grouped by their preferred class (the row with the highest firing frequency),
    groups in class order, and sorted by decreasing peak frequency within a group; units that
    never fire go last.

    Parameters
    ----------
    freq : array (C, H)
        :func:`firing_frequency`.

    Returns
    -------
    order : ndarray (H,)
        The permutation of the units.
    silent : int
        How many units never fire (the last ``silent`` entries of ``order``).
    """
    freq = np.asarray(freq, dtype=float)
    peak = freq.max(axis=0)
    silent = peak <= 0
    pref = freq.argmax(axis=0)
    order = np.lexsort((-peak, pref, silent))  # the last key is the primary one
    return order, int(silent.sum())


def jaccard_matrix(sets: Sequence[Sequence[int]] | Mapping[int, Sequence[int]]) -> np.ndarray:
    """``J[a, b] = |A ∩ B| / |A ∪ B|`` between every pair of sets (a mapping: in sorted-key order).

    1 on the diagonal; 0 between two different empty sets.
    """
    if isinstance(sets, Mapping):
        sets = [sets[k] for k in sorted(sets)]
    ss = [set(s) for s in sets]
    k = len(ss)
    out = np.zeros((k, k))
    for a in range(k):
        for b in range(k):
            union = len(ss[a] | ss[b])
            out[a, b] = len(ss[a] & ss[b]) / union if union else (1.0 if a == b else 0.0)
    return out


def mean_offdiag(m: np.ndarray) -> float:
    """Mean of a square matrix over its off-diagonal entries (NaN below 2 x 2)."""
    m = np.asarray(m, dtype=float)
    k = m.shape[0]
    return float((m.sum() - np.trace(m)) / (k * k - k)) if k > 1 else float("nan")


def evaluate(model, ds) -> dict[str, Any]:
    """Test metrics of one model on a dataset.

    Returns ``hidden`` (H), ``test_mse`` (mean over pixels in [0, 1] and inputs),
    ``weight_density`` (nonzero / all weights), ``activation_density`` (mean fraction of hidden
    units with ``h > 0``), ``macs_per_inference`` (effective MACs, see
    :func:`neurosim.training.models.macs_per_input`), ``dense_macs_per_inference`` (``2 d H``),
    ``per_class_active_units``, ``jaccard`` and ``mean_pairwise_jaccard``.
    """
    import torch

    from neurosim.training.models import dense_macs, macs_per_input, weight_density

    x = torch.from_numpy(ds.x)
    with torch.no_grad():
        y, h = model(x)
        macs = float(macs_per_input(model, x, h).mean())
    active = (h > 0).numpy()
    per_class = per_class_active_units(active, ds.y)
    jac = jaccard_matrix(per_class)
    return {
        "hidden": model.hidden,
        "test_mse": float(torch.mean((y - x) ** 2)),
        "weight_density": weight_density(model),
        "activation_density": float(active.mean()),
        "macs_per_inference": macs,
        "dense_macs_per_inference": dense_macs(model.input_dim, model.hidden),
        "per_class_active_units": {str(c): units for c, units in per_class.items()},
        "mean_pairwise_jaccard": mean_offdiag(jac),
        "jaccard": jac.tolist(),
    }


def comparisons(metrics: dict[str, Any]) -> dict[str, float]:
    """Ratios between the three models that the dense-vs-sparse comparison is read from."""
    d, s, sd = metrics["dense"], metrics["sparse"], metrics["small_dense"]
    return {
        "mac_reduction_vs_dense": d["macs_per_inference"] / max(s["macs_per_inference"], 1e-12),
        "mse_ratio_sparse_to_dense": s["test_mse"] / max(d["test_mse"], 1e-12),
        "mse_ratio_small_dense_to_sparse": sd["test_mse"] / max(s["test_mse"], 1e-12),
        "macs_ratio_small_dense_to_sparse": sd["macs_per_inference"] / max(s["macs_per_inference"], 1e-12),
    }


def pca_reference(x_train: np.ndarray, x_test: np.ndarray, k: int) -> float:
    """Test MSE of the best rank-``k`` linear reconstruction (PCA on the training set, clipped
    to [0, 1]): a reference for how much a ``k``-unit bottleneck can keep, not a trained model."""
    mu = x_train.mean(axis=0)
    _, _, vt = np.linalg.svd(x_train - mu, full_matrices=False)
    v = vt[:k]
    rec = np.clip((x_test - mu) @ v.T @ v + mu, 0.0, 1.0)
    return float(np.mean((rec - x_test) ** 2))
