"""The reference engine run layer by layer over all steps against stepping and a naive simulator.

With a ``regular`` input, integrate-and-fire layers and a readout run each over every step at
once, sample by sample (``reference._layers_ahead``). These tests check that path against the
naive step-by-step simulator of ``tests/networks.py`` and against the same engine stepping all
layers together, record for record.
"""
from __future__ import annotations

import numpy as np
import pytest

from neurosim.backends import reference, reference_neurons
from neurosim.network import Connection, Layer, SpikingNetwork

from networks import naive_run


def chain(rng, sizes, density, reset="subtract", readout=True):
    """A random ``regular``-input network: if layers of ``sizes[1:-1]``, then a readout (or an if layer)."""
    layers = [Layer("in", "input", sizes[0], params={"gain": 1.0})]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.normal(0, 0.6, (b, a)) * (rng.random((b, a)) < density)
        last = i == len(sizes) - 2
        if last and readout:
            layers.append(Layer(f"l{i + 1}", "readout", b, params={"scale": 0.8},
                                connection=Connection(w, rng.normal(0, 0.1, b))))
        else:
            layers.append(Layer(f"l{i + 1}", "if", b, params={"v_threshold": 1.0, "v_init": 0.1, "v_reset": -0.2},
                                options={"reset": reset}, connection=Connection(w, rng.normal(0, 0.1, b))))
    return SpikingNetwork(layers)


def inputs(rng, n, d):
    """Bright pixels (sent as baseline plus deviations), dim ones, zeros and a silent sample."""
    x = np.where(rng.random((n, d)) < 0.5, rng.uniform(0.7, 1.0, (n, d)), rng.uniform(0.0, 0.4, (n, d)))
    x *= rng.random((n, d)) < 0.8
    x[2] = 0.0
    return x


def stepped(net, x, T, monkeypatch, **kw):
    with monkeypatch.context() as m:
        m.setattr(reference, "_layers_ahead", lambda *a: {})
        return reference.run(net, x, T, **kw)


def ahead_only(net, x, T, monkeypatch, **kw):
    """The run, with the per-step update of the layers run ahead made to fail: proves the path was taken."""
    def boom(self, msg):
        raise AssertionError(f"{self.layer.name} was stepped")

    with monkeypatch.context() as m:
        m.setattr(reference_neurons._IF, "step", boom)
        m.setattr(reference_neurons._Readout, "step", boom)
        return reference.run(net, x, T, **kw)


CASES = [  # sizes, weight density, reset
    ([12, 30, 5], 0.3, "subtract"),
    ([12, 30, 5], 1.0, "zero"),
    ([12, 70, 9], 0.15, "subtract"),  # more than 64 neurons: several packed words
    ([10, 16, 12, 4], 0.5, "subtract"),  # two if layers, then the readout
]


@pytest.mark.parametrize("words", [None, True, False])
@pytest.mark.parametrize("sizes,density,reset", CASES)
def test_layers_ahead_match_the_naive_simulator(sizes, density, reset, words, monkeypatch):
    rng = np.random.default_rng(len(sizes) * 10 + sizes[1])
    net = chain(rng, sizes, density, reset)
    x = inputs(rng, 17, sizes[0])
    T = 21
    monkeypatch.setattr(reference_neurons, "RECEIVED_BY_WORDS", words)
    if len(sizes) == 3:
        res = ahead_only(net, x, T, monkeypatch)
        assert res.info["products"]["l1"]["baseline"] > 0  # deviation steps were among them
    else:  # the compiled scatter at every step: the second if layer runs ahead too
        res = ahead_only(net, x, T, monkeypatch, sparse="scatter")
    counts, active, out = naive_run(net, x, T)
    for a, b in zip(res.spike_counts, counts):
        np.testing.assert_array_equal(a, b)
    assert res.active_updates == active
    np.testing.assert_allclose(res.outputs, out, rtol=1e-10, atol=1e-12)
    assert counts[1].sum() > 0


@pytest.mark.parametrize("record", [None, [0, 2, 39]])
@pytest.mark.parametrize("sizes,density,reset", CASES)
def test_layers_ahead_give_the_stepped_record(sizes, density, reset, record, monkeypatch):
    rng = np.random.default_rng(5 + sizes[1])
    net = chain(rng, sizes, density, reset, readout=len(sizes) == 3)
    x = inputs(rng, 40, sizes[0])
    kw = {"record": record, "chunk_size": 15}  # several chunks, recorded samples in two of them
    a = stepped(net, x, 25, monkeypatch, **kw)
    b = reference.run(net, x, 25, **kw)
    for ca, cb in zip(a.spike_counts, b.spike_counts):
        np.testing.assert_array_equal(ca, cb)
    for sa, sb in zip(a.step_counts, b.step_counts):
        np.testing.assert_array_equal(sa, sb)
    assert a.active_updates == b.active_updates
    np.testing.assert_array_equal(a.outputs, b.outputs)  # the same additions in the same order
    for name in a.step_spikes or {}:
        np.testing.assert_array_equal(a.step_spikes[name], b.step_spikes[name])
    assert (a.step_spikes is None) == (record is None)
    assert a.info["products"] == b.info["products"]  # the same strategy at every step


def test_a_layer_without_a_compiled_loop_is_stepped_after_the_ones_ahead(monkeypatch):
    # if -> lif -> readout: the if layer runs ahead, the lif layer and the readout step as usual
    rng = np.random.default_rng(11)
    w1 = rng.normal(0, 0.6, (14, 10)) * (rng.random((14, 10)) < 0.5)
    w2 = rng.normal(0, 0.6, (8, 14))
    w3 = rng.normal(0, 0.6, (3, 8))
    net = SpikingNetwork([
        Layer("in", "input", 10, params={"gain": 1.0}),
        Layer("h", "if", 14, params={"v_threshold": 1.0, "v_init": 0.0}, connection=Connection(w1, np.zeros(14))),
        Layer("g", "lif", 8, params={"v_threshold": 1.0, "v_init": 0.0, "tau_s": 0.02, "v_leak": 0.0, "r": 1.0},
              connection=Connection(w2, np.full(8, 0.05))),
        Layer("out", "readout", 3, params={"scale": 1.0}, connection=Connection(w3, np.zeros(3)))])
    x = inputs(rng, 12, 10)
    res = reference.run(net, x, 18)
    counts, active, out = naive_run(net, x, 18)
    for a, b in zip(res.spike_counts, counts):
        np.testing.assert_array_equal(a, b)
    assert res.active_updates == active
    np.testing.assert_allclose(res.outputs, out, rtol=1e-10, atol=1e-12)
