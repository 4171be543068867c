"""Samples a user gives as an array file (``neurosim simulate --inputs X.npy``).

The file must be a single ``.npy`` array of shape ``(N, d)``: ``N >= 1`` samples of the
network's ``d`` inputs, real numbers (integer or float dtypes; no bool, complex, object or
record dtypes), all finite. The header is read and checked against the caps of
:mod:`neurosim.limits` and the file's size before any data is read (see
:mod:`neurosim.arrayfiles`); nothing is ever unpickled.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.arrayfiles import read_npy
from neurosim.errors import ValidationError


def load_inputs(path: str | Path, width: int, samples: int | None = None) -> np.ndarray:
    """The first ``samples`` rows (all when None) of the ``(N, width)`` array in ``path``, as float64.

    Raises :class:`~neurosim.errors.ValidationError` naming the file and the problem.
    """
    x = read_npy(path, ValidationError, kinds="iuf")
    if x.ndim != 2 or x.shape[1] != width or x.shape[0] == 0:
        raise ValidationError(f"{path}: expected a (N, {width}) array with N >= 1 for a network with {width} "
                              f"inputs, got shape {x.shape}")
    x = x[:samples].astype(np.float64)
    if not np.isfinite(x).all():
        raise ValidationError(f"{path}: inputs contain NaN or infinite values")
    return x
