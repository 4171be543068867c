r"""Cost model of neuromorphic many-core chips (Loihi, Loihi 2, SpiNNaker, SpiNNaker2).

The spiking network runs as it was simulated: the record's spikes, synaptic operations and
neuron updates are the work.

Mapping
-------
Input neurons are spike sources outside the cores (host or spike generators; their spikes
are routed to the cores and counted as messages). Each later layer ``l`` is spread evenly
over

.. math:: C_l = \max\left(\left\lceil \frac{n_l}{N_\mathrm{core}} \right\rceil,
                          \left\lceil \frac{S_l}{S_\mathrm{core}} \right\rceil\right)

cores, with ``n_l`` neurons, ``S_l`` nonzero synapses into the layer (stored with the
post-synaptic neuron), ``N_core`` = ``neurons_per_core`` and ``S_core`` =
``synapses_per_core`` (the second term only when the profile states it). Chips
``= ceil(sum_l C_l / cores_per_chip)``. Pruning lowers ``S_l`` and can lower ``C_l``.

Energy per inference
--------------------
.. math::

   E = \sum_l \mathrm{SOP}_l\,E_\mathrm{syn}
     + \sum_l \left[U^\mathrm{act}_l E_\mathrm{act} + (U_l - U^\mathrm{act}_l) E_\mathrm{inact}\right]
     + \Big(s_0 + \sum_l s_l\Big) E_\mathrm{spike}
     + P_\mathrm{static}\,\mathrm{chips}\,t_\mathrm{inf}

``SOP_l`` synaptic operations into layer ``l``, ``U_l`` / ``U^act_l`` its neuron updates
(all / active), ``s_l`` its spikes (``s_0`` the input spikes). A profile with a single
``energy_per_neuron_update_j`` charges every update that energy. A silent network
(no spikes, no synaptic operations, no active updates) costs inactive updates + static.

Latency per inference
---------------------
A timestep lasts as long as its most loaded core needs, plus the barrier synchronisation,
and never less than the profile's ``timestep_floor_s`` (real-time throttle):

.. math::

   t_\mathrm{core,l} = \frac{\mathrm{SOP}_l\,t_\mathrm{syn} + s_l\,t_\mathrm{spike}}{T_l\,C_l}
                     + \frac{n_l}{C_l}\,t_\mathrm{upd},\qquad
   t_\mathrm{step} = \max\!\Big(\max_l t_\mathrm{core,l} + t_\mathrm{sync},\; t_\mathrm{floor}\Big),\qquad
   t_\mathrm{inf} = T\,t_\mathrm{step}

with ``T_l`` the layer's enabled window and ``T`` the timesteps per inference. The record
holds totals, not per-step counts, so the load of a core is its mean per step (bursts are
not modelled: a lower bound on the busiest step).

Every figure comes from the profile; each scenario ('low', 'typical', 'high') evaluates the
model with the matching bound of every figure (the model is monotone in each figure).
"""
from __future__ import annotations

import math

from neurosim.hardware.profile import Profile
from neurosim.hardware.workload import SCENARIOS, CostResult, Workload, collect


def map_cores(workload: Workload, profile: Profile) -> dict[str, int]:
    """Cores per on-chip layer (see the module docstring)."""
    npc = profile.get("neurons_per_core")
    spc = profile.get("synapses_per_core") if profile.has("synapses_per_core") else None
    out = {}
    for layer in workload.layers:
        cores = math.ceil(layer.n_out / npc)
        if spc:
            cores = max(cores, math.ceil(layer.nnz / spc))
        out[layer.name] = max(int(cores), 1)
    return out


def cost(workload: Workload, profile: Profile) -> CostResult:
    """Energy and latency per inference of ``workload`` on neuromorphic ``profile``."""
    cores = map_cores(workload, profile)
    total_cores = sum(cores.values())
    chips = max(math.ceil(total_cores / profile.get("cores_per_chip")), 1)
    split = profile.has("energy_per_active_update_j")
    T = max(workload.timesteps, 1)

    def scenario(sc: str) -> tuple[dict[str, float], float]:
        g = lambda key: profile.get(key, sc, 0.0)  # noqa: E731  optional figures default to 0
        t_core = 0.0
        for layer in workload.layers:
            c = cores[layer.name]
            per_step = (layer.synops_in * g("time_per_synop_s") + layer.spikes_out * g("time_per_spike_s"))
            busy = per_step / (layer.timesteps * c) + (layer.n_out / c) * g("time_per_neuron_update_s")
            t_core = max(t_core, busy)
        step = max(t_core + g("sync_time_per_step_s"), g("timestep_floor_s"))
        latency = T * step
        synops = workload.synops
        updates = sum(l.updates for l in workload.layers)
        active = sum(min(l.active_updates, l.updates) for l in workload.layers)
        if split:
            e_upd = active * g("energy_per_active_update_j") + (updates - active) * g("energy_per_inactive_update_j")
        else:
            e_upd = updates * g("energy_per_neuron_update_j")
        comps = {
            "synaptic_ops": synops * g("energy_per_synop_j"),
            "neuron_updates": e_upd,
            "spikes_routing": workload.spikes * g("energy_per_spike_j"),
            "static": g("static_power_per_chip_w") * chips * latency,
        }
        return comps, latency

    energy, latency, breakdown = collect({sc: scenario(sc) for sc in SCENARIOS})
    assumptions = [
        "the spiking network runs as simulated: the record's spikes, synaptic operations and neuron updates are the work",
        "input neurons are off-core spike sources; their spikes are charged as routed messages, not as neuron updates",
        "neurons of a layer are spread evenly over its cores; a core's load is its mean per timestep "
        "(the record has no per-step counts, so bursts are not modelled)",
        f"{T} timesteps per inference; a timestep lasts as long as the busiest core plus barrier sync, "
        "and at least the profile's timestep floor (real-time throttle) where it has one",
        "static power is charged for every chip the network occupies, for the whole inference",
    ]
    if not profile.has("time_per_neuron_update_s"):
        assumptions.append("the profile states no time per neuron update: updates add no time")
    if not profile.has("synapses_per_core"):
        assumptions.append("the profile states no synaptic memory per core: cores are set by neurons per core only")
    resources = {"cores": int(total_cores), "chips": int(chips), "cores_per_layer": cores}
    return CostResult(energy=energy, latency=latency, breakdown=breakdown, resources=resources,
                      assumptions=assumptions, macs=None)
