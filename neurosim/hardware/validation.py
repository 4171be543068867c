"""Published end-to-end measurements the cost models are checked against.

Each :class:`Case` rebuilds the measured workload (shape, activity, timesteps, mode), names
the measurement and its source, and says which profile figures came from where. A case whose
measurement was used to derive any figure of the profile it checks is a *consistency check*
(``independent=False``) and does not count. Acceptance of an independent case: the median
estimate within ``2x`` of the measurement **and** a 10-90 % interval narrower than ``10x``
(thresholds in ``experiments/targets.toml``, section ``energy_validation``). A case the
models miss stays in the list with ``expected='miss'`` and the reason.

:func:`evaluate` runs one case; ``python experiments/validation_table.py`` prints the table of
``docs/hardware.md``. Devices measured in a paper but not bundled as profiles (a Quadro
K4000, a Xeon E5-2630, a Jetson TX1) are described here from their datasheets, with the same
estimated dispatch and load figures as the bundled GPU/CPU profiles of their class and the
host-driven figures (framework time per call, power while it runs) of their class.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Callable

import numpy as np

from neurosim.hardware.estimate import estimate
from neurosim.hardware.profile import Figure, Profile, load_profile, parse_profile
from neurosim.hardware.workload import Workload, WorkloadLayer

#: acceptance of an independent case (also in experiments/targets.toml, section energy_validation)
MAX_RATIO = 2.0
MAX_WIDTH = 10.0


@dataclass(frozen=True)
class Case:
    """One published measurement and the workload that rebuilds it.

    ``quantity``: 'dynamic' or 'total' energy; ``per``: 'inference', 'synaptic_op' (energy per
    synaptic event) or 'op' (energy per operation, from TOPS/W: 1 MAC = 2 ops); ``measured``:
    joules per ``per``. ``scope``: the estimate's energy components the measurement covers
    (``None``: all of the chosen quantity). ``variant``: figures set for this case (the
    measured chip's published architecture, not fitted values), SI units. ``deployment``: how
    the measurement was taken, ``'bare'`` or ``'host_driven'`` (a framework call per inference, or
    host I/O every timestep; see :func:`neurosim.hardware.estimate.estimate`). ``measured_in``: how
    figures would cite the measured document, where its first author and year do not identify it
    (a vendor repository holding several measurements).
    """

    key: str
    kind: str
    profile: str | Callable[[], Profile]
    workload: Callable[[], Workload]
    mode: str
    quantity: str
    per: str
    measured: float
    measurement: str
    source: str
    workload_text: str
    provenance: str
    independent: bool = True
    expected: str = "within"
    reason: str = ""
    scope: tuple[str, ...] | None = None
    variant: dict[str, float] = field(default_factory=dict)
    batch_size: int = 1
    deployment: str = "bare"
    measured_in: str = ""


def with_figures(profile: Profile, values: dict[str, float], note: str) -> Profile:
    """A copy of ``profile`` with figures set to single values (a case's published architecture)."""
    figs = dict(profile.figures)
    for key, v in values.items():
        old = figs[key]
        figs[key] = Figure(key=key, low=v, typical=v, high=v, source=note, confidence="V1", unit=old.unit)
    return replace(profile, name=profile.name + "+case", figures=MappingProxyType(figs))


def _device(toml: str) -> Callable[[], Profile]:
    import tomllib

    return lambda: parse_profile(tomllib.loads(toml), "<validation device>")


def evaluate(case: Case, draws: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Estimate ``case``; the measured value, median, 10-90 % interval, ratio and verdict."""
    prof = case.profile() if callable(case.profile) else load_profile(case.profile)
    if case.variant:
        prof = with_figures(prof, case.variant, f"case {case.key}: the measured chip's published architecture")
    wl = case.workload()
    est = estimate(wl, prof, draws=draws, seed=seed, batch_size=case.batch_size, deployment=case.deployment)
    m = est.modes[case.mode]
    samples = m.samples["dynamic" if case.quantity == "dynamic" else "total"]
    if case.scope is not None:
        # only the components inside the measurement's scope: recompute from the breakdown's parts
        samples = _scoped(wl, prof, case, draws, seed)
    denom = {"inference": 1.0, "synaptic_op": wl.synops, "op": 2.0 * est.work["dense_macs_per_inference"]}[case.per]
    per = samples / denom
    p10, med, p90 = (float(v) for v in np.percentile(per, [10, 50, 90]))
    ratio = med / case.measured
    width = p90 / p10 if p10 > 0 else float("inf")
    within = (1 / MAX_RATIO <= ratio <= MAX_RATIO) and width < MAX_WIDTH
    return {"key": case.key, "kind": case.kind, "profile": prof.name, "mode": case.mode, "quantity": case.quantity,
            "per": case.per, "measured": case.measured, "median": med, "p10": p10, "p90": p90, "ratio": ratio,
            "width": width, "within": within, "independent": case.independent, "expected": case.expected,
            "dominant_uncertainty": m.dominant_uncertainty.get("figure"), "deployment": case.deployment}


def _scoped(wl: Workload, prof: Profile, case: Case, draws: int, seed: int) -> np.ndarray:
    from neurosim.hardware.estimate import MODELS
    from neurosim.hardware.uncertainty import draw

    p = draw(prof, draws, seed)
    mc = MODELS[prof.kind].cost(wl, prof, p, case.batch_size, deployment=case.deployment).modes[case.mode]
    parts = {**mc.dynamic, **mc.static}
    return np.asarray(sum(np.broadcast_to(np.asarray(parts[k], float), (draws,)) for k in case.scope), float)


# ----------------------------------------------------------------------------- workloads

def kws(rate: float = 0.1, timesteps: int = 10) -> Workload:
    """Blouw et al. (2019) keyword spotter: 390-256-256-29, fully connected."""
    return Workload.mlp([390, 256, 256, 29], timesteps=timesteps, rates=[rate, rate, rate, 0.0], model="kws")


def pd14() -> Workload:
    """Potjans & Diesmann (2014) cortical microcircuit for 1 s of biological time at 0.1 ms steps, as one
    recurrent population: 77,169 neurons, 3e8 synapses, 9.38e8 synaptic events per second (GeNN's count,
    Knight & Nowotny 2018), so 2.4e5 spikes per second (events / mean fan-out of 3,888)."""
    n, syn, events, steps = 77_169, 300_000_000, 9.38e8, 10_000
    spikes = events / (syn / n)
    layer = WorkloadLayer("microcircuit", "lif", n, n, timesteps=steps, nnz=syn, synops_in=events, spikes_in=spikes,
                          spikes_out=spikes, updates=float(n * steps), active_updates=float(n * steps))
    return Workload(model="pd14", layers=[layer], timesteps=steps, dt_s=1e-4, coding="rate")


#: Intel's PilotNet LIF network on Loihi 2, one inference (16 steps): per layer (name, neurons,
#: synapses, synaptic events delivered, spikes in, spikes out), from lava-dl's published spike trains of
#: this network (``python experiments/pilotnet_activity.py LAVA_DL_CHECKOUT`` derives them)
PILOTNET_LIF_INPUT = (39_600, 561_334)  # on-chip input neurons (200 x 66 x 3, bias-driven) and their spikes
PILOTNET_LIF_LAYERS = (
    ("conv-0", 76_032, 2_052_864, 29_012_760, 561_334, 101_765),
    ("conv-1", 26_460, 5_715_360, 7_759_116, 101_765, 42_805),
    ("conv-2", 8_064, 2_612_736, 4_296_192, 42_805, 16_136),
    ("conv-3", 5_632, 2_027_520, 4_086_848, 16_136, 9_763),
    ("conv-4", 2_560, 1_474_560, 2_392_064, 9_763, 4_183),
    ("fc-0", 100, 256_000, 418_300, 4_183, 108),
    ("fc-1", 50, 5_000, 5_400, 108, 29),
    ("fc-2", 10, 500, 290, 29, 3),
    ("fc-3", 1, 10, 3, 3, 0),
)
PILOTNET_STEPS = 16


def pilotnet_lif() -> Workload:
    """PilotNet LIF (lava-dl) for one 16-step inference: the input layer's neurons run on the chip
    (driven by the frame as bias: updates and spikes, no synaptic input), then five 3 x 3
    convolutions and four dense layers, every neuron updated at every step."""
    t = PILOTNET_STEPS
    n0, s0 = PILOTNET_LIF_INPUT
    layers = [WorkloadLayer("input", "lif", n0, n0, timesteps=t, nnz=0, spikes_out=float(s0),
                            updates=float(n0 * t), active_updates=float(n0 * t))]
    n_prev = n0
    for name, n, syn, events, s_in, s_out in PILOTNET_LIF_LAYERS:
        layers.append(WorkloadLayer(name, "lif", n_prev, n, timesteps=t, nnz=syn, synops_in=float(events),
                                    spikes_in=float(s_in), spikes_out=float(s_out), updates=float(n * t),
                                    active_updates=float(n * t)))
        n_prev = n
    return Workload(model="pilotnet_lif", layers=layers, timesteps=t, coding="rate")


def single_layer(n_in: int, n_out: int) -> Callable[[], Workload]:
    return lambda: Workload(model=f"mvm{n_in}x{n_out}", layers=[WorkloadLayer("mvm", "linear", n_in, n_out)])


# ----------------------------------------------------------------------------- measured devices

#: TensorFlow 1.x per-call time from a Python loop (session.run with feed and fetch)
TF_CALL_SOURCE = ("TensorFlow team member's measurement (Y. Bulatov, github.com/tensorflow/tensorflow/issues/5516, "
                  "14 Nov 2016): a fixed per-run overhead of session.run; crossing the Python/C++ boundary "
                  "'will add 0.2ms overhead' per call for an op without memory transfers (CPU)")

_DISPATCH = """
[figures.kernel_launch_s]
low = 3
typical = 8
high = 20
unit = "us"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate, as in the bundled cpu_server / gpu_baseline profiles: dispatch of one operator, a few to tens of microseconds (no primary figure found)"

[figures.kernels_per_layer]
low = 1
typical = 2
high = 3
unit = "1"
distribution = "triangular"
confidence = "assumption"
source = "Modelling assumption: GEMM with fused bias/activation (1), matmul + bias-activation (2), or three operators (3)"

[figures.host_transfer_s]
low = 10
typical = 25
high = 60
unit = "us"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate, as in the bundled gpu_baseline profile: per-call copies and synchronisation (no primary figure found)"

[figures.bytes_per_weight]
value = 4
confidence = "assumption"
source = "Modelling assumption: FP32 weights (TensorFlow 1.x default)"

[figures.bytes_per_activation]
value = 4
confidence = "assumption"
source = "Modelling assumption: FP32 activations"
"""

_CPU_HOST = f"""
[figures.host_call_s]
low = 0.1
typical = 0.2
high = 0.4
unit = "ms"
distribution = "lognormal"
confidence = "V3"
source = "{TF_CALL_SOURCE}"
derivation = "typical = the quoted 0.2 ms; 10th/90th percentiles at half and twice (another TensorFlow version and machine)"

[figures.host_call_load]
low = 0.08
typical = 0.125
high = 0.25
unit = "1"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate: the Python loop and TensorFlow's executor keep about one of the socket's 6-10 cores busy (Intel ARK core counts of the E5-2630 generations), so about 1/8 of the package's dynamic power span; high for single-core turbo and the uncore"
"""

_GPU_HOST = """
[figures.host_call_s]
low = 0.5
typical = 1.0
high = 2.0
unit = "ms"
distribution = "lognormal"
confidence = "estimate"
source = "As in the bundled gpu_baseline profile: bracketed by a TensorFlow C++ API call on a Tesla P40, 508 us (github.com/tensorflow/tensorflow/issues/18546, 2018), and a Python call of TensorFlow on a GPU, 2.0 ms at batch 64 (github.com/wjaskowski/tensorflow-vs-theano-benchmark, 2016)"
derivation = "10th/90th percentiles = the two measurements; median = their geometric mean, 1.0 ms"

[figures.host_call_load]
low = 0.1
typical = 0.2
high = 0.35
unit = "1"
distribution = "lognormal"
confidence = "derived"
source = "Vadari S.S. (2026), arXiv 2605.23918, abstract: a process's CUDA context forces a DVFS transition consuming 66 W over bare idle on a GDDR6 board (L40S, 350 W board power per NVIDIA's L40S datasheet), i.e. about 19 % of the board power"
derivation = "19 % of the K4000's 80 W = 15 W over (80 - 12) W of dynamic span = 0.22, rounded to 0.2; 10th/90th percentiles 0.1-0.35 for another GPU generation; the board's power while it waits on the host's framework code"
"""

_JETSON_HOST = """
[figures.host_call_s]
low = 1.25
typical = 2.5
high = 5.0
unit = "ms"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate: the GPU per-call time above (0.5 / 1.0 / 2.0 ms) run by the TX1's Cortex-A57 cores (NVIDIA Jetson TX1 data sheet, 2015: 4 x A57 at 1.73 GHz), taken as 2.5x slower per thread than a server core"
derivation = "(0.5, 1.0, 2.0) ms x 2.5 = 1.25, 2.5, 5.0 ms (10th percentile, median, 90th percentile)"

[figures.host_call_load]
low = 0.04
typical = 0.08
high = 0.16
unit = "1"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate: the framework's host code runs on one of the module's four A57 cores, inside the measured board; about 1 W of the board's 13 W dynamic span"
"""

QUADRO_K4000 = """
name = "quadro_k4000"
kind = "gpu"
title = "NVIDIA Quadro K4000 (Kepler, 768 CUDA cores, 3 GB GDDR5)"
[figures.peak_flops]
value = 1.246
unit = "TFLOP/s"
confidence = "derived"
source = "NVIDIA Quadro K4000 datasheet (2013): 768 CUDA cores; 811 MHz core clock (NVIDIA specifications)"
derivation = "768 x 2 FLOP x 0.811 GHz = 1.246 TFLOP/s FP32"
[figures.memory_bandwidth_bytes_per_s]
value = 134
unit = "GB/s"
confidence = "V2"
source = "NVIDIA Quadro K4000 datasheet (2013): 134 GB/s GDDR5"
[figures.max_power_w]
value = 80
unit = "W"
confidence = "V2"
source = "NVIDIA Quadro K4000 datasheet (2013): max power consumption 80 W"
[figures.idle_power_w]
low = 8
typical = 12
high = 18
unit = "W"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate: 10-22 % of the 80 W board limit (no idle measurement other than the validated paper's)"
[figures.launch_bound_load]
low = 0.05
typical = 0.12
high = 0.3
unit = "1"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate, as in the bundled gpu_baseline profile (no published figure)"
""" + _DISPATCH + _GPU_HOST

XEON_E5_2630 = """
name = "xeon_e5_2630"
kind = "cpu"
title = "Intel Xeon E5-2630 (one socket; generation not stated by the paper)"
[figures.peak_flops]
low = 221
typical = 400
high = 710
unit = "GFLOP/s"
distribution = "loguniform"
confidence = "derived"
source = "Intel ARK, Xeon E5-2630 (v1, 2012: 6 cores, 2.3 GHz, AVX) to E5-2630 v4 (2016: 10 cores, 2.2 GHz, AVX2 FMA)"
derivation = "v1: 6 x 2.3 GHz x 16 FLOP = 221 GFLOP/s; v4: 10 x 2.2 GHz x 32 FLOP = 704 GFLOP/s (the paper does not say which)"
[figures.memory_bandwidth_bytes_per_s]
low = 42.6
typical = 55
high = 68.3
unit = "GB/s"
distribution = "uniform"
confidence = "derived"
source = "Intel ARK, Xeon E5-2630 v1 to v4: 4 memory channels, DDR3-1333 to DDR4-2133"
derivation = "4 channels x 8 B x 1333 MT/s = 42.6 GB/s (v1) to 4 x 8 B x 2133 MT/s = 68.3 GB/s (v4)"
[figures.max_power_w]
low = 85
typical = 90
high = 95
unit = "W"
distribution = "uniform"
confidence = "V2"
source = "Intel ARK: Xeon E5-2630 TDP 95 W (v1), 80 W (v2), 85 W (v3, v4)"
[figures.idle_power_w]
low = 8
typical = 13
high = 20
unit = "W"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate: package power with all cores in deep C-states, 10-20 % of TDP (no idle measurement other than the validated paper's)"
[figures.launch_bound_load]
low = 0.03
typical = 0.08
high = 0.2
unit = "1"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate, as in the bundled cpu_server profile (no published figure)"
""" + _DISPATCH + _CPU_HOST

JETSON_TX1 = """
name = "jetson_tx1"
kind = "gpu"
title = "NVIDIA Jetson TX1 (Maxwell, 256 CUDA cores, 4 GB LPDDR4), developer kit"
[figures.peak_flops]
value = 0.512
unit = "TFLOP/s"
confidence = "V2"
source = "NVIDIA Jetson TX1 module data sheet (2015): 256 CUDA cores, 1 TFLOP/s FP16 (512 GFLOP/s FP32)"
[figures.memory_bandwidth_bytes_per_s]
value = 25.6
unit = "GB/s"
confidence = "V2"
source = "NVIDIA Jetson TX1 module data sheet (2015): 4 GB 64-bit LPDDR4, 25.6 GB/s"
[figures.max_power_w]
value = 15
unit = "W"
confidence = "V3"
source = "NVIDIA Jetson TX1 module data sheet (2015): module power up to about 15 W under maximum load (10 W typical; read second-hand)"
[figures.idle_power_w]
low = 1.5
typical = 2.2
high = 3.2
unit = "W"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate, as for the bundled jetson_orin_nano profile: about 2 W for a Jetson module idle (no idle measurement other than the validated paper's)"
[figures.launch_bound_load]
low = 0.1
typical = 0.25
high = 0.5
unit = "1"
distribution = "lognormal"
confidence = "estimate"
source = "Estimate, as in the bundled jetson_orin_nano profile (no published figure)"
""" + _DISPATCH.replace("low = 3\ntypical = 8\nhigh = 20", "low = 10\ntypical = 20\nhigh = 50") + _JETSON_HOST

BLOUW = ("Blouw P., Choo X., Hunsberger E., Eliasmith C. (2019), 'Benchmarking Keyword Spotting Efficiency on "
         "Neuromorphic Hardware', NICE '19 (arXiv 1812.01739), Table 1")
LAVADL_PILOTNET = ("Intel Labs (2023), lava-dl repository, tutorials/lava/lib/dl/netx/pilotnet_snn/benchmark.ipynb "
                   "(commit b9e3691, 10 Jan 2023): recorded loihi2_profiler output on a single-chip Oheo Gulch board")
KWS_TEXT = ("390-256-256-29 fully connected keyword spotter (paper Sec. 2), batch 1, one inference per call "
            "(TensorFlow 1.x loop)")
KWS_BATCH64_TEXT = KWS_TEXT.replace("batch 1, one inference per call", "batch 64, 64 inferences per call")

CASES: tuple[Case, ...] = (
    Case("loihi_kws_blouw2019", "neuromorphic", "loihi", lambda: kws(0.1, 10), "latency", "dynamic", "inference",
         0.27e-3, "dynamic energy per inference 0.27 mJ (0.081 W dynamic at 296 inferences/s)", BLOUW,
         "390-256-256-29 spiking network, 10 timesteps per inference (nengo-loihi keyword-spotting example), "
         "0.1 spikes per neuron per step (rates are not published), one inference alone",
         "per-event energies: Davies et al. 2018 Table 2 and SANA-FE (Boyle et al. 2025); management-core power: "
         "Frady et al. 2020; static power an estimate; host synchronisation per timestep an estimate (no "
         "primary figure); nothing from Blouw et al.; run host-driven (host I/O every timestep, as measured)",
         expected="miss",
         reason="host-driven, the median lands within 2x (0.6x) but the 10-90 % interval is about 13x wide: the "
                "host synchronisation per timestep, which sets the time per inference and so the management "
                "cores' energy, has no primary figure and is an estimate spanning 50-800 us; it is kept wide "
                "rather than fitted to this measurement", deployment="host_driven"),
    Case("cpu_kws_blouw2019", "cpu", _device(XEON_E5_2630), kws, "latency", "dynamic", "inference", 6.3e-3,
         "dynamic energy per inference 6.3 mJ (11.47 W package dynamic power at 1,813.6 inferences/s)", BLOUW,
         KWS_TEXT, "datasheet figures (Intel ARK); idle power, dispatch time and load are estimates shared with the "
                   "bundled CPU profile; per-call framework time: the TensorFlow team's 0.2 ms per session.run "
                   "(2016); nothing from Blouw et al.; run host-driven (one framework call per inference)",
         deployment="host_driven"),
    Case("gpu_kws_blouw2019", "gpu", _device(QUADRO_K4000), kws, "latency", "dynamic", "inference", 29.8e-3,
         "dynamic energy per inference 29.8 mJ (22.86 W board dynamic power at 770.4 inferences/s)", BLOUW,
         KWS_TEXT, "datasheet figures (NVIDIA); idle power, dispatch time and load are estimates shared with the "
                   "bundled GPU profile; per-call framework time bracketed by two first-hand TensorFlow measurements "
                   "on other GPUs; power while waiting on the host from Vadari 2026 (CUDA context); nothing from Blouw "
                   "et al.; run host-driven (one framework call per inference)",
         expected="miss", reason="host-driven, 0.48x: the time per call comes out right (1.1 ms against 1.3 ms "
                                 "measured), but the dynamic power (13 W, the CUDA-context power of newer boards "
                                 "scaled to this one while it waits on the host) is about half the 23 W measured",
         deployment="host_driven"),
    Case("jetson_kws_blouw2019", "gpu", _device(JETSON_TX1), kws, "latency", "dynamic", "inference", 5.6e-3,
         "dynamic energy per inference 5.6 mJ (2.34 W at the wall at 419 inferences/s)", BLOUW,
         KWS_TEXT, "datasheet figures (NVIDIA); idle power, dispatch time and load are estimates shared with the "
                   "bundled Jetson profile; per-call framework time an estimate (server-GPU figure scaled to the "
                   "A57 cores); nothing from Blouw et al.; run host-driven (one framework call per inference)",
         reason="within 2x but under (0.64x): the time per call comes out 2.7 ms against 2.4 ms measured; the "
                "dynamic power 1.3 W against 2.3 W at the wall, which includes the carrier board",
         deployment="host_driven"),
    Case("gpu_kws_batch64_blouw2019", "gpu", _device(QUADRO_K4000), kws, "throughput", "dynamic", "inference",
         727e-6, "dynamic energy per inference 0.727 mJ at batch 64 (26.3 W dynamic, 36,150 inferences/s; the "
                 "authors' logs behind Fig. 3)", BLOUW + ", Fig. 3 and the authors' power logs (abr/power_benchmarks)",
         KWS_BATCH64_TEXT,
         "datasheet figures (NVIDIA); idle power, dispatch time and load are estimates shared with the bundled GPU "
         "profile; per-call framework time bracketed by two first-hand TensorFlow measurements; nothing from "
         "Blouw et al.; run host-driven",
         expected="miss", batch_size=64,
         reason="host-driven, 0.32x: the measured call takes 1.8 ms per batch of 64 against 1.1 ms estimated, "
                "and the board's measured dynamic power (26 W) is about twice the estimated 14 W; see "
                "gpu_kws_blouw2019", deployment="host_driven"),
    Case("cpu_kws_batch64_blouw2019", "cpu", _device(XEON_E5_2630), kws, "throughput", "dynamic", "inference",
         348e-6, "dynamic energy per inference 0.348 mJ at batch 64 (13.3 W package dynamic power, 38,210 "
                 "inferences/s; the authors' logs behind Fig. 3)",
         BLOUW + ", Fig. 3 and the authors' power logs (abr/power_benchmarks)",
         KWS_BATCH64_TEXT,
         "datasheet figures (Intel ARK); idle power, dispatch time and load are estimates shared with the bundled "
         "CPU profile; per-call framework time: the TensorFlow team's 0.2 ms per session.run (2016); nothing from "
         "Blouw et al.; run host-driven", expected="miss", batch_size=64,
         reason="host-driven, 0.34x: a batch of 64 is estimated at 0.36 ms against 1.7 ms measured (in the model "
                "the framework's per-call time does not grow with the batch; the measured one triples from batch 1), "
                "while the dynamic power comes out 1.6x the measured; the batch-1 case is within",
         deployment="host_driven"),
    Case("jetson_kws_batch64_blouw2019", "gpu", _device(JETSON_TX1), kws, "throughput", "dynamic", "inference",
         102e-6, "dynamic energy per inference 0.102 mJ at batch 64 (1.73 W at the wall, 16,976 inferences/s; the "
                 "authors' logs behind Fig. 3)",
         BLOUW + ", Fig. 3 and the authors' power logs (abr/power_benchmarks)",
         KWS_BATCH64_TEXT,
         "datasheet figures (NVIDIA); idle power, dispatch time and load are estimates shared with the bundled "
         "Jetson profile; per-call framework time an estimate; nothing from Blouw et al.; run host-driven",
         batch_size=64,
         reason="within 2x but under (0.58x): a batch of 64 is estimated at 2.7 ms against 3.8 ms measured, the "
                "dynamic power at 0.8x the measured", deployment="host_driven"),
    Case("spinnaker_pd14_rhodes2020", "neuromorphic", "spinnaker", pd14, "latency", "total", "synaptic_op", 0.601e-6,
         "0.601 uJ per synaptic event (DC drive), hard real time on 12 SpiNN-5 boards",
         "Rhodes O., Peres L., Rowley A.G.D., Gait A., Plana L.A., Brenninkmeijer C., Furber S.B. (2020), "
         "'Real-time cortical simulation on neuromorphic hardware', Phil. Trans. R. Soc. A 378:20190160 "
         "(value as tabulated by the model's maintainers, INM-6 microcircuit-PD14-model benchmarking summary)",
         "Potjans-Diesmann microcircuit: 77,169 LIF neurons, 3e8 synapses, 9.38e8 synaptic events per "
         "biological second, 0.1 ms steps in real time, 1 s simulated",
         "per-event energies and board idle power: Ostrau et al. 2022 (SpiNN-5 measurements); chip idle power: "
         "Painkras et al. 2013 via the sPyNNaker toolchain; frame power (fans, power supplies, switches) and "
         "24 boards per frame: the SpiNNaker toolchain's energy model and allocation server; time per received "
         "spike (synaptic-row fetch) an estimate; nothing from Rhodes et al.",
         reason="within 2x but under (0.57x): with the per-core cost of every received spike and a "
                "99.99th-percentile burst margin, the model holds 22 neurons per core and needs 5 boards, where "
                "the toolchain ran 64 neurons per neuron core with 3 synapse cores each and used 12 boards; the "
                "frame's power is charged once"),
    Case("loihi2_pilotnet_lif_lavadl2023", "neuromorphic", "loihi2", pilotnet_lif, "latency", "dynamic", "inference",
         1.093544e-3, "dynamic energy per inference 1.094 mJ (0.447 W dynamic over the board's 0.232 W static, "
                      "408.9 inferences/s, i.e. 152.8 us per step)", LAVADL_PILOTNET,
         "Intel's PilotNet LIF network (lava-dl): 200x66x3 input neurons on the chip driven by the frame, five 3x3 "
         "convolutions (24, 36, 48, 64, 64 channels) and dense 100-50-10-1, 16 steps per inference, one frame "
         "repeated (no I/O), inferences one after another; 48 M synaptic events per inference (lava-dl's published "
         "spike trains of this network, one reset period)",
         "per-event energies: Loihi 1 figures (Davies et al. 2018 Table 2; SANA-FE, Boyle et al. 2025) scaled by an "
         "estimated 1-4x for the Intel 4 process; static power from lava-dl's PilotNet SDNN benchmark (another "
         "network and run, not compared here); nothing from pilotnet_snn/benchmark.ipynb",
         measured_in="pilotnet_snn/benchmark.ipynb",
         reason="within 2x on dynamic energy, which the model counts from the work (synaptic events dominate); "
                "the time per inference is another matter: the model packs the network into 34 cores with Loihi 1 "
                "timings and estimates 8.7 ms, where Intel's compiler spread it over 74 cores and measured 2.4 ms"),
    Case("pcm_ambrogio2023", "crossbar", "pcm_crossbar", single_layer(512, 512), "latency", "total", "op",
         1 / 12.4e12, "12.4 TOPS/W chip-sustained (8-bit inputs as pulse durations, 4 PCM devices per weight)",
         "Ambrogio S. et al. (2023), 'An analog-AI chip for energy-efficient speech recognition and "
         "transcription', Nature 620:768-775, abstract",
         "one 512 x 512 layer (the chip's 512-row tiles), every input nonzero, one MVM",
         "per-MVM periphery from HERMES (Le Gallo et al. 2023; Khaddam-Aljameh et al. 2022), ADC and row-driver "
         "shares and data movement from ISAAC (Shafiee et al. 2016); nothing from Ambrogio et al."),
    Case("rram_macro_jssc2023", "crossbar", "rram_crossbar", single_layer(128, 32), "latency", "total", "op",
         1 / 21.6e12, "21.6 TOPS/W at 8-bit input, 8-bit weight (14.4 ns per MAC operation)",
         "'8-b Precision 8-Mb ReRAM Compute-in-Memory Macro Using Direct-Current-Free Time-Domain Readout Scheme "
         "for AI Edge Devices', IEEE JSSC 58(1):303-315 (2023), abstract",
         "one 128-row tile of 32 8-bit weights, every input nonzero, one MVM; the macro alone (no data movement "
         "between layers)",
         "ISAAC (Shafiee et al. 2016) and DNN+NeuroSim V1.3 components; nothing from the macro",
         scope=("row_drivers_dac", "adc", "array_read", "periphery", "static_tiles"), expected="miss",
         reason="the profile's ISAAC-style periphery converts every column up to 8 times (bit-serial inputs, "
                "5-bit SAR ADCs) where the macro reads each column once in the time domain; the median estimate "
                "is about 4x less efficient"),
    Case("pcm_hermes_consistency", "crossbar", "pcm_crossbar", single_layer(256, 256 * 64), "latency", "dynamic",
         "op", 1 / 9.76e12, "9.76 TOPS/W (one-phase 8-bit MVMs on 64 cores)",
         "Le Gallo M. et al. (2023), Nature Electronics 6:680-693, abstract", "one 256 x 16,384 layer on 64 cores",
         "the profile's periphery energy is derived from this measurement", independent=False,
         scope=("row_drivers_dac", "adc", "array_read", "periphery")),
    Case("wse3_llama8b_consistency", "wafer_scale", "cerebras_wse3",
         lambda: Workload(model="llama", layers=[WorkloadLayer(f"b{i}", "block", 4096, int(8.03e9 / 32 / 4096))
                                                 for i in range(32)]),
         "latency", "latency", "inference", 1 / 1800, "1,800 tokens/s for Llama 3.1 8B at batch 1 (latency, s)",
         "Cerebras Systems (27 Aug 2024), 'Introducing Cerebras Inference'", "32 blocks of 251 M weights",
         "the per-layer floor is derived from this rate", independent=False),
)


def evaluate_all(draws: int = 2000, seed: int = 0) -> list[dict[str, Any]]:
    return [evaluate_latency(c, draws, seed) if c.quantity == "latency" else evaluate(c, draws, seed) for c in CASES]


def evaluate_latency(case: Case, draws: int = 2000, seed: int = 0) -> dict[str, Any]:
    """A case whose measurement is a latency (seconds per inference)."""
    prof = case.profile() if callable(case.profile) else load_profile(case.profile)
    est = estimate(case.workload(), prof, draws=draws, seed=seed, deployment=case.deployment)
    iv = est.modes[case.mode].latency_s
    ratio = iv.median / case.measured
    width = iv.width
    return {"key": case.key, "kind": case.kind, "profile": prof.name, "mode": case.mode, "quantity": "latency",
            "per": case.per, "measured": case.measured, "median": iv.median, "p10": iv.p10, "p90": iv.p90,
            "ratio": ratio, "width": width, "within": (1 / MAX_RATIO <= ratio <= MAX_RATIO) and width < MAX_WIDTH,
            "independent": case.independent, "expected": case.expected,
            "dominant_uncertainty": est.modes[case.mode].dominant_uncertainty.get("figure")}


__all__ = ["Case", "CASES", "MAX_RATIO", "MAX_WIDTH", "evaluate", "evaluate_all", "with_figures"]
