r"""Cost model of wafer-scale dataflow engines (Cerebras WSE-2, WSE-3) running the ANN.

The target runs the ANN (one pass per inference, batch 1), layer-pipelined across the
wafer: every layer owns a region of cores holding its weights in SRAM.

Work
----
Per layer ``l`` the MACs executed are

.. math:: W_l = \frac{1}{N}\sum_s \sum_j a_{s,j}\, c_j

with ``c_j`` the nonzero fan-out of input ``j`` into the layer when the profile says the
hardware skips zero weights (``skips_zero_weights``; else ``c_j = n_l``) and ``a_{s,j}`` =
input ``j`` nonzero in sample ``s`` when it skips zero activations
(``skips_zero_activations``; else 1). Activations come from the record: a unit that spiked
at least once in the SNN is a nonzero activation.

Latency and energy per inference
--------------------------------
.. math::

   t_l = t_\mathrm{layer} + \frac{2 W_l}{F_\mathrm{peak}\,u},\qquad
   t_\mathrm{inf} = \sum_l t_l + t_\mathrm{io},\qquad
   E = P_\mathrm{system}\; t_\mathrm{inf}

``t_layer`` is the per-layer pipeline floor (fabric traversal, synchronisation), ``u`` the
utilisation (1 when the profile states none), ``P_system`` the system power while it serves
the model: a dedicated system at batch 1 draws its power for the whole inference. The
breakdown splits ``E`` into the energy of the FLOPs at peak efficiency
(``2 W P / F_peak``) and the rest (the system waiting on the pipeline). For a small MLP the
floor dominates: sparsity shortens the compute term, which is already negligible.
"""
from __future__ import annotations

import math

from neurosim.hardware.profile import Profile
from neurosim.hardware.workload import SCENARIOS, CostResult, Workload, collect


def layer_work(workload: Workload, profile: Profile) -> list[float]:
    sw, sa = profile.flag("skips_zero_weights"), profile.flag("skips_zero_activations")
    return [layer.work(sw, sa) for layer in workload.layers]


def cost(workload: Workload, profile: Profile) -> CostResult:
    """Energy and latency per inference of the ANN of ``workload`` on wafer-scale ``profile``."""
    work = layer_work(workload, profile)
    total_work = float(sum(work))

    def scenario(sc: str) -> tuple[dict[str, float], float]:
        g = lambda key, d=0.0: profile.get(key, sc, d)  # noqa: E731
        peak, util = g("peak_flops"), g("utilisation", 1.0)
        latency = sum(g("layer_latency_s") + 2.0 * w / (peak * util) for w in work) + g("io_latency_s")
        total = g("system_power_w") * latency
        compute = min(2.0 * total_work * g("system_power_w") / peak, total)
        return {"compute_at_peak_efficiency": compute, "system_overhead": total - compute}, latency

    energy, latency, breakdown = collect({sc: scenario(sc) for sc in SCENARIOS})
    bpw = profile.get("bytes_per_weight")
    stored = workload.total_nnz if profile.flag("skips_zero_weights") else workload.total_dense
    sram_per_core = profile.get("sram_bytes") / profile.get("cores")
    cores = max(math.ceil(stored * bpw / sram_per_core), len(workload.layers))
    resources = {"cores": int(cores), "wafers": 1, "wafer_fraction": cores / profile.get("cores"),
                 "weight_bytes": int(stored * bpw)}
    assumptions = [
        "the wafer runs the ANN once per inference at batch 1, layer-pipelined; activations are the record's "
        "spike pattern (a unit that spiked at least once = nonzero activation)",
        "zero weights are " + ("skipped (not stored, no work)" if profile.flag("skips_zero_weights") else "computed")
        + "; zero activations are " + ("skipped (dataflow triggering)" if profile.flag("skips_zero_activations")
                                       else "computed"),
        "latency per layer = pipeline floor + FLOPs / (peak x utilisation); utilisation 1 where the profile states none",
        "energy = system power x latency: a dedicated system serving one inference at a time",
    ]
    dense_work = float(sum(l.dense for l in workload.layers))
    extra = {"dense_macs": dense_work, "compute_fraction_of_latency":
             (2.0 * total_work / (profile.get("peak_flops") * profile.get("utilisation", "typical", 1.0)))
             / max(latency["typical"], 1e-30)}
    return CostResult(energy=energy, latency=latency, breakdown=breakdown, resources=resources,
                      assumptions=assumptions, macs=total_work, extra=extra)
