"""Cost models: hand-computed cases (dynamic and static energy, both modes, mapping limits),
the Monte-Carlo sampling of figures, per-draw savings, and invariants. Published end-to-end
measurements are in tests/test_validation_cases.py."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from neurosim.activity import ActivityRecord, LayerActivity
from neurosim.hardware import Workload, WorkloadLayer, compare, estimate, load_profile
from neurosim.hardware.estimate import MODELS
from neurosim.hardware.profile import SCHEMA, available_profiles
from neurosim.hardware.uncertainty import Interval, blame, draw

NEURO = [p for p in available_profiles() if load_profile(p).kind == "neuromorphic"]
ANN = [p for p in available_profiles() if load_profile(p).kind != "neuromorphic"]
SRC = 'confidence = "assumption"\nsource = "Modelling assumption for a hand-checked test"\n'


def fig(key: str, value: float | str, unit: str | None = None) -> str:
    val = value if isinstance(value, str) else repr(value)
    return f"[figures.{key}]\nvalue = {val}\n" + (f'unit = "{unit}"\n' if unit else "") + SRC


def write(tmp_path: Path, text: str, name: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def med(res, mode="latency", key="energy_total_j"):
    return getattr(res.modes[mode], key).median


# ----------------------------------------------------------------------------- neuromorphic by hand

TOY_NEURO = 'name = "toy"\nkind = "neuromorphic"\n' + "".join([
    fig("neurons_per_core", 2), fig("cores_per_chip", 4), fig("weight_bits", 8), fig("graded_spikes", "false"),
    fig("energy_per_synop_j", 1, "pJ"), fig("energy_per_active_update_j", 3, "pJ"),
    fig("energy_per_inactive_update_j", 2, "pJ"), fig("energy_per_spike_j", 10, "pJ"),
    fig("static_power_per_chip_w", 1, "mW"), fig("time_per_synop_s", 1, "ns"),
    fig("time_per_neuron_update_s", 2, "ns"), fig("time_per_spike_s", 4, "ns"), fig("sync_time_per_step_s", 100, "ns")])


def three_neuron_record(silent: bool = False) -> ActivityRecord:
    """input -> hidden -> readout, one neuron each, 1 sample, T = 4 (windows 4, 3, 2)."""
    one = np.ones(1, dtype=np.int64)
    s0, s1 = (0, 0) if silent else (4, 2)
    layers = [
        LayerActivity("in", "input", 1, 4, np.array([[s0]]), s0 * 1, 4, 0 if silent else 4, one),
        LayerActivity("hid", "if", 1, 3, np.array([[s1]]), s1 * 1, 3, 0 if silent else 2, one),
        LayerActivity("out", "readout", 1, 2, np.array([[0]]), 0, 2, 0 if silent else 2, np.zeros(1, np.int64)),
    ]
    masks = [np.ones((1, 1), bool), np.ones((1, 1), bool)]
    return ActivityRecord("hand", "0", 4, 1e-3, layers, np.zeros((1, 1)), np.ones((1, 1)), masks, 0.0,
                          network={"metadata": {"model": "toy", "coding": "rate"}})


def test_three_neuron_network_by_hand(tmp_path):
    """Dynamic = 6 synops x 1 pJ + (4 active x 3 pJ + 1 inactive x 2 pJ) + 6 spikes x 10 pJ = 80 pJ.

    Latency: hidden core per step (4 synops x 1 ns + 2 spikes x 4 ns) / 3 steps + 1 neuron x 2 ns = 6 ns,
    readout core (2 x 1 ns) / 2 + 2 ns = 3 ns; step = 6 ns + 100 ns sync; 4 steps = 424 ns.
    Static, latency mode: 2 of the chip's 4 cores occupied -> 0.5 mW x 424 ns = 212 pJ (whole chip 424 pJ beside).
    Throughput: 4 // 2 = 2 copies -> 2 / 424 ns inferences/s; the whole chip's 1 mW shared: 212 pJ each.
    """
    res = estimate(three_neuron_record(), write(tmp_path, TOY_NEURO, "toy.toml"), draws=20)
    lat, thr = res.latency, res.throughput
    assert lat.resources == {"cores": 2, "chips": 1, "boards": 0, "frames": 0, "copies": 1,
                             "cores_per_layer": {"hid": 1, "out": 1}}
    assert lat.latency_s.median == pytest.approx(424e-9)
    b = lat.breakdown
    assert b["synaptic_ops"]["median"] == pytest.approx(6e-12) and b["synaptic_ops"]["part"] == "dynamic"
    assert b["neuron_updates"]["median"] == pytest.approx(14e-12)
    assert b["spikes_routing"]["median"] == pytest.approx(60e-12)
    assert lat.energy_dynamic_j.median == pytest.approx(80e-12)
    assert lat.energy_static_j.median == pytest.approx(0.5e-3 * 424e-9)
    assert lat.beside["static_whole_chips_j"].median == pytest.approx(1e-3 * 424e-9)
    assert thr.resources["copies"] == 2 and thr.inferences_per_s.median == pytest.approx(2 / 424e-9)
    assert thr.energy_static_j.median == pytest.approx(1e-3 * 424e-9 / 2)
    assert thr.energy_dynamic_j.median == pytest.approx(80e-12)
    assert res.latency.energy_total_j.width == 1.0  # no uncertain figure: no spread
    assert res.dominant_uncertainty["figure"] is None and res.work["label"] == "synaptic ops"


def test_silent_network_costs_only_static_and_update_energy(tmp_path):
    res = estimate(three_neuron_record(silent=True), write(tmp_path, TOY_NEURO, "toy.toml"), draws=20)
    b = res.latency.breakdown
    assert b["synaptic_ops"]["median"] == 0 and b["spikes_routing"]["median"] == 0
    assert res.latency.latency_s.median == pytest.approx(4 * (2e-9 + 100e-9))  # only updates + sync
    assert res.latency.energy_dynamic_j.median == pytest.approx(5 * 2e-12)      # 5 inactive updates


def test_mapping_uses_more_cores_for_synapse_memory_and_real_time_load(tmp_path):
    """A 10 -> 4 layer, 40 synapses, 1 ms real-time steps, 1,000 synops per step.

    neurons: ceil(4 / 2) = 2 cores; synapse memory of 8: ceil(40 / 8) = 5 cores; real time: (1,000 synops x
    10 us + 4 updates x 2 ns) per 1 ms step = 10.000008 core-steps -> 11 cores. Boards of 2 chips (4 cores
    each): 11 cores -> 3 chips ->
    2 boards, static power of 2 boards x (2 x 1 mW + 5 mW) = 14 mW for the inference's 2 ms (2 steps).
    """
    text = TOY_NEURO.replace('name = "toy"', 'name = "rt"') + fig("synapses_per_core", 8) + \
        fig("real_time", "true") + fig("chips_per_board", 2) + fig("board_overhead_power_w", 5, "mW")
    text = text.replace("value = 1\nunit = \"ns\"\n" + SRC, "value = 10\nunit = \"us\"\n" + SRC, 1)  # t_syn = 10 us
    prof = write(tmp_path, text, "rt.toml")
    wl = Workload.mlp([10, 4], timesteps=2, rates=[0.0, 0.0], dt_s=1e-3, model="rt")
    wl.layers[0].synops_in = 2000.0
    res = estimate(wl, prof, draws=10)
    mapping = res.extra["mapping"]["layer1"]
    assert mapping == {"cores": 11, "limited_by": "events_per_real_time_step"}
    assert res.latency.resources["chips"] == 3 and res.latency.resources["boards"] == 2
    assert res.latency.latency_s.median == pytest.approx(2e-3)  # the real-time step holds
    assert res.latency.energy_static_j.median == pytest.approx(2 * (2 * 1e-3 + 5e-3) * 2e-3)
    less = Workload.mlp([10, 4], timesteps=2, rates=[0.0, 0.0], dt_s=1e-3, model="rt")
    less.layers[0].synops_in = 20.0
    assert estimate(less, prof, draws=10).extra["mapping"]["layer1"] == {"cores": 5, "limited_by": "synapses_per_core"}
    # rack-mounted: frames of 1 board at 100 mW each -> 2 frames, 2 x 100 mW more for the 2 ms
    framed = write(tmp_path, text + fig("boards_per_frame", 1) + fig("frame_overhead_power_w", 100, "mW"), "rf.toml")
    res = estimate(wl, framed, draws=10)
    assert res.latency.resources["frames"] == 2
    assert res.latency.breakdown["static_frames"]["median"] == pytest.approx(2 * 0.1 * 2e-3)
    assert res.latency.energy_static_j.median == pytest.approx((2 * (2 * 1e-3 + 5e-3) + 2 * 0.1) * 2e-3)
    # a deployment on one board runs outside a frame
    one = Workload.mlp([10, 4], timesteps=2, rates=[0.0, 0.0], dt_s=1e-3, model="rt")
    one.layers[0].synops_in = 20.0
    assert estimate(one, framed, draws=10).latency.resources["frames"] == 0


def test_spinnaker_spreads_a_heavy_layer_over_more_cores_to_keep_real_time():
    """SpiNNaker: 200 neurons fit one core (255), but 50,000 synaptic events per 1 ms step at 0.21 us each plus
    200 updates at 2.6 us need ceil((10.5 + 0.52) ms / 1 ms) = 12 cores, as sPyNNaker lowers neurons per core."""
    wl = Workload.mlp([1000, 200], timesteps=10, rates=[0.0, 0.0], dt_s=1e-3, model="heavy")
    wl.layers[0].synops_in = 50_000 * 10
    res = estimate(wl, "spinnaker", draws=200)
    assert res.extra["mapping"]["layer1"] == {"cores": 12, "limited_by": "events_per_real_time_step"}
    assert res.latency.latency_s.median == pytest.approx(10e-3)
    light = Workload.mlp([1000, 200], timesteps=10, rates=[0.0, 0.0], dt_s=1e-3, model="light")
    assert estimate(light, "spinnaker", draws=50).extra["mapping"]["layer1"]["cores"] == 1


# ----------------------------------------------------------------------------- per-step counts by hand

def two_layer_step_record(with_steps: bool = True) -> ActivityRecord:
    """input (2) -> hid (4 IF neurons), 1 sample, T = 4, dt 1 ms; synapses i0 -> h0, h1 and i1 -> h2, h3.

    i0 spikes at step 0, i1 at step 1 (so they arrive at steps 1 and 2); h3 spikes at step 3.
    """
    mask = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], bool)
    steps_in = np.array([[1, 0], [0, 1], [0, 0], [0, 0]], np.int32)
    steps_hid = np.zeros((4, 4), np.int32)
    steps_hid[3, 3] = 1
    layers = [
        LayerActivity("in", "input", 2, 4, np.array([[1, 1]]), 4, 8, 8, np.array([2, 2]),
                      steps_in if with_steps else None),
        LayerActivity("hid", "if", 4, 3, np.array([[0, 0, 0, 1]]), 0, 12, 5, np.zeros(4, np.int64),
                      steps_hid if with_steps else None),
    ]
    return ActivityRecord("hand", "0", 4, 1e-3, layers, np.zeros((1, 4)), np.ones((1, 2)), [mask], 0.0,
                          network={"metadata": {"model": "toy", "coding": "rate"}})


def test_workload_per_step_arrays_by_hand():
    """One-step delay: i0's spike of step 0 reaches h0, h1 at step 1; i1's of step 1 reaches h2, h3 at step 2."""
    layer = Workload.from_record(two_layer_step_record()).layers[0]
    assert layer.spikes_in_steps.tolist() == [[0, 0], [1, 0], [0, 1], [0, 0]]
    assert layer.events_in_steps.tolist() == [[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]]
    assert layer.spikes_out_steps.tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
    assert not Workload.from_record(two_layer_step_record(with_steps=False)).layers[0].has_steps


def test_busiest_core_at_each_step_sets_the_latency(tmp_path):
    """Toy chip with t_syn = 20 ns, t_upd = 2 ns, t_spike = 4 ns, sync 20 ns; 2 neurons per core:
    core 0 holds h0, h1 and core 1 holds h2, h3.

    Per step: k = 0: 2 updates = 4 ns on both cores; k = 1: core 0 gets 2 events, 2 x 20 + 4 = 44 ns;
    k = 2: core 1 gets 2 events, 44 ns; k = 3: core 1, h3's spike 4 + 4 = 8 ns. Latency = (4 + 44 + 44 + 8)
    + 4 x 20 sync = 180 ns. The mean model spreads the 4 synaptic operations and 1 spike over 2 cores
    and the layer's 3 steps: (4 x 20 + 4) / (3 x 2) + 2 x 2 = 18 ns per step, 4 x 38 = 152 ns: the
    two bursts land on different cores at different steps, which the means cannot see.
    """
    text = TOY_NEURO.replace('value = 100\nunit = "ns"', 'value = 20\nunit = "ns"').replace(
        'value = 1\nunit = "ns"', 'value = 20\nunit = "ns"', 1)
    prof = write(tmp_path, text, "toy_steps.toml")
    steps = estimate(two_layer_step_record(), prof, draws=10)
    mean = estimate(two_layer_step_record(with_steps=False), prof, draws=10)
    assert steps.extra["mapping"] == mean.extra["mapping"] == {"hid": {"cores": 2, "limited_by": "neurons_per_core"}}
    assert steps.latency.latency_s.median == pytest.approx(180e-9)
    assert mean.latency.latency_s.median == pytest.approx(152e-9)
    # the same work: dynamic energy without management cores does not depend on time
    assert steps.latency.energy_dynamic_j.median == pytest.approx(mean.latency.energy_dynamic_j.median)
    # static power of the 2 occupied cores (of 4 per chip) for the longer latency
    assert steps.latency.energy_static_j.median == pytest.approx(0.5e-3 * 180e-9)
    assert any("per-step counts" in a for a in steps.assumptions)


def test_real_time_mapping_fits_the_busiest_step(tmp_path):
    """Real time (1 ms steps), 4 neurons per core, 100 us per received spike, 1 ns per synop and update.

    Synapses i0 -> h0, h1 and i1 -> h2, h3 as above, but both inputs spike at step 0 (arriving at
    step 1). With 4 neurons on one core it receives r = 2 spikes in the busiest step, at their
    99.99th percentile r + 3.72 sqrt(2) = 7.26 -> 726 us (+ ns): fits, 1 core. With t_rx = 200 us:
    1.45 ms > 1 ms; at most 3 neurons per core means 2 cores, placed 2 + 2 (h0, h1 | h2, h3): each
    receives r = 1 spike, 1 + 3.72 = 4.72 -> 944 us: fits, 2 cores. The mean model
    sees 2 spikes over the layer's 3 steps, r = 2/3 x (1 - (1 - 1/2)^4) = 0.625 on a core of 4:
    0.625 + 3.72 sqrt(0.625) = 3.57 -> 714 us, 1 core.
    """
    def profile(t_rx_us: float) -> str:
        return write(tmp_path, 'name = "rt"\nkind = "neuromorphic"\n' + "".join([
            fig("neurons_per_core", 4), fig("cores_per_chip", 4), fig("weight_bits", 8),
            fig("graded_spikes", "false"), fig("energy_per_synop_j", 1, "pJ"), fig("energy_per_neuron_update_j", 1, "pJ"),
            fig("energy_per_spike_j", 1, "pJ"), fig("static_power_per_chip_w", 1, "mW"),
            fig("time_per_synop_s", 1, "ns"), fig("time_per_neuron_update_s", 1, "ns"), fig("time_per_spike_s", 1, "ns"),
            fig("real_time", "true"), fig("time_per_received_spike_s", t_rx_us, "us")]), f"rt{t_rx_us}.toml")

    rec = two_layer_step_record()
    rec.layers[0].step_counts = np.array([[1, 1], [0, 0], [0, 0], [0, 0]], np.int32)
    assert estimate(rec, profile(100.0), draws=10).extra["mapping"]["hid"]["cores"] == 1
    slow = profile(200.0)
    res = estimate(rec, slow, draws=10)
    assert res.extra["mapping"]["hid"] == {"cores": 2, "limited_by": "events_per_real_time_step"}
    assert res.latency.latency_s.median == pytest.approx(4e-3)  # every step within the real-time step
    rec.layers[0].step_counts = None
    assert estimate(rec, slow, draws=10).extra["mapping"]["hid"] == {"cores": 1, "limited_by": "neurons_per_core"}


# ----------------------------------------------------------------------------- crossbar by hand

TOY_XBAR = 'name = "toyx"\nkind = "crossbar"\n' + "".join([
    fig("rows_per_tile", 2), fig("cols_per_tile", 2), fig("cells_per_weight", 1), fig("weight_bits", 8),
    fig("tiles_per_chip", 4), fig("row_drives_per_active_input", 1), fig("energy_per_row_drive_j", 1, "pJ"),
    fig("conversions_per_column_per_mvm", 1), fig("energy_per_adc_conversion_j", 10, "pJ"), fig("cols_per_adc", 2),
    fig("adc_conversion_time_s", 1, "ns"), fig("read_cycles_per_mvm", 1), fig("array_read_time_s", 5, "ns"),
    fig("energy_periphery_per_tile_mvm_j", 100, "pJ"), fig("energy_per_activation_byte_j", 2, "pJ"),
    fig("bytes_per_activation", 1), fig("static_power_per_tile_w", 1, "mW"), fig("skips_idle_tiles", "true")])


def xbar_workload(mask, active) -> Workload:
    return Workload(model="x", layers=[WorkloadLayer("l", "linear", 4, 2, mask=np.array(mask, bool),
                                                     in_active=np.array([active], bool))])


def test_crossbar_tiles_by_hand(tmp_path):
    """4 inputs -> 2 outputs on 2x2 tiles: 2 tiles. Inputs 1,1,1,0 active: row blocks have 2 and 1 active rows.

    Dense: tile 0 = 2 drives x 1 pJ + 2 columns x 10 pJ + 100 pJ = 122 pJ; tile 1 = 1 + 20 + 100 = 121 pJ;
    moving 4 inputs + 2 outputs x 1 B x 2 pJ = 12 pJ -> dynamic 255 pJ. Latency: 5 ns read + 1 conversion x
    2 columns per ADC x 1 ns = 7 ns; static 2 tiles x 1 mW x 7 ns = 14 pJ. Pruning inputs 2-3 away empties
    tile 1: it is dropped. Zeroing one weight inside tile 0 saves nothing.
    """
    prof = write(tmp_path, TOY_XBAR, "toyx.toml")
    dense = estimate(xbar_workload(np.ones((2, 4)), [1, 1, 1, 0]), prof, draws=10)
    assert dense.latency.energy_dynamic_j.median == pytest.approx(255e-12)
    assert dense.latency.latency_s.median == pytest.approx(7e-9)
    assert dense.latency.energy_static_j.median == pytest.approx(14e-12)
    assert dense.latency.breakdown["activation_movement"]["median"] == pytest.approx(12e-12)
    assert dense.latency.resources["tiles"] == 2 and dense.work == {**dense.work, "label": "MACs", "per_inference": 8}
    assert dense.throughput.inferences_per_s.median == pytest.approx(1 / 7e-9)  # one layer: pipelined = alone
    tile_dropped = estimate(xbar_workload([[1, 1, 0, 0], [1, 1, 0, 0]], [1, 1, 1, 0]), prof, draws=10)
    assert tile_dropped.latency.resources["tiles"] == 1
    assert tile_dropped.latency.energy_dynamic_j.median == pytest.approx(122e-12 + 12e-12)
    scattered = estimate(xbar_workload([[0, 1, 1, 0], [1, 1, 0, 1]], [1, 1, 1, 0]), prof, draws=10)
    assert scattered.latency.energy_dynamic_j.median == pytest.approx(255e-12)
    silent_block = estimate(xbar_workload(np.ones((2, 4)), [1, 1, 0, 0]), prof, draws=10)
    assert silent_block.latency.energy_dynamic_j.median == pytest.approx(122e-12 + 12e-12)


def test_crossbar_throughput_pipelines_layers(tmp_path):
    """Three 2 -> 2 layers: alone 3 x 7 ns; pipelined one inference per 7 ns, static 1 tile-power x 7 ns each."""
    prof = write(tmp_path, TOY_XBAR, "toyx.toml")
    wl = Workload(model="x", layers=[WorkloadLayer(f"l{i}", "linear", 2, 2) for i in range(3)])
    res = estimate(wl, prof, draws=10)
    assert res.latency.latency_s.median == pytest.approx(21e-9)
    assert res.throughput.inferences_per_s.median == pytest.approx(1 / 7e-9)
    assert res.latency.energy_static_j.median == pytest.approx(3 * 1e-3 * 21e-9)
    assert res.throughput.energy_static_j.median == pytest.approx(3 * 1e-3 * 7e-9)


# ----------------------------------------------------------------------------- GPU/CPU and wafer by hand

TOY_GPU = 'name = "toyg"\nkind = "gpu"\n' + "".join([
    fig("peak_flops", 1, "TFLOP/s"), fig("memory_bandwidth_bytes_per_s", 100, "GB/s"), fig("kernel_launch_s", 10, "us"),
    fig("kernels_per_layer", 2), fig("bytes_per_weight", 2), fig("bytes_per_activation", 2),
    fig("idle_power_w", 50), fig("max_power_w", 250), fig("launch_bound_load", 0.1)])


def test_gpu_by_hand(tmp_path):
    """64 -> 32 -> 64, 4,096 MACs: batch 1 = 2 layers x 2 x 10 us + bytes / BW (2 x (4,096 + 96 x 2 B... ) )."""
    prof = write(tmp_path, TOY_GPU, "toyg.toml")
    wl = Workload(model="m", layers=[WorkloadLayer("a", "linear", 64, 32), WorkloadLayer("b", "linear", 32, 64)])
    res = estimate(wl, prof, batch_size=8, draws=10)
    mem1 = 2 * (2048 * 2 + 96 * 2) / 100e9      # weights + one input and output vector, memory-bound
    t1 = 40e-6 + mem1
    u1 = mem1 / t1
    assert res.latency.latency_s.median == pytest.approx(t1)
    assert res.latency.energy_static_j.median == pytest.approx(50 * t1)
    assert res.latency.energy_dynamic_j.median == pytest.approx(200 * (0.1 + 0.9 * u1) * t1)
    mem8 = 2 * (2048 * 2 + 8 * 96 * 2) / 100e9
    t8 = 40e-6 + mem8
    assert res.throughput.latency_s.median == pytest.approx(t8)
    assert res.throughput.inferences_per_s.median == pytest.approx(8 / t8)
    assert res.throughput.energy_static_j.median == pytest.approx(50 * t8 / 8)
    assert res.throughput.energy_dynamic_j.median == pytest.approx(200 * (0.1 + 0.9 * mem8 / t8) * t8 / 8)
    assert res.work["label"] == "MACs" and res.work["per_inference"] == 4096


def test_wafer_scale_by_hand(tmp_path):
    """Two 64 -> 32 layers of 2,048 weights: 4,096 MACs; 1 us floor per layer; 1 PFLOP/s; 20 kW peak, 10 kW idle.

    Cores: ceil(4,096 weights x 2 B / (1 MB / 1,000 cores = 1,000 B)) = 9 cores of 1,000: 0.9 % of the wafer.
    Latency 2 x (1 us + 2 x 2,048 / 1e15 s); dynamic 2 x 4,096 x (20 - 10) kW / 1e15 = 81.92 nJ;
    static 0.9 % x 10 kW x latency. Throughput: 111 copies, min(1e15 / 8,192, 111 / stage) inferences/s.
    """
    text = 'name = "toyw"\nkind = "wafer_scale"\n' + "".join([
        fig("cores", 1000), fig("sram_bytes", 1, "MB"), fig("peak_flops", 1, "PFLOP/s"), fig("system_power_w", 20, "kW"),
        fig("idle_power_w", 10, "kW"), fig("layer_latency_s", 1, "us"), fig("bytes_per_weight", 2),
        fig("skips_zero_weights", "true"), fig("skips_zero_activations", "true")])
    wl = Workload(model="m", layers=[WorkloadLayer("a", "linear", 64, 32), WorkloadLayer("b", "linear", 64, 32)])
    res = estimate(wl, write(tmp_path, text, "w.toml"), draws=10)
    stage = 1e-6 + 2 * 2048 / 1e15
    assert res.latency.resources["cores"] == 9 and res.latency.resources["wafer_fraction"] == pytest.approx(0.009)
    assert res.latency.latency_s.median == pytest.approx(2 * stage)
    assert res.latency.energy_dynamic_j.median == pytest.approx(2 * 4096 * 10e3 / 1e15)
    assert res.latency.energy_static_j.median == pytest.approx(0.009 * 10e3 * 2 * stage)
    assert res.latency.beside["static_whole_system_j"].median == pytest.approx(10e3 * 2 * stage)
    rate = min(1e15 / 8192, 111 / stage)
    assert res.throughput.inferences_per_s.median == pytest.approx(rate)
    assert res.throughput.energy_static_j.median == pytest.approx(10e3 / rate)
    # a network left without nonzero weights: no MACs, the pipeline stages alone set the rate, no warning
    empty = Workload(model="e", layers=[WorkloadLayer("a", "linear", 64, 32, mask=np.zeros((32, 64), bool))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = estimate(empty, write(tmp_path, text, "w.toml"), draws=10)
    assert res.throughput.inferences_per_s.median == pytest.approx(1000 / 1e-6)  # 1,000 copies of 1 core, 1 us


def test_wafer_scale_throughput_is_capped_by_the_system_io(tmp_path):
    """The toy wafer above with 1 GB/s of system I/O and 2-byte values: each inference moves 64 inputs in
    and 32 outputs out, 192 B, so at most 1e9 / 192 = 5.2 M inferences/s. Without the I/O figure the
    rate is min(1e15 / (2 x 3,072 MACs), 142 copies (7 cores each) / 1.004 us stage) = 141 M/s. The
    latency mode is unchanged."""
    base = 'name = "toyw"\nkind = "wafer_scale"\n' + "".join([
        fig("cores", 1000), fig("sram_bytes", 1, "MB"), fig("peak_flops", 1, "PFLOP/s"), fig("system_power_w", 20, "kW"),
        fig("idle_power_w", 10, "kW"), fig("layer_latency_s", 1, "us"), fig("bytes_per_weight", 2),
        fig("skips_zero_weights", "true"), fig("skips_zero_activations", "true")])
    capped = base + fig("io_bandwidth_bytes_per_s", 1, "GB/s") + fig("bytes_per_activation", 2)
    wl = Workload(model="m", layers=[WorkloadLayer("a", "linear", 64, 32), WorkloadLayer("b", "linear", 32, 32)])
    free = estimate(wl, write(tmp_path, base, "free.toml"), draws=10)
    held = estimate(wl, write(tmp_path, capped, "held.toml"), draws=10)
    assert held.throughput.inferences_per_s.median == pytest.approx(1e9 / 192)
    stage = 1e-6 + 2 * 2048 / 1e15
    assert free.throughput.inferences_per_s.median == pytest.approx(min(1e15 / (2 * 3072), 142 / stage))
    assert held.throughput.energy_static_j.median == pytest.approx(10e3 * 192 / 1e9)
    assert held.latency.latency_s.median == free.latency.latency_s.median


# ----------------------------------------------------------------------------- sampling

DIST = 'name = "d"\nkind = "gpu"\n' + TOY_GPU.split('kind = "gpu"\n', 1)[1]


@pytest.mark.parametrize("dist, lo, ty, hi, check", [
    ("lognormal", 2.0, 4.0, 16.0, lambda v: (np.percentile(v, 10), np.percentile(v, 50), np.percentile(v, 90))
     == pytest.approx((2.0, 4.0, 16.0), rel=0.04)),
    ("uniform", 2.0, 4.0, 16.0, lambda v: (v.min() >= 2.0, v.max() <= 16.0, np.mean(v)) == pytest.approx(
        (True, True, 9.0), rel=0.02)),
    ("triangular", 2.0, 4.0, 16.0, lambda v: (v.min() >= 2.0, np.mean(v)) == pytest.approx((True, 22 / 3), rel=0.02)),
    ("loguniform", 2.0, 4.0, 32.0, lambda v: np.median(v) == pytest.approx(8.0, rel=0.04)),
])
def test_each_distribution_samples_what_its_bounds_mean(tmp_path, dist, lo, ty, hi, check):
    text = DIST.replace("[figures.kernel_launch_s]\nvalue = 10\n",
                        f"[figures.kernel_launch_s]\nlow = {lo}\ntypical = {ty}\nhigh = {hi}\n"
                        f"distribution = \"{dist}\"\n")
    prof = load_profile(write(tmp_path, text, "d.toml"))
    values = draw(prof, 20_000, seed=1)["kernel_launch_s"] / 1e-6
    assert check(values)


def test_uncertainty_propagates_instead_of_stacking(tmp_path):
    """Two independent lognormal figures, each a factor 4 between p10 and p90, multiply: the product's
    10-90 % span is 4^sqrt(2) = 7.1x, not 16x as joint extremes would have it."""
    text = DIST.replace("[figures.kernel_launch_s]\nvalue = 10\n",
                        '[figures.kernel_launch_s]\nlow = 5\ntypical = 10\nhigh = 20\ndistribution = "lognormal"\n')
    text = text.replace("[figures.launch_bound_load]\nvalue = 0.1\n",
                        '[figures.launch_bound_load]\nlow = 0.05\ntypical = 0.1\nhigh = 0.2\n'
                        'distribution = "lognormal"\n')
    prof = load_profile(write(tmp_path, text, "d.toml"))
    p = draw(prof, 20_000, seed=2)
    product = p["kernel_launch_s"] * p["launch_bound_load"]
    assert Interval.of(product).width == pytest.approx(4 ** np.sqrt(2), rel=0.05)
    shares = dict(blame(product, p))
    assert shares["kernel_launch_s"] == pytest.approx(0.5, abs=0.05)
    wide = p["kernel_launch_s"] ** 3 * p["launch_bound_load"]
    assert blame(wide, p)[0] == ("kernel_launch_s", pytest.approx(0.9, abs=0.03))  # 9 : 1 in log variance


def test_savings_are_computed_per_draw_with_the_same_hardware():
    """On SpiNNaker (latency mode) the whole board's static power dominates and equals for dense and sparse:
    per draw it cancels, so the saving's interval is far narrower than either estimate's."""
    dense = Workload.mlp([64, 256, 64], timesteps=20, rates=[0.3, 0.3, 0.0], dt_s=1e-3, model="dense")
    sparse = Workload.mlp([64, 256, 64], timesteps=20, rates=[0.3, 0.03, 0.0], dt_s=1e-3, model="sparse")
    d, s = estimate(dense, "spinnaker2"), estimate(sparse, "spinnaker2")
    saving = compare(d, s)
    ratio = d.latency.samples["total"] / s.latency.samples["total"]
    assert saving["energy_total"].median == pytest.approx(np.median(ratio))
    assert saving["energy_total"].width < d.latency.energy_total_j.width
    with pytest.raises(Exception, match="same profile"):
        compare(d, estimate(sparse, "loihi2"))


# ----------------------------------------------------------------------------- invariants

def random_workload(rng: np.random.Generator) -> Workload:
    sizes = [int(rng.integers(3, 300)) for _ in range(int(rng.integers(3, 5)))]
    masks = [rng.random((sizes[i + 1], sizes[i])) < rng.uniform(0.05, 1.0) for i in range(len(sizes) - 1)]
    in_active = [rng.random((5, sizes[i])) < rng.uniform(0, 1) for i in range(len(sizes) - 1)]
    rates = [float(rng.uniform(0, 0.3)) for _ in sizes[:-1]] + [0.0]
    return Workload.mlp(sizes, timesteps=int(rng.integers(2, 40)), rates=rates, masks=masks, in_active=in_active,
                        dt_s=1e-3)


@pytest.mark.parametrize("name", NEURO)
def test_dynamic_energy_never_decreases_with_more_synops_or_spikes(name):
    """Per draw (same seed), more work never costs less dynamic energy and never takes less time."""
    prof = load_profile(name)
    rng = np.random.default_rng(1)
    for _ in range(6):
        wl = random_workload(rng)
        base = estimate(wl, prof, draws=300)
        l = int(rng.integers(len(wl.layers)))
        more = wl.with_layers([WorkloadLayer(**{**vars(x), "synops_in": x.synops_in + float(rng.uniform(1, 5e4)),
                                                "spikes_out": x.spikes_out + float(rng.uniform(1, 1e3))})
                               if i == l else x for i, x in enumerate(wl.layers)])
        grown = estimate(more, prof, draws=300)
        if grown.extra["mapping"] != base.extra["mapping"]:
            continue  # more cores: a different chip layout, static power may step
        for mode in ("latency", "throughput"):
            g, b = grown.modes[mode].samples, base.modes[mode].samples
            assert np.all(g["dynamic"] > b["dynamic"]) and np.all(g["latency"] >= b["latency"] * (1 - 1e-12))


@pytest.mark.parametrize("name", ANN)
def test_ann_targets_never_cost_less_with_more_nonzero_activations(name):
    prof = load_profile(name)
    rng = np.random.default_rng(2)
    for _ in range(4):
        wl = random_workload(rng)
        base = estimate(wl, prof, draws=200)
        layers = []
        for x in wl.layers:
            act = x.in_active.copy()
            act[rng.random(act.shape) < 0.3] = True
            layers.append(WorkloadLayer(**{**vars(x), "in_active": act}))
        grown = estimate(wl.with_layers(layers), prof, draws=200)
        for mode in ("latency", "throughput"):
            g, b = grown.modes[mode].samples, base.modes[mode].samples
            assert np.all(g["total"] >= b["total"] * (1 - 1e-12)) and np.all(g["latency"] >= b["latency"] * (1 - 1e-12))


@pytest.mark.parametrize("name", sorted(available_profiles()))
def test_every_draw_is_finite_non_negative_and_breakdown_sums(name):
    rng = np.random.default_rng(3)
    for _ in range(2):
        res = estimate(random_workload(rng), name, draws=500)
        for m in res.modes.values():
            s = m.samples
            for v in s.values():
                assert np.all(np.isfinite(v)) and np.all(v >= 0)
            parts = sum(b["median"] for b in m.breakdown.values())
            assert parts >= 0
            assert m.energy_total_j.p10 <= m.energy_total_j.median <= m.energy_total_j.p90


def test_where_each_kind_of_sparsity_pays():
    """Same 784-256-784 MLP, dense vs 90 % unstructured pruning, 40 % vs 10 % nonzero activations."""
    rng = np.random.default_rng(4)
    sizes = [784, 256, 784]

    def wl(density, active):
        masks = [rng.random((sizes[i + 1], sizes[i])) < density for i in range(2)]
        acts = [rng.random((20, sizes[i])) < active for i in range(2)]
        return Workload.mlp(sizes, timesteps=1, masks=masks, in_active=acts)

    dense, pruned, quiet = wl(1.0, 0.4), wl(0.1, 0.4), wl(1.0, 0.1)
    dyn = lambda r: med(r, key="energy_dynamic_j")  # noqa: E731
    rram = [estimate(w, "rram_crossbar", draws=300) for w in (dense, pruned, quiet)]
    assert rram[1].latency.resources["tiles"] == rram[0].latency.resources["tiles"]  # 10 % density fills every tile
    assert dyn(rram[1]) == pytest.approx(dyn(rram[0]), rel=0.02)                    # weight sparsity: ~no saving
    saved_by_weights, saved_by_activity = dyn(rram[0]) - dyn(rram[1]), dyn(rram[0]) - dyn(rram[2])
    assert saved_by_activity > 0.05 * dyn(rram[0]) and saved_by_activity > 5 * abs(saved_by_weights)
    gpu = [estimate(w, "gpu_baseline", draws=300) for w in (dense, pruned, quiet)]
    assert med(gpu[0]) == med(gpu[1]) == med(gpu[2])                                  # the GPU computes everything
    wafer = [estimate(w, "cerebras_wse3", draws=300) for w in (dense, pruned, quiet)]
    assert wafer[1].work["per_inference"] == pytest.approx(0.1 * wafer[0].work["per_inference"], rel=0.05)
    assert dyn(wafer[1]) == pytest.approx(0.1 * dyn(wafer[0]), rel=0.05)             # dynamic follows MACs
    assert med(wafer[1]) < 0.2 * med(wafer[0])              # pruning also frees 90 % of the occupied cores ...
    whole = [w.latency.beside["static_whole_system_j"].median for w in wafer[:2]]
    assert whole[1] > 0.99 * whole[0]                       # ... while a dedicated system pays the pipeline floor


def test_every_kind_has_a_cost_model_that_a_bundled_profile_runs():
    assert set(MODELS) == set(SCHEMA)
    kinds = {load_profile(p).kind for p in available_profiles()}
    assert kinds == set(SCHEMA)
    for module in set(MODELS.values()):
        assert ".. math::" in module.__doc__


# ----------------------------------------------------------------------------- deployments by hand

def test_host_driven_gpu_adds_the_framework_call_to_every_batch(tmp_path):
    """Host-driven: t(B) = bare t(B) + 500 us; dynamic += (250 - 50) W x 0.3 x 500 us / B; bare is unchanged."""
    prof = write(tmp_path, TOY_GPU + fig("host_call_s", 500, "us") + fig("host_call_load", 0.3), "hostg.toml")
    wl = Workload(model="m", layers=[WorkloadLayer("a", "linear", 64, 32), WorkloadLayer("b", "linear", 32, 64)])
    bare = estimate(wl, prof, batch_size=8, draws=10)
    host = estimate(wl, prof, batch_size=8, draws=10, deployment="host_driven")
    for mode, b in (("latency", 1), ("throughput", 8)):
        t_bare = bare.modes[mode].latency_s.median
        assert host.modes[mode].latency_s.median == pytest.approx(t_bare + 500e-6)
        extra = 200 * 0.3 * 500e-6 / b
        assert host.modes[mode].energy_dynamic_j.median == pytest.approx(bare.modes[mode].energy_dynamic_j.median
                                                                         + extra)
        assert host.modes[mode].energy_static_j.median == pytest.approx(50 * (t_bare + 500e-6) / b)
    assert bare.extra["deployment"] == "bare" and bare.assumptions[0].startswith("deployment: bare")
    assert host.extra["deployment"] == "host_driven"


def test_host_driven_neuromorphic_adds_host_sync_to_every_timestep(tmp_path):
    """The three-neuron network (T = 4) host-driven with 250 us per step: latency = 4 x (bare step + 250 us)."""
    prof = write(tmp_path, TOY_NEURO + fig("host_sync_per_step_s", 250, "us"), "hostn.toml")
    bare = estimate(three_neuron_record(), prof, draws=10)
    host = estimate(three_neuron_record(), prof, draws=10, deployment="host_driven")
    step = bare.latency.latency_s.median / 4
    assert host.latency.latency_s.median == pytest.approx(4 * (step + 250e-6))
    assert host.latency.energy_dynamic_j.median == pytest.approx(bare.latency.energy_dynamic_j.median)  # no mgmt
    assert host.latency.energy_static_j.median > 100 * bare.latency.energy_static_j.median


def test_host_driven_without_host_figures_is_estimated_bare_and_says_so(tmp_path):
    prof = write(tmp_path, TOY_GPU, "toyg.toml")
    wl = Workload(model="m", layers=[WorkloadLayer("a", "linear", 64, 32)])
    res = estimate(wl, prof, draws=10, deployment="host_driven")
    assert res.extra["deployment"] == "bare" and "states no host-driven figures" in res.assumptions[0]
    assert res.latency.latency_s.median == pytest.approx(estimate(wl, prof, draws=10).latency.latency_s.median)


def test_unknown_deployment_is_refused():
    from neurosim.errors import ValidationError

    with pytest.raises(ValidationError, match="deployment must be one of"):
        estimate(Workload.mlp([4, 2], timesteps=1, rates=[0.0, 0.0]), "gpu_baseline", draws=10, deployment="cloud")


def test_received_spikes_and_their_bursts_lower_the_neurons_per_core(tmp_path):
    """1000 -> 1000 all-to-all, 0.1 ms real-time steps, 25 input spikes per step, t_rx = t_upd = 1 us, no
    synapse or spike time: every core receives all 25 spikes; the 99.99th-percentile step has
    25 + 3.72 x 5 = 43.6 of them, i.e. 43.6 us, leaving 56.4 us for 56 neuron updates: ceil(1000 / 56) = 18
    cores. Without the per-spike cost 100 neurons fit (100 x 1 us) -> 10 cores."""
    base = TOY_NEURO.replace('name = "toy"', 'name = "rx"').replace(fig("neurons_per_core", 2),
                                                                     fig("neurons_per_core", 255))
    base = base.replace(fig("time_per_synop_s", 1, "ns"), fig("time_per_synop_s", 1, "ps"))
    base = base.replace(fig("time_per_spike_s", 4, "ns"), fig("time_per_spike_s", 1, "ps"))
    base = base.replace(fig("time_per_neuron_update_s", 2, "ns"), fig("time_per_neuron_update_s", 1, "us"))
    base += fig("real_time", "true")
    wl = Workload.mlp([1000, 1000], timesteps=10, rates=[0.0, 0.0], dt_s=1e-4, model="rx")
    wl.layers[0].spikes_in = 25.0 * 10
    plain = estimate(wl, write(tmp_path, base, "plain.toml"), draws=10).extra["mapping"]["layer1"]
    rx = estimate(wl, write(tmp_path, base + fig("time_per_received_spike_s", 1, "us"), "rx.toml"),
                  draws=10).extra["mapping"]["layer1"]
    assert plain == {"cores": 10, "limited_by": "events_per_real_time_step"}
    assert rx == {"cores": 18, "limited_by": "events_per_real_time_step"}
