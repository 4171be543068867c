"""``estimate(record, profile)``: energy and latency per inference of a record on a target.

Dispatches to the cost model of the profile's kind (:mod:`~neurosim.hardware.neuromorphic`,
:mod:`~neurosim.hardware.wafer_scale`, :mod:`~neurosim.hardware.crossbar`,
:mod:`~neurosim.hardware.gpu`) and returns a plain dict (JSON-ready):

``profile``, ``profile_title``, ``kind``, ``runs`` ('snn' | 'ann'), ``model``, ``source``,
``num_samples``, ``timesteps``,
``energy_per_inference_j`` and ``latency_per_inference_s`` (each ``{low, typical, high}``),
``synaptic_ops_per_inference``, ``spikes_per_inference`` (measured by the simulation),
``macs_per_inference`` (MACs the target executes; ``None`` on neuromorphic targets),
``dense_macs_per_inference``, ``resources`` (cores / chips / tiles / wafer fraction),
``breakdown`` (energy by component, each ``{low, typical, high}``; components sum to the
energy), ``fits`` and ``constraint_issues`` (see :func:`~neurosim.hardware.profile.check`),
``assumptions`` (list of sentences), ``sources`` (every figure used: ``figure``,
``source``, ``confidence``), ``extra`` (model-specific diagnostics).
"""
from __future__ import annotations

from typing import Any

from neurosim.errors import HardwareConstraintError
from neurosim.hardware import crossbar, gpu, neuromorphic, wafer_scale
from neurosim.hardware.profile import Profile, check, load_profile
from neurosim.hardware.workload import SCENARIOS, Workload

#: profile kind -> cost model module (each has ``cost(workload, profile) -> CostResult``)
MODELS = {"neuromorphic": neuromorphic, "wafer_scale": wafer_scale, "crossbar": crossbar, "gpu": gpu}

RESULT_KEYS = ("profile", "model", "energy_per_inference_j", "latency_per_inference_s",
               "synaptic_ops_per_inference", "spikes_per_inference", "macs_per_inference",
               "resources", "breakdown", "assumptions", "sources")


def estimate(record: Any, profile: Profile | str, *, strict: bool = False, source: str = "") -> dict[str, Any]:
    """Energy and latency per inference of ``record`` on ``profile``.

    Parameters
    ----------
    record : ActivityRecord | Workload
        What a simulation measured (or a hand-built workload).
    profile : Profile | str
        A loaded profile, a bundled profile name or a path to a TOML file.
    strict : bool
        Raise :class:`~neurosim.errors.HardwareConstraintError` when the network does not fit
        (an ``'error'`` issue of :func:`~neurosim.hardware.profile.check`) instead of
        reporting the issue and estimating anyway.
    source : str
        Where the record came from (path), copied into the result.

    Returns
    -------
    dict
        See the module docstring. Energies in joules, latencies in seconds, per inference.
    """
    profile = load_profile(profile)
    wl = Workload.from_any(record)
    if source:
        wl.source = source
    issues = check(wl, profile)
    errors = [i for i in issues if i.severity == "error"]
    if strict and errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise HardwareConstraintError(f"{wl.model} network does not fit {profile.name}: {errors[0].message}{more}")
    res = MODELS[profile.kind].cost(wl, profile)
    runs = "snn" if profile.kind == "neuromorphic" else "ann"
    assumptions = list(res.assumptions)
    if errors:
        assumptions.append("the network does not fit this target as mapped (see constraint_issues); "
                           "the estimate assumes it would run anyway")
    assumptions.extend(f"profile note: {n}" for n in profile.notes)
    return {
        "profile": profile.name,
        "profile_title": profile.title,
        "profile_path": profile.path,
        "kind": profile.kind,
        "runs": runs,
        "model": wl.model,
        "source": wl.source,
        "num_samples": wl.num_samples,
        "timesteps": wl.timesteps,
        "energy_per_inference_j": {sc: res.energy[sc] for sc in SCENARIOS},
        "latency_per_inference_s": {sc: res.latency[sc] for sc in SCENARIOS},
        "synaptic_ops_per_inference": wl.synops,
        "spikes_per_inference": wl.spikes,
        "macs_per_inference": res.macs,
        "dense_macs_per_inference": float(wl.total_dense),
        "nonzero_weights": int(wl.total_nnz),
        "resources": res.resources,
        "breakdown": res.breakdown,
        "fits": not errors,
        "constraint_issues": [i.as_dict() for i in issues],
        "assumptions": assumptions,
        "sources": profile.sources(),
        "extra": res.extra,
    }


def estimate_many(records: list[Any], profiles: list[Profile | str], *, strict: bool = False,
                  sources: list[str] | None = None) -> list[dict[str, Any]]:
    """One estimate per (record, profile), records outer, profiles inner."""
    loaded = [load_profile(p) for p in profiles]
    sources = sources or [""] * len(records)
    return [estimate(r, p, strict=strict, source=s) for r, s in zip(records, sources) for p in loaded]
