"""The reference engine against hand-computed spike trains and a naive step-by-step simulator."""
from __future__ import annotations

import numpy as np
import pytest

from neurosim.backends import reference, simulate
from neurosim.errors import ValidationError
from neurosim.network import Connection, Layer, SpikingNetwork

from networks import naive_run


def trains(network, x, K, layer):
    """Per-step messages of ``layer`` for steps 0..K-1 (count differences of runs of length T)."""
    prev = np.zeros((x.shape[0], network.layers[layer].size), dtype=np.int64)
    out = []
    for T in range(1, K + 1):
        counts = reference.run(network, x, T).spike_counts[layer]
        out.append(counts - prev)
        prev = counts
    return np.stack(out, axis=-1)  # (N, n, K)


def rate_net(readout=True, w=((1.0, 0.0), (0.5, 0.5))):
    layers = [Layer("in", "input", 2, params={"gain": 1.0}),
              Layer("h", "if", 2, params={"v_threshold": 1.0, "v_init": 0.0}, options={"reset": "subtract"},
                    connection=Connection(np.array(w), np.array([0.0, -0.25])))]
    if readout:
        layers.append(Layer("out", "readout", 1, params={"scale": 1.0},
                            connection=Connection(np.array([[1.0, 1.0]]), np.array([0.5]))))
    return SpikingNetwork(layers)


X = np.array([[0.25, 0.75]])


def test_regular_input_spike_train_by_hand():
    # v starts at 0.5; v += x; spike when v > 1 (strictly); v -= 1
    t = trains(rate_net(), X, 10, 0)[0]
    assert t[0].tolist() == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0]  # x=0.25: 0.75, 1.0 (no), 1.25 (spike) ...
    assert t[1].tolist() == [1, 0, 1, 1, 1, 0, 1, 1, 1, 0]  # x=0.75: 1.25 (spike) -> 0.25, 1.0 (no), 1.75 ...


def test_if_spike_train_by_hand_threshold_reset_bias():
    # hidden is enabled from step 1 and receives the input's step k-1 spikes
    t = trains(rate_net(), X, 9, 1)[0]
    # neuron 0: I = input0[k-1]: v = 1 at k=3 (not above threshold), 2 at k=7 -> spike, v -= 1
    assert t[0].tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 0]
    # neuron 1: I = 0.5 in0 + 0.5 in1 - 0.25 (bias):
    # k=1 .25, k=2 0, k=3 .75, k=4 1.0 (no), k=5 1.25 spike -> .25, k=6 0, k=7 .75, k=8 1.0 (no)
    assert t[1].tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0]


def test_if_reset_by_subtraction_keeps_the_residue():
    # constant current 0.75 from step 1: v = .75, 1.5 (spike -> .5), 1.25 (spike -> .25), 1.0, 1.75 (spike -> .75)
    net = SpikingNetwork([Layer("in", "input", 1, params={"gain": 1.0}, options={"encoding": "current"}),
                          Layer("h", "if", 1, params={"v_threshold": 1.0, "v_init": 0.0},
                                connection=Connection(np.array([[0.75]]), np.array([0.0])))])
    assert trains(net, np.array([[1.0]]), 6, 1)[0, 0].tolist() == [0, 0, 1, 1, 0, 1]
    zero = net.copy()
    zero.layers[1].options["reset"] = "zero"
    zero.layers[1].params["v_reset"] = np.zeros(1)
    # reset to zero loses the residue: .75, 1.5 (spike -> 0), .75, 1.5 (spike -> 0), .75
    assert trains(zero, np.array([[1.0]]), 6, 1)[0, 0].tolist() == [0, 0, 1, 0, 1, 0]


def test_readout_mean_and_synaptic_ops_by_hand():
    rec = simulate(rate_net(), X, 9)
    # readout enabled from k=2 (window 7) receives hidden spikes of k=5 (n1) and k=7 (n0): acc = 2 + 7 * 0.5
    assert rec.outputs[0, 0] == pytest.approx(5.5 / 7)
    # input spikes over k=0..8: in0 2, in1 7; fan-out in0 -> 2 synapses, in1 -> 1 (W[0,1] is 0, pruned)
    assert rec.layers[0].spike_counts.tolist() == [[2, 7]]
    assert rec.layers[0].synaptic_ops == 2 * 2 + 7 * 1
    assert rec.layers[1].synaptic_ops == 2 * 1
    assert rec.synaptic_ops == 13
    # active updates: input 2 x 9; hidden n0 receives at k=3,7, n1 at k=1,3,4,5,7,8; readout at k=6,8
    assert [l.active_neuron_updates for l in rec.layers] == [18, 8, 2]
    assert [l.neuron_updates for l in rec.layers] == [18, 16, 7]


def test_pruned_synapse_removes_its_operations():
    dense = simulate(rate_net(w=((1.0, 0.5), (0.5, 0.5))), X, 9)
    pruned = simulate(rate_net(w=((1.0, 0.0), (0.5, 0.5))), X, 9)
    in_spikes = dense.layers[0].spike_counts.sum(axis=0)
    assert pruned.layers[0].spike_counts.tolist() == dense.layers[0].spike_counts.tolist()
    # one fewer synapse on input 1: exactly its spikes fewer operations
    assert dense.layers[0].synaptic_ops - pruned.layers[0].synaptic_ops == in_spikes[1]


def graded_net():
    return SpikingNetwork([
        Layer("in", "input", 2, params={"gain": 1.0}, options={"encoding": "graded", "payload_step": 0.25}),
        Layer("h", "sigma_delta", 2, params={"v_threshold": 0.125}, options={"payload_step": 0.25},
              connection=Connection(np.array([[2.0, 0.0], [0.5, 0.5]]), np.array([0.0625, -0.4375]))),
        Layer("out", "readout", 1, params={"scale": 1.0}, options={"decode": "sum"},
              connection=Connection(np.array([[1.0, 1.0]]), np.array([0.5])))])


def test_graded_payloads_by_hand():
    x = np.array([[0.3, 0.8]])
    net = graded_net()
    res = reference.run(net, x, 6)
    # input: payloads round(0.3/0.25)=1 and round(0.8/0.25)=3 steps, once, at step 0
    assert res.spike_counts[0].tolist() == [[1, 1]]
    # hidden at k=1: sigma = [0.5, 0.5]; a = relu(sigma + b) = [0.5625, 0.0625]
    # n0: delta 0.5625 >= 0.125 -> payload round(2.25) = 2 steps = 0.5; residue 0.0625 < threshold: silent after
    # n1: delta 0.0625 < 0.125: never emits
    assert res.spike_counts[1].tolist() == [[1, 0]]
    # readout (decode 'sum'): sigma + b = 0.5 + 0.5, independent of T
    for T in (3, 6, 20):
        assert reference.run(net, x, T).outputs[0, 0] == pytest.approx(1.0)
    rec = simulate(net, x, 6)
    # synaptic ops: input 0 fans out to 2 synapses, input 1 to 1; hidden 0 to 1
    assert rec.synaptic_ops == 2 + 1 + 1


def test_graded_payload_trains_by_hand():
    t = trains(graded_net(), np.array([[0.3, 0.8]]), 5, 1)[0]
    assert t[0].tolist() == [0, 1, 0, 0, 0]
    assert t[1].tolist() == [0, 0, 0, 0, 0]


def random_net(kind, seed=0, density=0.4, sizes=(12, 9, 7)):
    rng = np.random.default_rng(seed)
    d, h, o = sizes

    def conn(n_out, n_in):
        w = rng.normal(0, 0.6, (n_out, n_in)) * (rng.random((n_out, n_in)) < density)
        return Connection(w, rng.normal(0, 0.1, n_out))

    hidden_params = {
        "if": ({"v_threshold": 1.0, "v_init": 0.5}, {}),
        "lif": ({"tau_s": 0.01, "r": 3.0, "v_leak": 0.05, "v_threshold": 0.8, "v_init": 0.1}, {}),
        "cuba_lif": ({"tau_syn_s": 0.005, "tau_mem_s": 0.02, "r": 2.0, "v_leak": 0.0, "v_threshold": 0.5,
                      "w_in": 0.7, "v_init": 0.0}, {"reset": "zero"}),
        "sigma_delta": ({"v_threshold": 0.02}, {"payload_step": 0.01}),
    }[kind]
    enc = {"if": "regular", "lif": "bernoulli", "cuba_lif": "current", "sigma_delta": "graded"}[kind]
    in_opts = {"encoding": enc, **({"payload_step": 1 / 255} if enc == "graded" else {})}
    if kind == "cuba_lif":
        hidden_params[0]["v_reset"] = -0.1
    last = (Layer("out", "li", o, params={"tau_s": 0.02, "r": 1.0, "v_leak": 0.0, "v_init": 0.0},
                  connection=conn(o, h)) if kind == "lif" else
            Layer("out", "readout", o, params={"scale": 0.7},
                  options={"activation": "sigmoid", "decode": "sum" if kind == "sigma_delta" else "mean"},
                  connection=conn(o, h)))
    return SpikingNetwork([Layer("in", "input", d, params={"gain": 1.0}, options=in_opts),
                           Layer("hid", kind, h, params=hidden_params[0], options=hidden_params[1],
                                 connection=conn(h, d)),
                           last])


@pytest.mark.parametrize("kind", ["if", "lif", "cuba_lif", "sigma_delta"])
@pytest.mark.parametrize("mode", ["auto", "never", "always", "events"])
def test_engine_matches_naive_simulator(kind, mode):
    net = random_net(kind)
    rng = np.random.default_rng(1)
    x = rng.random((15, 12)) * (rng.random((15, 12)) < 0.6)
    x[3] = 0.0  # a silent sample
    T = 23
    res = reference.run(net, x, T, seed=5, sparse=mode)
    counts, active, out = naive_run(net, x, T, seed=5)
    for a, b in zip(res.spike_counts, counts):
        np.testing.assert_array_equal(a, b)
    assert res.active_updates == active
    np.testing.assert_allclose(res.outputs, out, rtol=1e-10, atol=1e-12)
    assert sum(c.sum() for c in counts[1:2]) > 0  # the hidden layer did something


@pytest.mark.parametrize("density", [1.0, 0.3])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_bright_regular_input_as_baseline_and_deviations(density, reset):
    # bright pixels spike at most steps: the engine sends them as "always" plus deviations
    rng = np.random.default_rng(7)
    w = rng.normal(0, 0.5, (9, 12)) * (rng.random((9, 12)) < density)
    layers = [Layer("in", "input", 12, params={"gain": 1.0}),
              Layer("hid", "if", 9, params={"v_threshold": 1.0, "v_init": 0.2, "v_reset": -0.1},
                    options={"reset": reset}, connection=Connection(w, rng.normal(0, 0.1, 9))),
              Layer("out", "readout", 5, params={"scale": 0.7},
                    connection=Connection(rng.normal(0, 0.5, (5, 9)), rng.normal(0, 0.1, 5)))]
    net = SpikingNetwork(layers)
    x = rng.uniform(0.7, 1.0, (20, 12)) * (rng.random((20, 12)) < 0.8)
    x[4] = 0.0  # a silent sample
    res = reference.run(net, x, 19)
    assert res.info["products"]["hid"]["baseline"] > 0  # the path under test was taken
    counts, active, out = naive_run(net, x, 19)
    for a, b in zip(res.spike_counts, counts):
        np.testing.assert_array_equal(a, b)
    assert res.active_updates == active
    np.testing.assert_allclose(res.outputs, out, rtol=1e-10, atol=1e-12)


def test_deeper_chain_matches_naive_simulator():
    rng = np.random.default_rng(3)
    sizes = [10, 8, 6, 4]
    layers = [Layer("in", "input", 10, params={"gain": 1.0})]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.normal(0, 0.8, (b, a)) * (rng.random((b, a)) < 0.5)
        kind = "if" if i < 2 else "readout"
        params = {"v_threshold": 0.7, "v_init": 0.3} if kind == "if" else {"scale": 1.0}
        layers.append(Layer(f"l{i + 1}", kind, b, params=params, connection=Connection(w, rng.normal(0, .2, b))))
    net = SpikingNetwork(layers)
    x = rng.random((9, 10))
    res = reference.run(net, x, 17)
    counts, active, out = naive_run(net, x, 17)
    for a, b in zip(res.spike_counts, counts):
        np.testing.assert_array_equal(a, b)
    assert res.active_updates == active
    np.testing.assert_allclose(res.outputs, out, rtol=1e-10)


def test_bernoulli_is_deterministic_for_a_seed():
    net = rate_net()
    net.layers[0].options["encoding"] = "bernoulli"
    x = np.full((200, 2), 0.3)
    a = reference.run(net, x, 50, seed=7).spike_counts[0]
    b = reference.run(net, x, 50, seed=7).spike_counts[0]
    c = reference.run(net, x, 50, seed=8).spike_counts[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # rate 0.3: mean count 15 of 50, standard error of the mean over 400 trains ~0.16
    assert abs(a.mean() - 15.0) < 1.0


def test_silent_input_costs_nothing_but_bias():
    rec = simulate(rate_net(), np.zeros((4, 2)), 12)
    assert rec.total_spikes == 0 and rec.synaptic_ops == 0
    # readout: only its bias, averaged over its window: 0.5
    np.testing.assert_allclose(rec.outputs, 0.5)
    assert [l.active_neuron_updates for l in rec.layers] == [0, 0, 0]
    assert rec.info["products"]["h"]["dense"] == 0 and rec.info["products"]["h"]["sparse"] == 0


def test_constant_current_input_is_computed_once():
    net = random_net("cuba_lif")
    x = np.random.default_rng(0).random((5, 12))
    res = reference.run(net, x, 20)
    assert res.info["products"]["hid"]["reused"] == 20 - 2  # 19 enabled steps, one product


def test_unknown_option_is_refused():
    with pytest.raises(ValidationError, match="unknown option"):
        reference.run(rate_net(), X, 5, colour="red")


def test_non_spiking_layer_must_be_last():
    with pytest.raises(ValidationError, match="only be the last layer"):
        SpikingNetwork([Layer("in", "input", 2),
                        Layer("r", "readout", 2, params={"scale": 1.0}, connection=Connection(np.eye(2), 0.0)),
                        Layer("h", "if", 2, params={"v_threshold": 1.0}, connection=Connection(np.eye(2), 0.0))])
