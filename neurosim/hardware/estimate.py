"""``estimate(record, profile)``: energy and latency per inference of a record on a target.

Draws the profile's uncertain figures (:mod:`~neurosim.hardware.uncertainty`, seeded),
evaluates the cost model of the profile's kind on every draw
(:mod:`~neurosim.hardware.neuromorphic`, :mod:`~neurosim.hardware.wafer_scale`,
:mod:`~neurosim.hardware.crossbar`, :mod:`~neurosim.hardware.gpu`) and returns an
:class:`~neurosim.hardware.result.Estimate`: for each mode (``latency``, ``throughput``)
energy per inference split into dynamic and static, latency and inferences per second, each
as median and 10-90 % interval, the resources used, the figure dominating the spread, and
the sources. :func:`compare` gives the dense -> sparse savings per draw.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neurosim.errors import HardwareConstraintError, ValidationError
from neurosim.hardware import crossbar, gpu, neuromorphic, wafer_scale
from neurosim.hardware.profile import Profile, check, load_profile
from neurosim.hardware.result import MODES, Estimate, KindCost, ModeCost, ModeEstimate
from neurosim.hardware.uncertainty import DEFAULT_DRAWS, Draws, Interval, blame, draw
from neurosim.hardware.workload import Workload

#: profile kind -> cost model module (each has ``cost(workload, profile, draws, batch_size) -> KindCost``)
MODELS = {"neuromorphic": neuromorphic, "wafer_scale": wafer_scale, "crossbar": crossbar, "gpu": gpu, "cpu": gpu}

#: default batch size of the throughput mode on GPUs and CPUs
DEFAULT_BATCH = 64

#: deployment -> what it assumes (see :func:`estimate`)
DEPLOYMENTS = {"bare": "bare hardware (inputs already on the device, no host in the loop)",
               "host_driven": "host-driven (a framework call per batch, or host I/O every timestep)"}
#: profile figures a host-driven deployment uses
HOST_FIGURES = ("host_call_s", "host_sync_per_step_s")


def _positive(a: Any, n: int) -> np.ndarray:
    out = np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise ValidationError("cost model produced a negative or non-finite value (profile figures out of range)")
    return out


def _reduce(mode: str, cost: ModeCost, draws: Draws) -> ModeEstimate:
    n = draws.n
    dyn, stat = _positive(cost.dynamic_total(), n), _positive(cost.static_total(), n)
    total = dyn + stat
    latency = _positive(cost.latency_s, n)
    rate = _positive(cost.inferences_per_s, n)
    breakdown = {}
    for part, comps in (("dynamic", cost.dynamic), ("static", cost.static)):
        for name, value in comps.items():
            breakdown[name] = dict(part=part, **Interval.of(_positive(value, n)).as_dict())
    shares = blame(total, draws)
    dominant = {"figure": shares[0][0], "share": round(shares[0][1], 3)} if shares else {"figure": None, "share": 0.0}
    dominant["shares"] = {k: round(v, 3) for k, v in shares[:4]}
    return ModeEstimate(
        mode=mode, energy_dynamic_j=Interval.of(dyn), energy_static_j=Interval.of(stat),
        energy_total_j=Interval.of(total), latency_s=Interval.of(latency), inferences_per_s=Interval.of(rate),
        breakdown=breakdown, resources=cost.resources,
        beside={k: Interval.of(_positive(v, n)) for k, v in cost.beside.items()},
        dominant_uncertainty=dominant, notes=list(cost.notes),
        samples={"dynamic": dyn, "static": stat, "total": total, "latency": latency, "rate": rate})


def estimate(record: Any, profile: Profile | str, *, batch_size: int = DEFAULT_BATCH, draws: int = DEFAULT_DRAWS,
             seed: int = 0, strict: bool = False, source: str = "", deployment: str = "bare") -> Estimate:
    """Energy and latency per inference of ``record`` on ``profile``, in both modes.

    Parameters
    ----------
    record : ActivityRecord | Workload
        What a simulation measured (or a hand-built workload).
    profile : Profile | str
        A loaded profile, a bundled profile name or a path to a TOML file.
    batch_size : int
        Batch of the throughput mode on GPUs and CPUs (the latency mode is batch 1).
    draws, seed : int
        Monte-Carlo draws of the profile's uncertain figures and their seed. Estimates with
        the same seed and profile share the draws (see :func:`compare`).
    strict : bool
        Raise :class:`~neurosim.errors.HardwareConstraintError` when the network does not fit
        instead of reporting the issue and estimating anyway.
    source : str
        Where the record came from (path), copied into the result.
    deployment : str
        ``'bare'`` (default): the hardware alone, inputs already on the device.
        ``'host_driven'``: run from a host loop, as most published measurements were: one
        framework call per batch on a GPU/CPU (``host_call_s``), a host synchronisation with
        I/O every timestep on a neuromorphic chip (``host_sync_per_step_s``). Profiles
        without these figures are estimated bare, and the assumptions say so.

    Returns
    -------
    Estimate
        Energies in joules per inference, latencies in seconds, rates in inferences/s.
    """
    if int(batch_size) < 1:
        raise ValidationError(f"batch size must be at least 1, got {batch_size}")
    if int(draws) < 1:
        raise ValidationError(f"draws must be at least 1, got {draws}")
    if deployment not in DEPLOYMENTS:
        raise ValidationError(f"deployment must be one of {', '.join(DEPLOYMENTS)}, got {deployment!r}")
    profile = load_profile(profile)
    wl = Workload.from_any(record)
    if source:
        wl.source = source
    issues = check(wl, profile)
    errors = [i for i in issues if i.severity == "error"]
    if strict and errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise HardwareConstraintError(f"{wl.model} network does not fit {profile.name}: {errors[0].message}{more}")
    p = draw(profile, int(draws), int(seed))
    kc: KindCost = MODELS[profile.kind].cost(wl, profile, p, int(batch_size), deployment=deployment)
    modes = {m: _reduce(m, kc.modes[m], p) for m in MODES}
    has_host = any(profile.has(k) for k in HOST_FIGURES)
    applied = deployment if (deployment == "bare" or has_host) else "bare"
    assumptions = [f"deployment: {DEPLOYMENTS[applied]}"
                   + ("" if applied == deployment else " (the profile states no host-driven figures)")]
    assumptions.extend(kc.assumptions)
    if errors:
        assumptions.append("the network does not fit this target as mapped (see constraint_issues); "
                           "the estimate assumes it would run anyway")
    assumptions.extend(f"profile note: {n}" for n in profile.notes)
    work = {"label": kc.work_label, "per_inference": kc.work_per_inference,
            "synaptic_ops_per_inference": wl.synops, "spikes_per_inference": wl.spikes,
            "dense_macs_per_inference": float(wl.total_dense), "nonzero_weights": int(wl.total_nnz)}
    return Estimate(
        profile=profile.name, profile_title=profile.title, profile_path=profile.path, kind=profile.kind,
        runs="snn" if profile.kind == "neuromorphic" else "ann", model=wl.model, source=wl.source,
        coding=wl.coding, num_samples=wl.num_samples, timesteps=wl.timesteps, batch_size=int(batch_size),
        work=work, modes=modes, dominant_uncertainty=modes["latency"].dominant_uncertainty, fits=not errors,
        constraint_issues=[i.as_dict() for i in issues], assumptions=assumptions, sources=profile.sources(),
        draws=int(draws), seed=int(seed), extra={**kc.extra, "deployment": applied})


def estimate_many(records: list[Any], profiles: list[Profile | str], *, strict: bool = False,
                  sources: list[str] | None = None, **kwargs: Any) -> list[Estimate]:
    """One estimate per (record, profile), records outer, profiles inner."""
    loaded = [load_profile(p) for p in profiles]
    sources = sources or [""] * len(records)
    return [estimate(r, p, strict=strict, source=s, **kwargs) for r, s in zip(records, sources) for p in loaded]


def compare(before: Estimate, after: Estimate, mode: str = "latency") -> dict[str, Interval]:
    """What ``after`` saves over ``before`` (e.g. dense -> sparse) on the same profile, per draw.

    Returns intervals of the ratios ``before / after`` of total, dynamic and static energy
    per inference and of latency. Both estimates must share profile, seed and draws, so draw
    ``i`` is the same hardware in both and the ratio's interval is not widened by figures
    that cancel.
    """
    if (before.profile_path, before.seed, before.draws) != (after.profile_path, after.seed, after.draws):
        raise ValidationError("savings need two estimates on the same profile with the same seed and draws")
    a, b = before.modes[mode].samples, after.modes[mode].samples
    out = {}
    for key, name in (("total", "energy_total"), ("dynamic", "energy_dynamic"), ("static", "energy_static"),
                      ("latency", "latency")):
        num, den = a[key], b[key]
        ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 1.0))
        out[name] = Interval.of(ratio)
    return out
