"""Typed results of the cost models and of :func:`~neurosim.hardware.estimate.estimate`.

A cost model returns a :class:`KindCost`: for each operating mode a :class:`ModeCost` of
per-draw arrays (one value per Monte-Carlo draw of the profile's figures). ``estimate``
reduces them to an :class:`Estimate` of :class:`ModeEstimate` s, each quantity an
:class:`~neurosim.hardware.uncertainty.Interval` (median, 10th and 90th percentile).

Modes
-----
``latency``
    One inference alone, batch 1: the hardware waits for it; static power is charged for
    the resources the network occupies for the whole latency.
``throughput``
    Steady state, hardware kept busy: GPUs/CPUs at the user's batch size, neuromorphic chips
    pipelining inferences through the timesteps with the network replicated into the free
    cores of the chips (boards) it occupies, crossbars pipelined layer by layer, the wafer
    with its pipeline full and the network replicated over it. Static power of the whole
    deployment unit is shared by the inferences it completes per second.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosim.hardware.uncertainty import Interval

MODES = ("latency", "throughput")


@dataclass
class ModeCost:
    """Per-draw output of a cost model for one mode; every array has shape (draws,) or ().

    ``dynamic`` / ``static``: energy per inference by component (J). ``latency_s``: time
    from an inference's (batch's) start to its result. ``inferences_per_s``: completed
    inferences per second. ``beside``: quantities shown for context, not part of the total
    (e.g. the static energy of the whole chips, boards or system). ``resources``: what the
    mode uses (cores, chips, copies, batch size, ...).
    """

    latency_s: Any
    inferences_per_s: Any
    dynamic: dict[str, Any]
    static: dict[str, Any]
    resources: dict[str, Any]
    beside: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def dynamic_total(self) -> np.ndarray:
        return np.asarray(sum(np.asarray(v, dtype=np.float64) for v in self.dynamic.values()), dtype=np.float64)

    def static_total(self) -> np.ndarray:
        return np.asarray(sum(np.asarray(v, dtype=np.float64) for v in self.static.values()), dtype=np.float64)


@dataclass
class KindCost:
    """What a cost model returns: both modes, the work the target pays for, and why."""

    modes: dict[str, ModeCost]
    work_label: str            # 'synaptic ops' | 'MACs'
    work_per_inference: float
    assumptions: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModeEstimate:
    """One operating mode of an estimate: intervals over the Monte-Carlo draws (SI units)."""

    mode: str
    energy_dynamic_j: Interval
    energy_static_j: Interval
    energy_total_j: Interval
    latency_s: Interval
    inferences_per_s: Interval
    breakdown: dict[str, dict[str, Any]]
    resources: dict[str, Any]
    beside: dict[str, Interval]
    dominant_uncertainty: dict[str, Any]
    notes: list[str]
    samples: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "energy_dynamic_j": self.energy_dynamic_j.as_dict(),
            "energy_static_j": self.energy_static_j.as_dict(),
            "energy_total_j": self.energy_total_j.as_dict(),
            "latency_s": self.latency_s.as_dict(),
            "inferences_per_s": self.inferences_per_s.as_dict(),
            "breakdown": self.breakdown,
            "resources": self.resources,
            "beside": {k: v.as_dict() for k, v in self.beside.items()},
            "dominant_uncertainty": self.dominant_uncertainty,
            "notes": list(self.notes),
        }


@dataclass
class Estimate:
    """Energy and latency of one activity record (or workload) on one hardware profile.

    ``work``: what the target pays for, labelled (``{'label': 'synaptic ops' | 'MACs',
    'per_inference': ...}``) beside the record's synaptic operations, spikes and the dense
    MACs of the network. ``modes``: ``'latency'`` and ``'throughput'``
    (:class:`ModeEstimate`). ``dominant_uncertainty``: the figure contributing most to the
    spread of the latency-mode total energy.
    """

    profile: str
    profile_title: str
    profile_path: str
    kind: str
    runs: str
    model: str
    source: str
    coding: str | None
    num_samples: int
    timesteps: int
    batch_size: int
    work: dict[str, Any]
    modes: dict[str, ModeEstimate]
    dominant_uncertainty: dict[str, Any]
    fits: bool
    constraint_issues: list[dict[str, Any]]
    assumptions: list[str]
    sources: list[dict[str, str]]
    draws: int
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)

    def mode(self, name: str) -> ModeEstimate:
        return self.modes[name]

    @property
    def latency(self) -> ModeEstimate:
        return self.modes["latency"]

    @property
    def throughput(self) -> ModeEstimate:
        return self.modes["throughput"]

    def to_dict(self) -> dict[str, Any]:
        out = {
            "profile": self.profile, "profile_title": self.profile_title, "profile_path": self.profile_path,
            "kind": self.kind, "runs": self.runs, "model": self.model, "source": self.source,
            "coding": self.coding, "num_samples": self.num_samples, "timesteps": self.timesteps,
            "batch_size": self.batch_size, "work": self.work,
            "synaptic_ops_per_inference": self.work.get("synaptic_ops_per_inference"),
            "spikes_per_inference": self.work.get("spikes_per_inference"),
            "macs_per_inference": self.work.get("per_inference") if self.work.get("label") == "MACs" else None,
            "modes": {k: m.to_dict() for k, m in self.modes.items()},
            "dominant_uncertainty": self.dominant_uncertainty, "fits": self.fits,
            "constraint_issues": self.constraint_issues, "assumptions": self.assumptions,
            "sources": self.sources, "draws": self.draws, "seed": self.seed, "extra": self.extra,
        }
        out.update(self.labels)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        from neurosim.fileio import json_default

        return json.dumps(self.to_dict(), indent=indent, default=json_default)
