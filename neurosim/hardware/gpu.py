r"""Cost model of the GPU baseline: the ANN run densely at batch 1 (one inference per call).

A GPU computes every weight of a dense layer whether it is zero or not (unstructured
sparsity is not exploited; only 2:4 structured sparsity would be), and every activation
whether it is zero or not. Per layer ``l``:

.. math::

   M_l = n_\mathrm{in} n_\mathrm{out},\qquad
   B_l = M_l\, b_w + (n_\mathrm{in} + n_\mathrm{out})\, b_a,\qquad
   t_l = k\, t_\mathrm{launch} + \max\!\Big(\frac{2 M_l}{F_\mathrm{peak}},\ \frac{B_l}{BW}\Big)

``k`` kernels per layer (GEMM, bias/activation), ``t_launch`` the launch + scheduling latency
of one kernel, ``b_w`` / ``b_a`` bytes per weight / activation. Per inference:

.. math::

   t_\mathrm{inf} = \sum_l t_l + t_\mathrm{host},\qquad
   E = \max\!\Big(P_\mathrm{active}\, t_\mathrm{inf},\ \sum_l M_l E_\mathrm{MAC} + B_l E_\mathrm{byte}\Big)

The reality of a batch-1 MLP of a few hundred thousand weights: the FLOPs take
nanoseconds at peak, the weights microseconds to stream, while each kernel launch costs
microseconds, so latency is launch-bound and energy is board power x latency, almost none
of it spent on arithmetic. The breakdown shows the MAC and memory energy and the rest.
"""
from __future__ import annotations

from neurosim.hardware.profile import Profile
from neurosim.hardware.workload import SCENARIOS, CostResult, Workload, collect


def cost(workload: Workload, profile: Profile) -> CostResult:
    """Energy and latency per inference of the dense ANN of ``workload`` on GPU ``profile``."""
    bw_, ba = profile.get("bytes_per_weight"), profile.get("bytes_per_activation")
    macs = [float(l.dense) for l in workload.layers]
    nbytes = [m * bw_ + (l.n_in + l.n_out) * ba for m, l in zip(macs, workload.layers)]
    details = {}

    def scenario(sc: str) -> tuple[dict[str, float], float]:
        g = lambda key: profile.get(key, sc, 0.0)  # noqa: E731
        launch = len(macs) * g("kernels_per_layer") * g("kernel_launch_s")
        work = sum(max(2.0 * m / g("peak_flops"), b / g("memory_bandwidth_bytes_per_s"))
                   for m, b in zip(macs, nbytes))
        latency = launch + work + g("host_transfer_s")
        e_mac = sum(macs) * g("energy_per_mac_j")
        e_mem = sum(nbytes) * g("energy_per_byte_j")
        total = max(g("power_active_w") * latency, e_mac + e_mem)
        details[sc] = {"launch_s": launch, "compute_or_memory_s": work}
        return {"macs": e_mac, "memory_traffic": e_mem, "idle_and_overhead": total - e_mac - e_mem}, latency

    energy, latency, breakdown = collect({sc: scenario(sc) for sc in SCENARIOS})
    flop_time = 2.0 * sum(macs) / profile.get("peak_flops")
    extra = {
        "launch_fraction_of_latency": details["typical"]["launch_s"] / max(latency["typical"], 1e-30),
        "flop_time_at_peak_s": flop_time,
        "weight_bytes": float(sum(macs) * bw_),
    }
    assumptions = [
        "the GPU runs the dense ANN at batch 1 (one inference per call): zero weights and zero activations "
        "are computed like any other (unstructured sparsity is not exploited)",
        "latency per layer = kernel launches + max(FLOPs / peak, bytes / bandwidth); layers run in sequence",
        f"at batch 1 this network is launch-bound: launches are {100 * extra['launch_fraction_of_latency']:.0f} % "
        f"of the typical latency, the FLOPs alone would take {flop_time:.2g} s at peak",
        "energy = board power while serving x latency (or the MAC + memory energy, if larger)",
    ]
    resources = {"gpus": 1, "weight_bytes": int(sum(macs) * bw_)}
    return CostResult(energy=energy, latency=latency, breakdown=breakdown, resources=resources,
                      assumptions=assumptions, macs=float(sum(macs)), extra=extra)
