"""Large sparse networks: NIR files keep every synapse, and the engines run them.

A random 784-H-784 network at 2 % weight density is written to NIR and read back: every
weight (zeros are absent synapses) and bias must come back bit for bit, the fan-outs the
records count synaptic operations with must be those of the weights, and the read network
must simulate to the same record as the original. The default case is H = 2,048; the
784-16,384-784 network of the scaling benchmark runs with ``-m slow``.
"""
from __future__ import annotations

import numpy as np
import pytest

from converters.nir_io import read_network, write_network
from neurosim.backends import simulate
from neurosim.network import Connection, Layer, SpikingNetwork


def sparse_autoencoder(hidden: int, density: float = 0.02, d: int = 784, seed: int = 0) -> SpikingNetwork:
    rng = np.random.default_rng(seed)

    def conn(n_out, n_in):
        w = np.zeros((n_out, n_in))
        flat = np.flatnonzero(rng.random(n_out * n_in, dtype=np.float32) < density)
        w.ravel()[flat] = rng.normal(0.05, 0.6, flat.size) / np.sqrt(density * n_in)
        return Connection(w, rng.normal(-0.01, 0.02, n_out))

    return SpikingNetwork([
        Layer("in", "input", d, params={"gain": 1.0}),
        Layer("hid", "if", hidden, params={"v_threshold": 1.0, "v_init": 0.5}, connection=conn(hidden, d)),
        Layer("out", "readout", d, params={"scale": 1.0}, options={"activation": "sigmoid"},
              connection=conn(d, hidden)),
    ])


@pytest.mark.parametrize("hidden", [2048, pytest.param(16384, marks=pytest.mark.slow)])
def test_nir_round_trip_keeps_every_synapse(tmp_path, hidden):
    net = sparse_autoencoder(hidden)
    path = write_network(net, tmp_path / "sparse.nir")
    back = read_network(path)
    assert [l.size for l in back.layers] == [784, hidden, 784]
    for a, b in zip(net.layers[1:], back.layers[1:]):
        np.testing.assert_array_equal(a.connection.dense(), b.connection.dense())
        np.testing.assert_array_equal(a.connection.bias, b.connection.bias)
        assert b.connection.nonzero_synapses == a.connection.nonzero_synapses
        assert abs(a.connection.nonzero_synapses / np.prod(a.connection.shape) - 0.02) < 0.002
    for l in range(3):
        np.testing.assert_array_equal(back.fan_out(l), net.fan_out(l))
    # the NIR file stores zeros compressed: far smaller than the dense float64 matrices
    assert path.stat().st_size < 0.25 * 2 * 784 * hidden * 8
    x = np.random.default_rng(1).random((6, 784)) * (np.random.default_rng(2).random((6, 784)) < 0.2)
    a, b = simulate(net, x, 12), simulate(back, x, 12)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.spike_counts, lb.spike_counts)
    assert a.synaptic_ops == b.synaptic_ops > 0
    np.testing.assert_array_equal(a.outputs, b.outputs)


def test_scatter_strategy_gives_the_dense_records_spikes():
    """The compiled scatter (work ~ synaptic events) against dense BLAS products on the same network."""
    net = sparse_autoencoder(512, density=0.05)
    x = np.random.default_rng(3).random((40, 784)) * (np.random.default_rng(4).random((40, 784)) < 0.2)
    dense = simulate(net, x, 16, sparse="never", threads=1)
    scatter = simulate(net, x, 16, sparse="scatter", threads=1)
    assert scatter.info["products"]["hid"]["scatter"] == 15 and dense.info["products"]["hid"]["dense"] == 15
    for la, lb in zip(dense.layers, scatter.layers):
        np.testing.assert_array_equal(la.spike_counts, lb.spike_counts)
        assert la.active_neuron_updates == lb.active_neuron_updates
    np.testing.assert_allclose(scatter.outputs, dense.outputs, rtol=0, atol=1e-12)
