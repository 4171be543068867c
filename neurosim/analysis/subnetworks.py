"""Digit-specific subnetworks: which hidden units are selective for which class.

Definition
----------
For hidden unit ``j`` and class ``c``, the selectivity is the sensitivity index of the unit's
activation ``h_j`` on the inputs of class ``c`` against the inputs of every other class,

.. math::

    d'_{cj} = \\frac{\\mu_{cj} - \\mu_{\\bar c j}}{\\sqrt{(\\sigma^2_{cj} + \\sigma^2_{\\bar c j}) / 2}},

with means ``mu`` and variances ``sigma^2`` of the activation over the two groups (the spread is
floored at :data:`MIN_SPREAD`, so a unit that separates the groups without any variance gets a
very large ``d'`` and a unit that never varies ``d' = 0``). Class ``c``'s **subnetwork** is the set of units with
``d'_{cj} > theta``.

The threshold ``theta`` is not chosen by hand. It is the :data:`NULL_QUANTILE` quantile, over
:data:`SHUFFLES` label permutations, of the **largest** ``d'`` any (unit, class) pair reaches
when the labels are shuffled. A unit above it is selective with a family-wise error rate of
``1 - NULL_QUANTILE`` over all ``C x H`` pairs: the sets measure the network, not a cut.
With thousands of inputs the null is tight (``theta`` about 0.3 for the default digits models),
so membership means "reliably prefers this class", not "fires only for it"; how strongly is
in ``d'`` itself, by which the figures rank units.

**Hubs** are units that belong to at least :data:`HUB_MIN_CLASSES` subnetworks. **Overlap**
between classes is given two ways: the Jaccard index of the subnetworks
(:func:`neurosim.training.metrics.jaccard_matrix`) and the cosine similarity of the
class-conditional mean activation vectors ``mu_c`` (a weighted overlap that needs no threshold).

The unit order of every class x unit figure (training plots and the demo report) is
:func:`neurosim.training.metrics.unit_order` applied to ``max(d', 0)``: units grouped by
the class they are most selective for, most selective first, units never active last.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from neurosim.training.metrics import jaccard_matrix, mean_offdiag, unit_order

#: floor of the pooled standard deviation (activation units)
MIN_SPREAD = 1e-6
#: label shuffles of the null distribution
SHUFFLES = 20
#: quantile of the shuffled maximum d' used as threshold (family-wise error 1 - this)
NULL_QUANTILE = 0.95
#: a unit in at least this many subnetworks is a hub
HUB_MIN_CLASSES = 3


def class_moments(h: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-group mean and variance of each unit: ``onehot`` (N, C) 0/1 -> two (C, H) arrays."""
    n = onehot.sum(axis=0)[:, None]
    s1 = onehot.T @ h
    s2 = onehot.T @ (h * h)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, s1 / np.maximum(n, 1), 0.0)
        var = np.where(n > 0, s2 / np.maximum(n, 1) - mean ** 2, 0.0)
    return mean, np.maximum(var, 0.0)


def selectivity(h: np.ndarray, labels: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """``d'[c, j]`` of unit ``j`` for ``classes[c]`` against the other classes (see module docstring).

    Parameters
    ----------
    h : array (N, H)
        Hidden activations (any unit; ReLU outputs here).
    labels : array (N,)
    classes : sequence of int

    Returns
    -------
    ndarray (C, H)
    """
    h = np.asarray(h, dtype=np.float64)
    labels = np.asarray(labels)
    onehot = (labels[:, None] == np.asarray(classes)[None, :]).astype(np.float64)
    mean_in, var_in = class_moments(h, onehot)
    mean_out, var_out = class_moments(h, 1.0 - onehot)
    spread = np.maximum(np.sqrt((var_in + var_out) / 2.0), MIN_SPREAD)
    return (mean_in - mean_out) / spread


def shuffled_maxima(h: np.ndarray, labels: np.ndarray, classes: Sequence[int], shuffles: int = SHUFFLES,
                    seed: int = 0) -> np.ndarray:
    """Largest ``d'`` over all (unit, class) pairs for each of ``shuffles`` label permutations."""
    rng = np.random.default_rng(seed)
    return np.array([selectivity(h, rng.permutation(labels), classes).max() for _ in range(shuffles)])


@dataclass
class Subnetworks:
    """The subnetworks of one model (see the module docstring for every field's definition).

    ``members[c]``: units of ``classes[c]``'s subnetwork, most selective first;
    ``class_mean`` (C, H): mean activation per class, ``dprime`` (C, H);
    ``order``/``silent``: the shared unit order and how many units are never active;
    ``jaccard``/``cosine`` (C, C) overlaps; ``empty``: class -> why its set is empty.
    """

    classes: list[int]
    dprime: np.ndarray
    threshold: float
    null_maxima: np.ndarray
    members: list[np.ndarray]
    hubs: np.ndarray
    class_mean: np.ndarray
    order: np.ndarray
    silent: int
    jaccard: np.ndarray
    cosine: np.ndarray
    empty: dict[int, str]
    samples: int

    @property
    def sizes(self) -> list[int]:
        return [int(len(m)) for m in self.members]

    @property
    def mean_jaccard(self) -> float:
        return mean_offdiag(self.jaccard)

    @property
    def mean_cosine(self) -> float:
        return mean_offdiag(self.cosine)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for report.json."""
        return {"definition": DEFINITION, "threshold_dprime": self.threshold,
                "null_maxima": np.round(self.null_maxima, 4).tolist(), "samples": self.samples,
                "sizes": dict(zip(map(str, self.classes), self.sizes)),
                "members": {str(c): [int(j) for j in m] for c, m in zip(self.classes, self.members)},
                "hubs": [int(j) for j in self.hubs], "empty": {str(c): why for c, why in self.empty.items()},
                "mean_jaccard": round(self.mean_jaccard, 4), "mean_cosine": round(self.mean_cosine, 4),
                "jaccard": np.round(self.jaccard, 4).tolist(), "cosine": np.round(self.cosine, 4).tolist()}


#: one-line statement of the definition, for captions and report.json
DEFINITION = (f"a digit's subnetwork = the hidden units whose activation separates that digit's inputs from the "
              f"other digits' with d' above the {NULL_QUANTILE:.0%} quantile of the largest d' reached under "
              f"{SHUFFLES} label shuffles")


def find_subnetworks(h: np.ndarray, labels: np.ndarray, classes: Sequence[int] | None = None,
                     shuffles: int = SHUFFLES, quantile: float = NULL_QUANTILE, seed: int = 0) -> Subnetworks:
    """Subnetworks, hubs, overlaps and unit order of one model from its hidden activations.

    Parameters
    ----------
    h : array (N, H)
        Hidden activations on labelled inputs (use inputs other than those an ablation is
        measured on: the demo uses the training split).
    labels : array (N,)
    classes : sequence of int, optional
        Default: the sorted distinct labels.
    shuffles, quantile, seed
        The shuffled-label null that sets the threshold.
    """
    h = np.asarray(h, dtype=np.float64)
    labels = np.asarray(labels)
    classes = [int(c) for c in (np.unique(labels) if classes is None else classes)]
    d = selectivity(h, labels, classes)
    maxima = shuffled_maxima(h, labels, classes, shuffles, seed)
    theta = float(np.quantile(maxima, quantile))
    members, empty = [], {}
    for i, c in enumerate(classes):
        units = np.flatnonzero(d[i] > theta)
        members.append(units[np.argsort(-d[i, units], kind="stable")])
        if not np.any(labels == c):
            empty[c] = "no inputs of this class"
        elif len(units) == 0:
            empty[c] = f"no unit's d' exceeds {theta:.2f} (largest {d[i].max():.2f})"
    count = np.zeros(h.shape[1], dtype=int)
    for m in members:
        count[m] += 1
    hubs = np.flatnonzero(count >= HUB_MIN_CLASSES)
    onehot = (labels[:, None] == np.asarray(classes)[None, :]).astype(np.float64)
    mean, _ = class_moments(h, onehot)
    never = ~(h > 0).any(axis=0)
    order, silent = unit_order(np.where(never[None, :], 0.0, np.clip(d, 1e-9, None)))
    norm = np.linalg.norm(mean, axis=1, keepdims=True)
    unit_vec = mean / np.where(norm > 0, norm, 1.0)
    cosine = unit_vec @ unit_vec.T
    return Subnetworks(classes, d, theta, maxima, members, hubs, mean, order, silent,
                       jaccard_matrix([list(m) for m in members]), cosine, empty, int(len(labels)))


def drawings(members: Sequence[np.ndarray], class_mean: np.ndarray, w_dec: np.ndarray, b_dec: np.ndarray) -> np.ndarray:
    """What each subnetwork draws alone: the decoder's output with only its units active, each at
    its mean activation for the class, ``sigmoid(b_dec + sum_{j in S_c} mu_cj W_dec[:, j])``.

    Parameters
    ----------
    members : sequence of int arrays (C)
    class_mean : array (C, H)
        Mean activation of every unit per class (:attr:`Subnetworks.class_mean`).
    w_dec : array (d, H)
    b_dec : array (d,)

    Returns
    -------
    ndarray (C, d); the decoder's output with no unit active where a subnetwork is empty.
    """
    from neurosim.mathutil import sigmoid

    out = []
    for c, units in enumerate(members):
        units = np.asarray(units, dtype=int)
        out.append(sigmoid(b_dec + w_dec[:, units] @ np.asarray(class_mean)[c, units]))
    return np.stack(out)


def nearest_class(images: np.ndarray, class_images: np.ndarray) -> np.ndarray:
    """For each image, the index of the class image it correlates best with (Pearson, over pixels)."""
    a = np.asarray(images, dtype=float)
    b = np.asarray(class_images, dtype=float)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    corr = (a @ b.T) / np.maximum(np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :], 1e-12)
    return corr.argmax(axis=1)


__all__ = ["drawings", "nearest_class", "MIN_SPREAD", "SHUFFLES", "NULL_QUANTILE", "HUB_MIN_CLASSES", "DEFINITION", "Subnetworks", "class_moments",
           "selectivity", "shuffled_maxima", "find_subnetworks"]
