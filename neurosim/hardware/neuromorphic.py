r"""Cost model of neuromorphic many-core chips (Loihi, Loihi 2, SpiNNaker, SpiNNaker2).

The spiking network runs as it was simulated: the record's spikes, synaptic operations and
neuron updates are the work (the target pays for *synaptic operations*).

Mapping (as the vendor toolchains do)
-------------------------------------
Input neurons are spike sources outside the cores (host or spike generators; their spikes
are routed to the cores and counted as messages). Each later layer ``l`` (``n_l`` neurons,
``S_l`` nonzero synapses into it, ``SOP_l`` synaptic operations and ``s_l`` spikes over its
``T_l`` enabled steps) gets

.. math::

   C_l = \max\left(\left\lceil \frac{n_l}{N_\mathrm{core}} \right\rceil,
                   \left\lceil \frac{S_l}{S_\mathrm{core}} \right\rceil,
                   \left\lceil \frac{(\mathrm{SOP}_l\,t_\mathrm{syn} + s_l\,t_\mathrm{spike})/T_l
                         + n_l\,t_\mathrm{upd}}{t_\mathrm{floor}} \right\rceil\right)

cores: neurons per core, synaptic memory per core (when the profile states it) and, on a
real-time system (``real_time``: a step lasts the network's dt, SpiNNaker; else
``timestep_floor_s`` > 0), the synaptic events a core can
process within one real-time step (sPyNNaker lowers the neurons per core until a core's
load fits its timer tick). Where the profile states a time per received spike
(``time_per_received_spike_s``), the real-time limit is instead the largest number of neurons
``n`` per core whose busiest step fits the real-time step, ``C_l = ceil(n_l / n)`` (see
:func:`core_load`: received spikes at their 99.99th Poisson percentile). With per-step counts
(see below) every real-time limit is that search, on the busiest step of the busiest core
(:func:`busiest_core_load`). Chips
``= ceil(sum_l C_l / cores_per_chip)``, boards
``= ceil(chips / chips_per_board)`` where the board is the unit of deployment, and frames
``= ceil(boards / boards_per_frame)`` when a deployment of several boards is rack-mounted
(the profile states a frame's own power: fans, power supplies, switches). The mapping
uses the figures' typical values, so resources are the same in every draw.

Time
----
A timestep lasts as long as its most loaded core needs, plus the barrier
synchronisation, and never less than the real-time step:

.. math::

   t_\mathrm{step} = \max\!\Big(\max_l \Big[\frac{\mathrm{SOP}_l\,t_\mathrm{syn}
       + s_l\,t_\mathrm{spike}}{T_l\,C_l} + \frac{n_l}{C_l}\,t_\mathrm{upd}\Big]
       + t_\mathrm{sync},\; t_\mathrm{floor}\Big)

and ``t = T t_step``. This is the **mean model**, used when the workload has no per-step
arrays (a record without ``step_counts``, a hand-built workload): a core's load is its mean
per step (plus ``r t_rx`` for the spikes it receives, where the profile states ``t_rx``).

**Per-step model** (the workload carries, per inference, the events ``e_l[k, j]`` delivered
into neuron ``j`` of layer ``l`` at step ``k``, the spikes ``s_l[k, j]`` it emits and the
spikes ``a_l[k, i]`` of layer ``l-1`` arriving; :mod:`~neurosim.hardware.workload`). Core
``c`` of layer ``l`` holds the contiguous block ``B_{l,c}`` of ``ceil(n_l / C_l)`` neurons, as the
mapping places them, and at step ``k`` needs

.. math::

   L_{l,c}[k] = t_\mathrm{syn} \sum_{j \in B_{l,c}} e_l[k, j]
     + t_\mathrm{spike} \sum_{j \in B_{l,c}} s_l[k, j] + |B_{l,c}|\,t_\mathrm{upd}
     + t_\mathrm{rx}\, r_{l,c}[k],\qquad
   r_{l,c}[k] = \sum_i a_l[k, i]\,[\exists j \in B_{l,c}: M_{ji}]

(``r``: spike packets the core receives, one per arriving spike with a target on it). Each
step lasts as long as its busiest core, and the latency is the sum over the ``T`` steps:

.. math::

   t_\mathrm{step}[k] = \max\!\Big(\max_{l,c} L_{l,c}[k] + t_\mathrm{sync},\; t_\mathrm{floor}\Big),
   \qquad t = \sum_{k=0}^{T-1} t_\mathrm{step}[k]

A network whose activity is bursty in time (graded coding sends most messages in the first
steps; rate codes reach deeper layers later) takes longer than its mean load says. The
per-step arrays are means over the samples, so the real-time mapping keeps the Poisson
burst margin on ``r_{l,c}[k]`` for the spread from sample to sample.

Energy per inference
--------------------
.. math::

   E_\mathrm{dyn} = \sum_l \mathrm{SOP}_l E_\mathrm{syn}
     + \sum_l \left[U^\mathrm{act}_l E_\mathrm{act} + (U_l - U^\mathrm{act}_l) E_\mathrm{inact}\right]
     + \Big(s_0 + \sum_l s_l\Big) E_\mathrm{spike}
     + P_\mathrm{mgmt}\,\mathrm{chips}\;t

with ``U_l`` / ``U^act_l`` the layer's neuron updates (all / active) and ``P_mgmt`` the
power of the chip's embedded management cores while a run is in progress (where the
profile states it). Static energy, latency mode (one inference alone, for its latency ``t``):

.. math::

   E_\mathrm{stat} = \begin{cases}
     \Big(B\,c_B\,P_\mathrm{chip} + B\,P_\mathrm{board} + F\,P_\mathrm{frame}\Big)\,t
       & \text{board = unit of deployment} \\
     \dfrac{\sum_l C_l}{c_\mathrm{chip}}\,P_\mathrm{chip}\;t & \text{otherwise (occupied cores)}
   \end{cases}

with ``F`` frames (``F = 0`` for a single board) and the static power of the whole chips
(``chips x P_chip x t``) shown beside it.
Host-driven deployment (a host exchanges I/O with the chip every timestep): ``t_step +=
t_host`` at every step, so the management cores and the static power are charged for longer.
Throughput mode: the network is replicated ``k = floor(capacity / sum_l C_l)`` times into
the cores of the chips (boards) it occupies and each copy takes a new input every ``T``
steps (inferences pipelined through the timesteps), so ``k / t`` inferences per
second share the static power of the whole chips (boards).
"""
from __future__ import annotations

import math

import numpy as np

from neurosim.hardware.profile import Profile
from neurosim.hardware.result import KindCost, ModeCost
from neurosim.hardware.uncertainty import Draws
from neurosim.hardware.workload import Workload


def step_floor(workload: Workload, profile: Profile) -> float:
    """Shortest wall-clock timestep: the network's dt on a real-time system, else the profile's floor."""
    floor = profile.get("timestep_floor_s", 0.0)
    if profile.flag("real_time"):
        return float(workload.dt_s) if workload.dt_s else floor
    return floor


#: standard-normal quantile of the busiest timestep a real-time core must absorb (99.99th percentile:
#: one overrun in 10,000 steps, i.e. about once per simulated second at 0.1 ms steps)
BURST_Z = 3.72


def core_load(layer, n: int, profile: Profile) -> float:
    r"""Time one core holding ``n`` of the layer's neurons needs in its busiest real-time step.

    With a per-core cost of each received spike (``t_rx``: packet interrupt, population-table
    lookup and DMA of the synaptic row, as sPyNNaker processes it), a core receives a spike
    when any of its ``n`` neurons is a target (connection probability
    :math:`p = S_l / (n_\mathrm{in} n_\mathrm{out})`):

    .. math::

       r = \frac{s^\mathrm{in}_l}{T_l}\big(1 - (1 - p)^n\big),\qquad
       \hat r = r + z\sqrt{r},\qquad
       L(n) = \hat r\,t_\mathrm{rx} + \frac{\hat r}{r}\,\frac{\mathrm{SOP}_l\,n}{T_l\,n_\mathrm{out}}\,
              t_\mathrm{syn} + \frac{s_l\,n}{T_l\,n_\mathrm{out}}\,t_\mathrm{spike} + n\,t_\mathrm{upd}

    ``r_hat``: Poisson arrivals at their 99.99th percentile (``z`` = :data:`BURST_Z`), so a
    core keeps up in its busiest steps, not only on average. Typical figure values, seconds.
    """
    T = max(layer.timesteps, 1)
    g = lambda k: profile.get(k, 0.0)  # noqa: E731
    frac = n / max(layer.n_out, 1)
    p_conn = min(max(float(layer.nnz) / max(layer.n_in * layer.n_out, 1), 0.0), 1.0)
    rows = layer.spikes_in / T * (1.0 - (1.0 - p_conn) ** n)
    burst = 1.0 + BURST_Z / math.sqrt(rows) if rows > 0 else 1.0
    return (rows * burst * g("time_per_received_spike_s") + burst * layer.synops_in / T * frac * g("time_per_synop_s")
            + layer.spikes_out / T * frac * g("time_per_spike_s") + n * g("time_per_neuron_update_s"))


class CoreSteps:
    """Per-core, per-step work of one layer split into ``C`` contiguous blocks of ``ceil(n_out / C)`` neurons.

    ``events``, ``spikes``, ``received`` (T, C): synaptic events delivered into the core's
    neurons, spikes they emit, spike packets the core receives (an arriving spike with at
    least one target on the core); ``neurons`` (C,). Per inference (means over samples).
    """

    def __init__(self, layer, cores: int, targets: "TargetRows | None" = None):
        block = -(-layer.n_out // max(int(cores), 1))
        starts = np.arange(0, layer.n_out, block)
        self.neurons = np.diff(np.append(starts, layer.n_out)).astype(np.float64)
        self.events = np.add.reduceat(layer.events_in_steps, starts, axis=1)
        self.spikes = np.add.reduceat(layer.spikes_out_steps, starts, axis=1)
        self.received = (targets or TargetRows(layer)).received(layer.spikes_in_steps, starts)

    def load(self, t_syn: float, t_spike: float, t_upd: float, t_rx: float, burst_z: float = 0.0) -> np.ndarray:
        """``L[k, c]`` (T, C), seconds, for one value of each figure; ``burst_z > 0`` takes the
        received spikes (and the events they bring) at ``r + z sqrt(r)``."""
        r, scale = self.received, 1.0
        if burst_z:
            r_hat = r + burst_z * np.sqrt(r)
            scale = np.divide(r_hat, r, out=np.ones_like(r), where=r > 0)
            r = r_hat
        return r * t_rx + scale * self.events * t_syn + self.spikes * t_spike + self.neurons[None, :] * t_upd


class TargetRows:
    """Which inputs have a target in a block of a layer's neurons (row-wise cumulative synapse counts)."""

    def __init__(self, layer):
        self.n_out, self.cum = layer.n_out, None
        self.any_synapse = float(bool(layer.nnz))
        if layer.mask is not None:
            self.cum = np.zeros((layer.n_out + 1, layer.n_in), dtype=np.int32)
            np.cumsum(layer.mask, axis=0, dtype=np.int32, out=self.cum[1:])

    def received(self, arriving: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """(T, C): spikes of ``arriving`` (T, n_in) with a target in the blocks that begin at ``starts``."""
        if self.cum is None:  # dense: every input reaches every neuron
            return np.repeat(arriving.sum(axis=1, keepdims=True) * self.any_synapse, starts.size, axis=1)
        bounds = np.append(starts, self.n_out)
        reached = (self.cum[bounds[1:]] - self.cum[bounds[:-1]]) > 0  # (C, n_in)
        return arriving @ reached.T.astype(np.float64)


def busiest_core_load(layer, n: int, profile: Profile, targets: TargetRows | None = None) -> float:
    """Time the busiest core needs in the busiest step with at most ``n`` neurons per core (per-step model).

    The layer takes ``C = ceil(n_out / n)`` cores, placed as the mapping places them
    (:class:`CoreSteps`: blocks of ``ceil(n_out / C)``). Typical figure values, seconds; the
    received spikes at their 99.99th Poisson percentile (``z`` = :data:`BURST_Z`) where the
    profile states a time per received spike.
    """
    g = lambda k: float(profile.get(k, 0.0))  # noqa: E731
    per_row = profile.has("time_per_received_spike_s")
    steps = CoreSteps(layer, -(-layer.n_out // max(int(n), 1)), targets)
    load = steps.load(g("time_per_synop_s"), g("time_per_spike_s"), g("time_per_neuron_update_s"),
                      g("time_per_received_spike_s"), BURST_Z if per_row else 0.0)
    return float(load.max(initial=0.0))


def map_cores(workload: Workload, profile: Profile) -> dict[str, dict[str, int]]:
    """Cores per on-chip layer and the limit that set them (see the module docstring)."""
    npc = profile.get("neurons_per_core")
    spc = profile.get("synapses_per_core", 0.0)
    floor = step_floor(workload, profile)
    t_syn, t_spk, t_upd = (profile.get(k, 0.0) for k in ("time_per_synop_s", "time_per_spike_s",
                                                          "time_per_neuron_update_s"))
    per_row = profile.has("time_per_received_spike_s")
    out = {}
    for layer in workload.layers:
        need = {"neurons_per_core": math.ceil(layer.n_out / npc)}
        if spc:
            need["synapses_per_core"] = math.ceil(layer.nnz / spc)
        if floor > 0 and layer.has_steps:
            # per-step model: fewer neurons per core until the busiest core's busiest step fits
            targets = TargetRows(layer) if per_row else None
            n = min(int(npc), layer.n_out)
            while n > 1 and busiest_core_load(layer, n, profile, targets) > floor:
                n -= 1
            need["events_per_real_time_step"] = math.ceil(layer.n_out / n)
        elif floor > 0 and per_row:
            # sPyNNaker lowers the neurons per core until the busiest step of every core fits its timer tick
            n = min(int(npc), layer.n_out)
            while n > 1 and core_load(layer, n, profile) > floor:
                n -= 1
            need["events_per_real_time_step"] = math.ceil(layer.n_out / n)
        elif floor > 0:
            load = (layer.synops_in * t_syn + layer.spikes_out * t_spk) / max(layer.timesteps, 1) \
                + layer.n_out * t_upd
            need["events_per_real_time_step"] = math.ceil(load / floor * (1 - 1e-9))
        limit = max(need, key=lambda k: need[k])
        out[layer.name] = {"cores": max(int(need[limit]), 1), "limited_by": limit}  # type: ignore[dict-item]
    return out


def _finish_step(t_core, workload: Workload, profile: Profile, p: Draws):
    """Busiest core + barrier sync, at least the real-time step and one synaptic operation's time
    (a silent network on a profile without sync or update times would otherwise take no time)."""
    return np.maximum(np.maximum(t_core + p.get("sync_time_per_step_s"), step_floor(workload, profile)),
                      p.get("time_per_synop_s"))


def _mean_step_time(workload: Workload, profile: Profile, p: Draws, cores: dict[str, int]):
    """One timestep (per draw) from each core's mean load per step (mean model)."""
    g = p.get
    t_core = np.zeros(p.n)
    for layer in workload.layers:
        c = cores[layer.name]
        busy = (layer.synops_in * g("time_per_synop_s") + layer.spikes_out * g("time_per_spike_s")) \
            / (layer.timesteps * c) + (layer.n_out / c) * g("time_per_neuron_update_s")
        if profile.has("time_per_received_spike_s"):
            p_conn = min(float(layer.nnz) / max(layer.n_in * layer.n_out, 1), 1.0)
            rows = layer.spikes_in / layer.timesteps * (1.0 - (1.0 - p_conn) ** math.ceil(layer.n_out / c))
            busy = busy + rows * g("time_per_received_spike_s")
        t_core = np.maximum(t_core, busy)
    return _finish_step(t_core, workload, profile, p)


def _step_times(workload: Workload, profile: Profile, p: Draws, cores: dict[str, int]) -> list:
    """Each timestep's duration (per draw): the busiest core at that step (per-step model)."""
    g = p.get
    figures = [np.broadcast_to(np.asarray(g(k), dtype=np.float64), (p.n,)) for k in
               ("time_per_synop_s", "time_per_spike_s", "time_per_neuron_update_s", "time_per_received_spike_s")]
    per_core = [CoreSteps(layer, cores[layer.name]) for layer in workload.layers]
    T = min(c.events.shape[0] for c in per_core)
    out = []
    for k in range(T):
        t_core = np.zeros(p.n)
        for c in per_core:  # (C, 4) @ (4, draws) -> each core's load in each draw
            work = np.stack([c.events[k], c.spikes[k], c.neurons, c.received[k]], axis=1)
            t_core = np.maximum(t_core, (work @ np.stack(figures)).max(axis=0))
        out.append(_finish_step(t_core, workload, profile, p))
    return out


def cost(workload: Workload, profile: Profile, p: Draws, batch_size: int = 1, deployment: str = "bare") -> KindCost:
    """Energy and latency per inference of ``workload`` on neuromorphic ``profile`` (both modes).

    ``batch_size`` is not used: a spiking chip takes one input per network copy.
    ``deployment='host_driven'``: a host exchanges inputs and outputs with the chip every
    timestep; the profile's ``host_sync_per_step_s`` is added to every step (the chip waits,
    its management cores and static power still charged).
    """
    mapping = map_cores(workload, profile)
    cores = {k: v["cores"] for k, v in mapping.items()}
    total_cores = sum(cores.values())
    cpc = int(profile.get("cores_per_chip"))
    chips = max(math.ceil(total_cores / cpc), 1)
    cpb = int(profile.get("chips_per_board", 0))
    boards = math.ceil(chips / cpb) if cpb else 0
    T = max(workload.timesteps, 1)
    g = p.get
    per_step = bool(workload.layers) and all(layer.has_steps for layer in workload.layers)
    steps = _step_times(workload, profile, p, cores) if per_step else [_mean_step_time(workload, profile, p, cores)]
    host = deployment == "host_driven" and profile.has("host_sync_per_step_s")
    if host:
        steps = [step + g("host_sync_per_step_s") for step in steps]
    latency = sum(steps) if per_step else T * steps[0]
    updates = sum(l.updates for l in workload.layers)
    active = sum(min(l.active_updates, l.updates) for l in workload.layers)
    if profile.has("energy_per_active_update_j"):
        e_upd = active * g("energy_per_active_update_j") + (updates - active) * g("energy_per_inactive_update_j")
    else:
        e_upd = updates * g("energy_per_neuron_update_j")
    events = {"synaptic_ops": workload.synops * g("energy_per_synop_j"), "neuron_updates": e_upd,
              "spikes_routing": workload.spikes * g("energy_per_spike_j")}
    p_chip = g("static_power_per_chip_w")
    p_mgmt = g("management_power_per_chip_w")
    frames = 0
    if boards > 1 and profile.has("frame_overhead_power_w"):
        bpf = int(profile.get("boards_per_frame", 0))
        frames = math.ceil(boards / bpf) if bpf else 1
    frame_power = frames * g("frame_overhead_power_w") if frames else 0.0
    if boards:
        unit_power = boards * (cpb * p_chip + g("board_overhead_power_w"))
        unit = f"{boards} board(s) of {cpb} chips" + (f" in {frames} frame(s)" if frames else "")
        capacity = boards * cpb * cpc
    else:
        unit_power = chips * p_chip
        unit = f"{chips} chip(s)"
        capacity = chips * cpc
    copies = max(capacity // max(total_cores, 1), 1)
    occupied_power = unit_power if boards else p_chip * total_cores / cpc

    def static(per: str, power, seconds) -> dict:
        out = {per: power * seconds}
        if frames:
            out["static_frames"] = frame_power * seconds
        return out

    lat_dyn = dict(events)
    if profile.has("management_power_per_chip_w"):
        lat_dyn["management_cores"] = p_mgmt * chips * latency
    lat = ModeCost(
        latency_s=latency, inferences_per_s=1.0 / latency, dynamic=lat_dyn,
        static=static("static_boards" if boards else "static_occupied_cores", occupied_power, latency),
        resources={"cores": int(total_cores), "chips": int(chips), "boards": int(boards), "frames": int(frames),
                   "copies": 1,
                   "cores_per_layer": cores},
        beside={"static_whole_chips_j": chips * p_chip * latency},
        notes=["one inference alone: static power of " + (unit + " (the unit of deployment)" if boards
                                                          else "the occupied cores") + " for its whole latency"])
    rate = copies / latency
    thr_dyn = dict(events)
    if profile.has("management_power_per_chip_w"):
        thr_dyn["management_cores"] = p_mgmt * chips / rate
    thr = ModeCost(
        latency_s=latency, inferences_per_s=rate, dynamic=thr_dyn,
        static=static("static_boards" if boards else "static_whole_chips", unit_power, 1.0 / rate),
        resources={"cores": int(total_cores * copies), "chips": int(chips), "boards": int(boards),
                   "frames": int(frames),
                   "copies": int(copies), "cores_per_layer": cores},
        notes=[f"network replicated {copies} time(s) into the cores of {unit}; each copy takes a new input every "
               f"{T} timesteps; static power of {unit} shared by the inferences completed"])
    assumptions = [
        "the spiking network runs as simulated: the record's spikes, synaptic operations and neuron updates are the work",
        "input neurons are off-core spike sources; their spikes are charged as routed messages, not as neuron updates",
        "cores per layer: neurons per core, synaptic memory per core and (real-time systems) synaptic events per "
        "real-time step, whichever needs most; " + (
            "a core holds a contiguous block of the layer's neurons and its load at each step is computed from "
            "the record's per-step counts (busiest step for the real-time mapping)" if per_step else
            "a core's load is its mean per timestep (the record has no per-step counts)") +
        ", with received spikes at their 99.99th Poisson percentile where the profile states a time per received "
        "spike",
        f"{T} timesteps per inference; " + (
            "each timestep lasts as long as its busiest core at that step plus barrier sync, and at least the "
            "real-time step where the profile has one; the latency is their sum" if per_step else
            "a timestep lasts as long as the busiest core plus barrier sync, and at least the real-time step "
            "where the profile has one"),
    ]
    if host:
        assumptions.append("host-driven: the host synchronises with the chip and exchanges inputs and outputs "
                           "every timestep (host_sync_per_step_s added to each step)")
    if not profile.has("time_per_neuron_update_s"):
        assumptions.append("the profile states no time per neuron update: updates add no time")
    if not profile.has("synapses_per_core"):
        assumptions.append("the profile states no synaptic memory per core: synapses do not limit the cores")
    extra = {"mapping": mapping, "deployment_unit": "board" if boards else "chip"}
    return KindCost(modes={"latency": lat, "throughput": thr}, work_label="synaptic ops",
                    work_per_inference=float(workload.synops), assumptions=assumptions, extra=extra)
