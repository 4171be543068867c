r"""Cost model of wafer-scale dataflow engines (Cerebras WSE-2, WSE-3) running the ANN.

The target runs the ANN layer-pipelined across the wafer: every layer owns a region of
cores holding its weights in SRAM.

Work (what the target pays for: MACs, zero work skipped)
--------------------------------------------------------
.. math:: W_l = \frac{1}{N}\sum_s \sum_j a_{s,j}\, c_j

with ``c_j`` the nonzero fan-out of input ``j`` into the layer when the hardware skips zero
weights (else ``n_l``) and ``a_{s,j}`` = input ``j`` nonzero in sample ``s`` when it skips
zero activations (else 1). Activations come from the record: a unit that spiked at least
once in the SNN is a nonzero activation.

Occupancy
---------
The stored weights need ``w = ceil(S b / (SRAM / cores))`` cores (at least one per layer),
a fraction ``f = w / cores`` of the wafer.

Latency mode (one inference alone)
----------------------------------
.. math::

   t_l = t_\mathrm{layer} + \frac{2 W_l}{F_\mathrm{peak}\,u},\qquad
   t = \sum_l t_l + t_\mathrm{io},\qquad
   E_\mathrm{dyn} = 2 \sum_l W_l\,\frac{P_\mathrm{sys} - P_\mathrm{idle}}{F_\mathrm{peak}},\qquad
   E_\mathrm{stat} = f\,P_\mathrm{idle}\,t

``t_layer`` is the per-layer pipeline floor (fabric traversal, synchronisation), ``u`` the
utilisation (1 when the profile states none). Only the occupied fraction of the wafer is
charged static power; the whole system's idle power over the same latency is shown beside
it (what a dedicated system serving one small network at a time really draws).

Throughput mode (pipeline full, network replicated over the wafer)
------------------------------------------------------------------
.. math::

   R = \min\Big(\frac{F_\mathrm{peak}\,u}{2 \sum_l W_l},\ \frac{\lfloor 1/f \rfloor}{\max_l t_l},\
              \frac{B_\mathrm{io}}{(n_\mathrm{in} + n_\mathrm{out})\,b_a}\Big),\qquad
   E_\mathrm{stat} = \frac{P_\mathrm{idle}}{R}

the whole system's idle power shared by the ``R`` inferences per second. The third bound is the
system's I/O (``io_bandwidth_bytes_per_s`` = ``B_io``, where the profile states it): every
inference streams its ``n_in`` inputs onto the wafer and its ``n_out`` outputs off it, ``b_a``
bytes each. A small network replicated over the whole wafer would otherwise complete far more
inferences per second than the system can feed.
"""
from __future__ import annotations

import math

import numpy as np

from neurosim.hardware.profile import Profile
from neurosim.hardware.result import KindCost, ModeCost
from neurosim.hardware.uncertainty import Draws
from neurosim.hardware.workload import Workload


def layer_work(workload: Workload, profile: Profile) -> list[float]:
    sw, sa = profile.flag("skips_zero_weights"), profile.flag("skips_zero_activations")
    return [layer.work(sw, sa) for layer in workload.layers]


def io_bytes_per_inference(workload: Workload, profile: Profile) -> float:
    """Bytes one inference moves through the system's I/O (inputs in, outputs out); 0 where the profile
    states no I/O bandwidth."""
    if not profile.has("io_bandwidth_bytes_per_s") or not workload.layers:
        return 0.0
    values = workload.layers[0].n_in + workload.layers[-1].n_out
    return float(values * profile.get("bytes_per_activation", profile.get("bytes_per_weight")))


def cost(workload: Workload, profile: Profile, p: Draws, batch_size: int = 1, deployment: str = "bare") -> KindCost:
    """Energy and latency per inference of the ANN of ``workload`` on wafer-scale ``profile`` (both modes)."""
    work = layer_work(workload, profile)
    total_work = float(sum(work))
    bpw = profile.get("bytes_per_weight")
    stored = workload.total_nnz if profile.flag("skips_zero_weights") else workload.total_dense
    sram_per_core = profile.get("sram_bytes") / profile.get("cores")
    cores = max(math.ceil(stored * bpw / sram_per_core), len(workload.layers))
    frac = min(cores / profile.get("cores"), 1.0)
    copies = max(int(profile.get("cores") // cores), 1)
    flops = p["peak_flops"] * p.get("utilisation", 1.0)
    stages = [p["layer_latency_s"] + 2.0 * w / flops for w in work]
    latency = sum(stages) + p.get("io_latency_s")
    e_flop = np.maximum(p["system_power_w"] - p["idle_power_w"], 0.0) / p["peak_flops"]
    dyn = {"compute": 2.0 * total_work * e_flop}
    lat = ModeCost(latency_s=latency, inferences_per_s=1.0 / latency, dynamic=dict(dyn),
                   static={"static_occupied_wafer": frac * p["idle_power_w"] * latency},
                   resources={"cores": int(cores), "wafer_fraction": frac, "copies": 1},
                   beside={"static_whole_system_j": p["idle_power_w"] * latency},
                   notes=[f"one inference alone: static power of the {100 * frac:.3g} % of the wafer it occupies; "
                          "a dedicated system would draw its whole idle power (shown beside)"])
    slowest = np.max(np.stack([np.broadcast_to(s, (p.n,)) for s in stages]), axis=0) if stages else latency
    # a network with no nonzero MACs is limited by its pipeline stages alone
    rate = np.minimum(flops / (2.0 * total_work), copies / slowest) if total_work > 0 else copies / slowest
    io_bytes = io_bytes_per_inference(workload, profile)
    if io_bytes:
        rate = np.minimum(rate, p["io_bandwidth_bytes_per_s"] / io_bytes)
    thr = ModeCost(latency_s=latency, inferences_per_s=rate, dynamic=dict(dyn),
                   static={"static_whole_system": p["idle_power_w"] / rate},
                   resources={"cores": int(min(cores * copies, profile.get("cores"))), "wafer_fraction":
                              min(frac * copies, 1.0), "copies": copies},
                   notes=[f"pipeline full, network replicated {copies} time(s) over the wafer; "
                          "the whole system's idle power shared by the inferences completed"
                          + ("; at most as many inferences per second as the system's I/O can feed"
                             if io_bytes else "")])
    assumptions = [
        "the wafer runs the ANN layer-pipelined; activations are the record's spike pattern "
        "(a unit that spiked at least once = nonzero activation)",
        "zero weights are " + ("skipped (not stored, no work)" if profile.flag("skips_zero_weights") else "computed")
        + "; zero activations are " + ("skipped (dataflow triggering)" if profile.flag("skips_zero_activations")
                                       else "computed"),
        "latency per layer = pipeline floor + FLOPs / (peak x utilisation); utilisation 1 where the profile states none",
        "dynamic energy per FLOP = (full-load - idle system power) / peak FLOP/s",
    ]
    if io_bytes:
        assumptions.append(f"throughput: each inference streams {io_bytes:.0f} B of inputs and outputs through "
                           "the system's I/O, which caps the inferences per second")
    extra = {"dense_macs": float(sum(l.dense for l in workload.layers)), "stored_weights": int(stored)}
    return KindCost(modes={"latency": lat, "throughput": thr}, work_label="MACs", work_per_inference=total_work,
                    assumptions=assumptions, extra=extra)
