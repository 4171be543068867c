"""Connections stored dense or as CSR: the same synapses, the same records, exact NIR round trips.

A hand-built 2-3-1 network has its spike counts, synaptic operations, active updates and
output worked out by hand below; the reference and torch engines must give exactly those
with either storage. Larger random networks give identical records both ways, the reference
engine never densifies a sparse connection, NIR round trips are exact and keep the storage,
and bad sparse input is refused.
"""
from __future__ import annotations

import weakref

import numpy as np
import pytest
from scipy import sparse

from converters.ann_to_snn import AnnModel, convert
from converters.nir_io import read_network, write_network
from neurosim.analysis.ablation import silence
from neurosim.backends import simulate
from neurosim.defaults import SPARSE_STORAGE_DENSITY
from neurosim.errors import ValidationError
from neurosim.network import Connection, Layer, SpikingNetwork

W1 = np.array([[0.5, 0.0], [0.0, 1.0], [0.25, 0.5]])
W2 = np.array([[1.0, 0.0, 0.5]])


def hand_network(as_csr: bool) -> SpikingNetwork:
    def conn(w):
        return Connection(sparse.csr_array(w) if as_csr else w, np.zeros(w.shape[0]))

    return SpikingNetwork([
        Layer("in", "input", 2, options={"encoding": "current"}),
        Layer("hid", "if", 3, params={"v_threshold": 1.0, "v_init": 0.0}, connection=conn(W1)),
        Layer("out", "readout", 1, params={"scale": 1.0}, connection=conn(W2)),
    ])


@pytest.mark.parametrize("backend", ["reference", "torch"])
@pytest.mark.parametrize("as_csr", [False, True], ids=["dense", "csr"])
def test_hand_computed_record(backend, as_csr):
    """x = (1, 1) as a current, T = 9; every value below is exact in binary floating point.

    Input: a nonzero message at each step 0..8 -> 9 spikes per neuron; fan-outs (2, 2) -> 36
    synaptic operations; received at every step -> 18 active updates.
    Hidden (enabled k = 1..8, I = W1 @ (1, 1) = (0.5, 1.0, 0.75), v > 1 spikes, v -= 1):
    n0: v = .5, 1, 1.5*, 1, 1.5*, 1, 1.5*, 1 -> spikes at k = 3, 5, 7 (3);
    n1: v = 1, 2*, 2*, ... -> k = 2..8 (7); n2: v = .75, 1.5*, 1.25*, 1, 1.75*, 1.5*, 1.25*, 1
    -> k = 2, 3, 5, 6, 7 (5). Fan-outs (1, 0, 1) -> 3 + 5 = 8 synaptic operations; every
    neuron receives at each of its 8 steps -> 24 active updates.
    Readout (enabled k = 2..8, window 7, reads hidden spikes of k = 1..7: n0 3, n2 5):
    acc = 1.0 * 3 + 0.5 * 5 = 5.5 -> output 5.5 / 7; it receives at k - 1 in {2, 3, 5, 6, 7}
    (a spike of n0 or n2) -> 5 active updates.
    """
    rec = simulate(hand_network(as_csr), np.ones((1, 2)), 9, backend=backend)
    assert [l.spike_counts.tolist() for l in rec.layers] == [[[9, 9]], [[3, 7, 5]], [[0]]]
    assert [l.synaptic_ops for l in rec.layers] == [36, 8, 0]
    assert [l.active_neuron_updates for l in rec.layers] == [18, 24, 5]
    np.testing.assert_allclose(rec.outputs, [[5.5 / 7]], rtol=1e-15)


def random_network(as_csr: bool, hidden: int = 600, density: float = 0.03, seed: int = 3) -> SpikingNetwork:
    rng = np.random.default_rng(seed)

    def conn(n_out, n_in):
        w = rng.normal(0.1, 0.5, (n_out, n_in)) * (rng.random((n_out, n_in)) < density) / np.sqrt(density * n_in)
        return Connection(sparse.csr_array(w) if as_csr else w, rng.normal(0.0, 0.05, n_out))

    return SpikingNetwork([
        Layer("in", "input", 64, params={"gain": 1.0}),
        Layer("h1", "if", hidden, params={"v_threshold": 1.0, "v_init": 0.5}, connection=conn(hidden, 64)),
        Layer("h2", "sigma_delta", 200, params={"v_threshold": 0.01}, options={"payload_step": 1 / 255},
              connection=conn(200, hidden)),
        Layer("out", "readout", 64, params={"scale": 1.0}, options={"activation": "sigmoid"},
              connection=conn(64, 200)),
    ])


def assert_same_record(a, b):
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.spike_counts, lb.spike_counts)
        assert la.synaptic_ops == lb.synaptic_ops
        assert la.active_neuron_updates == lb.active_neuron_updates
        np.testing.assert_array_equal(la.fan_out, lb.fan_out)
    np.testing.assert_array_equal(a.outputs, b.outputs)
    for ma, mb in zip(a.connections, b.connections):
        np.testing.assert_array_equal(ma, mb)


@pytest.mark.parametrize("backend, options", [("reference", {}), ("reference", {"sparse": "scatter"}),
                                              ("torch", {})])
def test_csr_and_dense_storage_give_identical_records(backend, options):
    x = np.random.default_rng(4).random((40, 64)) * (np.random.default_rng(5).random((40, 64)) < 0.5)
    dense, csr = random_network(False), random_network(True)
    assert not dense.layers[1].connection.is_sparse and csr.layers[1].connection.is_sparse
    a = simulate(dense, x, 16, backend=backend, **options)
    b = simulate(csr, x, 16, backend=backend, **options)
    assert sum(l.synaptic_ops for l in a.layers) > 0
    assert_same_record(a, b)


@pytest.mark.parametrize("mode", ["auto", "never", "always", "events", "scatter"])
def test_reference_engine_never_densifies_a_sparse_connection(monkeypatch, mode):
    """With ``dense()`` refused, every product strategy still runs, with the dense network's spikes."""
    x = np.random.default_rng(6).random((24, 64))
    expected = simulate(random_network(False), x, 12, sparse=mode)
    net = random_network(True)

    def refuse(self, copy=False):
        raise AssertionError("the reference engine densified a sparse connection")

    monkeypatch.setattr(Connection, "dense", refuse)
    got = simulate(net, x, 12, sparse=mode)
    for la, lb in zip(expected.layers, got.layers):
        np.testing.assert_array_equal(la.spike_counts, lb.spike_counts)
        assert la.active_neuron_updates == lb.active_neuron_updates
    # the readout's single product sums in another order than BLAS where dense weights use BLAS
    np.testing.assert_allclose(got.outputs, expected.outputs, rtol=1e-12, atol=1e-15)


def test_nir_round_trip_of_a_sparse_network_is_exact_and_sparse(tmp_path):
    net = random_network(True)
    back = read_network(write_network(net, tmp_path / "net.nir"))
    for a, b in zip(net.layers[1:], back.layers[1:]):
        assert b.connection.is_sparse
        wa, wb = a.connection.csr(), b.connection.csr()
        for attr in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(wa, attr), getattr(wb, attr))
        np.testing.assert_array_equal(a.connection.bias, b.connection.bias)
    x = np.random.default_rng(7).random((10, 64))
    assert_same_record(simulate(net, x, 10), simulate(back, x, 10))


def test_nir_reader_stores_by_the_density_rule(tmp_path):
    """Dense weights (every synapse present) come back dense, bit for bit; sparse ones as CSR."""
    rng = np.random.default_rng(8)
    full = rng.normal(size=(5, 4))
    net = SpikingNetwork([Layer("in", "input", 4),
                          Layer("h", "if", 5, params={"v_threshold": 1.0, "v_init": 0.0},
                                connection=Connection(full, np.zeros(5))),
                          Layer("o", "readout", 300, params={"scale": 1.0},
                                connection=Connection(np.eye(300, 5), np.zeros(300)))])
    back = read_network(write_network(net, tmp_path / "mixed.nir"))
    assert not back.layers[1].connection.is_sparse
    assert back.layers[1].connection.dense().tobytes() == full.tobytes()
    assert back.layers[2].connection.is_sparse  # 5 synapses of 1,500
    np.testing.assert_array_equal(back.layers[2].connection.dense(), np.eye(300, 5))


def test_writer_holds_one_dense_weight_array_at_a_time(tmp_path, monkeypatch):
    made = []
    real = Connection.dense

    def tracked(self, copy=False):
        assert all(ref() is None for ref in made), "a second dense weight array while one is alive"
        out = real(self, copy)
        made.append(weakref.ref(out))
        return out

    monkeypatch.setattr(Connection, "dense", tracked)
    net = random_network(True)
    write_network(net, tmp_path / "net.nir")
    assert len(made) == 3


def test_storage_rule():
    rng = np.random.default_rng(9)
    n_out, n_in = 40, 50
    below = int(SPARSE_STORAGE_DENSITY * n_out * n_in) - 1
    at = int(SPARSE_STORAGE_DENSITY * n_out * n_in)
    for nnz, is_sparse in ((below, True), (at, False)):
        w = np.zeros(n_out * n_in)
        w[rng.choice(w.size, nnz, replace=False)] = rng.uniform(0.1, 1.0, nnz)
        w = w.reshape(n_out, n_in)
        for given in (w, sparse.csr_array(w), sparse.coo_array(w)):
            conn = Connection.from_weights(given, 0.0)
            assert conn.is_sparse is is_sparse and conn.nonzero_synapses == nnz
            np.testing.assert_array_equal(conn.dense(), w)


def test_converter_stores_a_pruned_ann_sparse_and_a_dense_one_dense():
    rng = np.random.default_rng(10)
    x = rng.random((50, 16))

    def ann(density):
        w1 = rng.normal(size=(32, 16)) * (rng.random((32, 16)) < density)
        w2 = rng.normal(size=(16, 32)) * (rng.random((16, 32)) < density)
        return AnnModel(["0", "2"], [w1, w2], [np.zeros(32), np.zeros(16)], "sigmoid", {})

    sparse_net = convert(ann(0.1), "rate", calibration_samples=x)
    dense_net = convert(ann(1.0), "rate", calibration_samples=x)
    assert all(l.connection.is_sparse for l in sparse_net.layers[1:])
    assert not any(l.connection.is_sparse for l in dense_net.layers[1:])


def test_accessors_agree_between_storages():
    w = np.array([[0.0, 2.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.5, 0.0, 0.0]])
    for conn in (Connection(w, [1, 2, 3]), Connection(sparse.csr_array(w), [1, 2, 3])):
        assert conn.shape == (3, 4) and conn.nonzero_synapses == 4
        assert conn.fan_out().tolist() == [1, 2, 0, 1] and conn.fan_in().tolist() == [2, 0, 2]
        np.testing.assert_array_equal(conn.mask, w != 0)
        np.testing.assert_array_equal(conn.csr().toarray(), w)
        cut = conn.silenced(outputs=[2], inputs=[3])
        assert cut.is_sparse == conn.is_sparse
        np.testing.assert_array_equal(cut.dense(), [[0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
        np.testing.assert_array_equal(cut.bias, [1, 2, 0])
        scaled = conn.scaled(rows=np.array([1.0, 2.0, 4.0]), cols=np.array([1.0, 1.0, 1.0, 2.0]))
        np.testing.assert_array_equal(scaled.dense(), [[0, 2, 0, -2], [0, 0, 0, 0], [12, 2, 0, 0]])


def test_csr_input_is_made_canonical_without_touching_the_callers_array():
    # duplicates (0, 1) twice, an explicit zero at (1, 0), unsorted indices in row 1
    given = sparse.csr_array((np.array([1.0, 2.0, 0.0, 5.0, 4.0]), np.array([1, 1, 0, 3, 2]),
                              np.array([0, 2, 5])), shape=(2, 4))
    conn = Connection(given, 0.0)
    w = conn.csr()
    assert w.has_canonical_format and w.nnz == 3 and w.dtype == np.float64
    np.testing.assert_array_equal(w.toarray(), [[0, 3, 0, 0], [0, 0, 4, 5]])
    assert given.nnz == 5  # the caller's array is unchanged


def test_silencing_units_of_a_sparse_network_keeps_it_sparse():
    net = random_network(True)
    cut = silence(net, np.array([0, 5, 7]))
    hid, nxt = cut.layers[1].connection, cut.layers[2].connection
    assert hid.is_sparse and nxt.is_sparse
    assert hid.fan_in()[[0, 5, 7]].tolist() == [0, 0, 0] and nxt.fan_out()[[0, 5, 7]].tolist() == [0, 0, 0]
    assert net.layers[1].connection.fan_in()[[0, 5, 7]].sum() > 0  # the original is untouched


@pytest.mark.parametrize("weight, bias, match", [
    (sparse.csr_array(np.array([[np.nan, 1.0]])), 0.0, "NaN or infinite"),
    (sparse.csr_array(np.array([[0.0, np.inf]])), 0.0, "NaN or infinite"),
    (sparse.csr_array(np.array([[0.0, 1.0]])), [1.0, 2.0, 3.0], "bias has shape"),
    (sparse.coo_array(np.array([1.0, 0.0, 2.0])), 0.0, "must be 2-D"),
])
def test_bad_sparse_connection_is_refused(weight, bias, match):
    with pytest.raises(ValidationError, match=match):
        Connection(weight, bias)


def test_sparse_weight_of_the_wrong_shape_is_refused():
    with pytest.raises(ValidationError, match=r"weight shape \(3, 5\) does not match \(3, 2\)"):
        SpikingNetwork([Layer("in", "input", 2),
                        Layer("h", "if", 3, params={"v_threshold": 1.0, "v_init": 0.0},
                              connection=Connection(sparse.csr_array(np.eye(3, 5)), 0.0))])
