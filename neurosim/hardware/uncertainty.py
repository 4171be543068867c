r"""Propagating figure uncertainty: Monte-Carlo draws of a profile's figures, intervals, blame.

Each uncertain figure of a profile is an independent random variable with the distribution
its file states (:mod:`~neurosim.hardware.profile`). :func:`draw` samples ``n`` values of
every figure at once (vectorised numpy, seeded); a cost model evaluates its equations on
the arrays, so each draw is one consistent hardware and the estimate's spread is the spread
of the model output, never the product of every figure's extreme.

A figure's draws come from its own random stream, seeded by ``(seed, figure name)``: two
estimates with the same seed and profile see the *same* hardware in draw ``i`` whatever
network they cost, so a ratio such as dense / sparse energy is computed per draw and its
interval is honest (shared figures cancel).

Blame
-----
For independent inputs and an output nearly additive in the normal scores ``z_k`` of the
figures, the first-order variance share of figure ``k`` in ``log E`` is

.. math:: S_k \approx \frac{\rho^2(\log E, z_k)}{\sum_j \rho^2(\log E, z_j)}

with :math:`\rho` the sample correlation; :func:`blame` returns the shares, largest first.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from scipy.special import ndtri

from neurosim.hardware.profile import Figure, Profile

#: default number of Monte-Carlo draws per estimate
DEFAULT_DRAWS = 4000
#: z of the 90th percentile of a standard normal
Z90 = 1.2815515655446004


@dataclass(frozen=True)
class Interval:
    """Median and 10-90 % interval of a sampled quantity (SI units)."""

    median: float
    p10: float
    p90: float

    @classmethod
    def of(cls, samples: Any) -> "Interval":
        a = np.broadcast_to(np.asarray(samples, dtype=np.float64), (max(np.size(samples), 1),))
        p10, med, p90 = np.percentile(a, [10, 50, 90])
        return cls(float(med), float(p10), float(p90))

    @property
    def width(self) -> float:
        """p90 / p10 (1 for a certain quantity; inf when p10 is 0 and p90 is not)."""
        if self.p90 == self.p10:
            return 1.0
        return self.p90 / self.p10 if self.p10 > 0 else float("inf")

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "p10": self.p10, "p90": self.p90}


@dataclass
class Draws:
    """``n`` draws of every figure of a profile: ``values[key]`` (n,) in SI units, ``scores[key]``
    the standard-normal score of each draw (uncertain figures only)."""

    n: int
    values: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]

    def get(self, key: str, default: float = 0.0) -> np.ndarray | float:
        return self.values.get(key, default)


def _stream(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key.encode())])


def sample_figure(fig: Figure, u: np.ndarray) -> np.ndarray:
    """Values of ``fig`` at uniform quantiles ``u`` in (0, 1) (inverse CDF of its distribution)."""
    lo, ty, hi = fig.low, fig.typical, fig.high
    if fig.distribution == "uniform":
        return lo + (hi - lo) * u
    if fig.distribution == "loguniform":
        return np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * u)
    if fig.distribution == "triangular":
        c = (ty - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (ty - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - ty))
        return np.where(u < c, left, right)
    if fig.distribution == "lognormal":
        z = ndtri(u)
        s_lo, s_hi = np.log(ty / lo) / Z90, np.log(hi / ty) / Z90
        return ty * np.exp(z * np.where(z < 0, s_lo, s_hi))
    raise ValueError(f"unknown distribution {fig.distribution!r}")


def draw(profile: Profile, n: int = DEFAULT_DRAWS, seed: int = 0) -> Draws:
    """``n`` independent draws of every figure of ``profile`` (certain figures repeated)."""
    if n < 1:
        raise ValueError(f"draws must be at least 1, got {n}")
    values, scores = {}, {}
    for key, fig in profile.figures.items():
        if fig.single:
            values[key] = np.full(n, fig.typical)
            continue
        u = _stream(seed, key).uniform(1e-9, 1 - 1e-9, size=n)
        values[key] = sample_figure(fig, u)
        scores[key] = ndtri(u)
    return Draws(n, values, scores)


def blame(output: np.ndarray, draws: Draws) -> list[tuple[str, float]]:
    """Variance share of each uncertain figure in ``log(output)``, largest first (see the module docstring).

    Empty when no figure is uncertain or the output does not vary.
    """
    y = np.log(np.maximum(np.asarray(output, dtype=np.float64), 1e-300))
    if not draws.scores or np.ptp(y) == 0:
        return []
    y = y - y.mean()
    sy = np.sqrt((y * y).sum())
    r2 = {}
    for key, z in draws.scores.items():
        zc = z - z.mean()
        denom = sy * np.sqrt((zc * zc).sum())
        r2[key] = float((y @ zc / denom) ** 2) if denom > 0 else 0.0
    total = sum(r2.values())
    if total <= 0:
        return []
    return sorted(((k, v / total) for k, v in r2.items()), key=lambda kv: -kv[1])


def typical_draws(profile: Profile) -> Draws:
    """One draw at every figure's typical value (for deterministic quantities such as mappings)."""
    return Draws(1, {k: np.array([f.typical]) for k, f in profile.figures.items()}, {})


def as_float_dict(arrays: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {k: float(np.median(v)) for k, v in arrays.items()}
