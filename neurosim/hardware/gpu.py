r"""Cost model of GPUs and CPUs running the dense ANN (kinds ``gpu`` and ``cpu``).

A GPU or CPU computes every weight of a dense layer whether it is zero or not (unstructured
sparsity is not exploited) and every activation whether it is zero or not: the target pays
for the network's dense *MACs*. At batch ``B``, per layer ``l``:

.. math::

   M_l = n_\mathrm{in} n_\mathrm{out},\qquad
   t_l(B) = k\,t_\mathrm{launch} + \max\!\Big(\frac{2 M_l B}{F_\mathrm{peak}},\
            \frac{M_l b_w + B (n_\mathrm{in} + n_\mathrm{out}) b_a}{BW}\Big)

``k`` kernels (operators) per layer, ``t_launch`` the launch and framework dispatch time of
one, ``b_w`` / ``b_a`` bytes per weight / activation. A batch takes
``t(B) = sum_l t_l(B) + t_host``; the fraction of it the device spends computing or
streaming memory is ``u = sum_l max(...) / t(B)``.

Power is idle power plus a utilisation-dependent dynamic part (published idle and full-load
power of the device):

.. math::

   P(B) = P_\mathrm{idle} + (P_\mathrm{max} - P_\mathrm{idle})\,\big(\lambda + (1-\lambda)\,u\big)

with ``lambda`` the load of a dispatch-bound stream of tiny kernels (clocks up, pipes
mostly waiting). Per inference:

.. math::

   E_\mathrm{dyn} = \frac{(P(B) - P_\mathrm{idle})\,t(B)}{B},\qquad
   E_\mathrm{stat} = \frac{P_\mathrm{idle}\,t(B)}{B}

Host-driven deployment (``deployment='host_driven'``, a framework called once per batch from
a host loop): ``t(B) += t_call`` and ``E_dyn += (P_max - P_idle) L_call t_call / B`` with
``L_call`` the load while the framework's host code runs.

Latency mode: ``B = 1``. Throughput mode: ``B`` = the batch size the user sets, ``B / t(B)``
inferences per second, latency ``t(B)`` (a whole batch). For a batch-1 MLP of a few hundred
thousand weights the FLOPs take nanoseconds, the weights microseconds to stream, and the
launches tens of microseconds: latency is dispatch-bound and energy is power x latency.
"""
from __future__ import annotations

import numpy as np

from neurosim.hardware.profile import Profile
from neurosim.hardware.result import KindCost, ModeCost
from neurosim.hardware.uncertainty import Draws
from neurosim.hardware.workload import Workload


def batch_time(workload: Workload, profile: Profile, p: Draws, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """(time of one batch of ``batch`` inferences, compute-or-memory part of it), per draw."""
    bw_, ba = profile.get("bytes_per_weight"), profile.get("bytes_per_activation")
    launch = len(workload.layers) * p["kernels_per_layer"] * p["kernel_launch_s"]
    work = np.zeros(p.n)
    for layer in workload.layers:
        m = float(layer.dense)
        nbytes = m * bw_ + batch * (layer.n_in + layer.n_out) * ba
        work = work + np.maximum(2.0 * m * batch / p["peak_flops"], nbytes / p["memory_bandwidth_bytes_per_s"])
    return launch + work + p.get("host_transfer_s"), work


def host_driven(profile: Profile) -> bool:
    """Whether ``profile`` states the figures of a host-driven deployment (framework per-call time)."""
    return profile.has("host_call_s")


def _mode(workload: Workload, profile: Profile, p: Draws, batch: int, deployment: str = "bare") -> ModeCost:
    t, work = batch_time(workload, profile, p, batch)
    u = work / t
    lam = p["launch_bound_load"]
    p_idle = p["idle_power_w"]
    span = np.maximum(p["max_power_w"] - p_idle, 0.0)
    e_dyn = span * (lam + (1 - lam) * u) * t
    dynamic = {"device_dynamic": e_dyn / batch}
    if deployment == "host_driven" and host_driven(profile):
        t_host = p["host_call_s"]
        load = p["host_call_load"] if profile.has("host_call_load") else lam
        dynamic["host_call"] = span * load * t_host / batch
        t = t + t_host
    return ModeCost(latency_s=t, inferences_per_s=batch / t,
                    dynamic=dynamic,
                    static={"device_idle": p_idle * t / batch},
                    resources={"devices": 1, "batch_size": int(batch),
                               "compute_or_memory_fraction": float(np.median(u))})


def cost(workload: Workload, profile: Profile, p: Draws, batch_size: int = 64, deployment: str = "bare") -> KindCost:
    """Energy and latency per inference of the dense ANN of ``workload`` on ``profile`` (both modes).

    ``deployment='host_driven'``: one framework call per batch from a host loop; the profile's
    ``host_call_s`` is added to every batch and charged at ``host_call_load`` (else the
    dispatch-bound load) of the device's power span.
    """
    macs = float(sum(l.dense for l in workload.layers))
    lat = _mode(workload, profile, p, 1, deployment)
    thr = _mode(workload, profile, p, int(batch_size), deployment)
    lat.notes.append("one inference alone (batch 1): dispatch-bound, idle power charged for its latency")
    thr.notes.append(f"batches of {int(batch_size)}: the dispatch time is shared by the batch")
    flop_time = 2.0 * macs / profile.get("peak_flops")
    assumptions = [
        f"the {profile.kind.upper()} runs the dense ANN: zero weights and zero activations are computed like any "
        "other (unstructured sparsity is not exploited)",
        "time per layer = kernel dispatches + max(FLOPs / peak, bytes / bandwidth); layers run in sequence; "
        "weights are streamed from main memory once per batch",
        "power = idle + (max - idle) x (dispatch-bound load + (1 - it) x fraction of time computing or streaming)",
        f"the FLOPs alone would take {flop_time:.2g} s at peak",
    ]
    if deployment == "host_driven" and host_driven(profile):
        assumptions.append("host-driven: one framework call per batch from a host loop; its per-call time "
                           "(host_call_s) is added to every batch")
    extra = {"flop_time_at_peak_s": flop_time, "weight_bytes": macs * profile.get("bytes_per_weight")}
    return KindCost(modes={"latency": lat, "throughput": thr}, work_label="MACs", work_per_inference=macs,
                    assumptions=assumptions, extra=extra)
