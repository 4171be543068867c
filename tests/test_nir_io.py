"""NIR files: round trips, what a plain NIR reader sees, generic graphs from other tools, bad files."""
from __future__ import annotations

import json

import h5py
import nir
import numpy as np
import pytest

from converters.ann_to_snn import convert_file
from converters.nir_io import network_to_nir, read_network, write_network
from neurosim.backends import reference, simulate
from neurosim.cli import main
from neurosim.data import load_dataset
from neurosim.errors import NetworkFileError, UnsupportedNodeError
from neurosim.network import Connection, Layer, SpikingNetwork

from networks import make_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "sparse.pt")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", "test").x[:40].astype(np.float64)


def assert_same_network(a: SpikingNetwork, b: SpikingNetwork):
    assert a.dt_s == b.dt_s
    assert [l.name for l in a.layers] == [l.name for l in b.layers]
    for la, lb in zip(a.layers, b.layers):
        assert la.kind == lb.kind and la.size == lb.size
        assert la.options == lb.options
        assert sorted(la.params) == sorted(lb.params)
        for key in la.params:
            np.testing.assert_array_equal(la.params[key], lb.params[key], err_msg=f"{la.name}.{key}")
        assert (la.connection is None) == (lb.connection is None)
        if la.connection is not None:
            np.testing.assert_array_equal(la.connection.dense(), lb.connection.dense())
            np.testing.assert_array_equal(la.connection.bias, lb.connection.bias)


@pytest.mark.parametrize("coding", ["rate", "graded"])
def test_round_trip_converted_network_simulates_identically(tmp_path, checkpoint, digits, coding):
    net, _ = convert_file(checkpoint, coding)
    path = write_network(net, tmp_path / "net.nir")
    back = read_network(path)
    assert_same_network(net, back)
    assert back.metadata == json.loads(json.dumps(net.summary()["metadata"]))
    r1, r2 = simulate(net, digits, 24), simulate(back, digits, 24)
    for a, b in zip(r1.layers, r2.layers):
        np.testing.assert_array_equal(a.spike_counts, b.spike_counts)
        assert a.synaptic_ops == b.synaptic_ops
    np.testing.assert_array_equal(r1.outputs, r2.outputs)


def generic_kinds_network():
    rng = np.random.default_rng(0)
    return SpikingNetwork([
        Layer("pixels", "input", 6, params={"gain": rng.uniform(0.5, 1.0, 6)}, options={"encoding": "bernoulli"}),
        Layer("a", "lif", 5, params={"tau_s": 0.02, "r": 2.0, "v_leak": 0.1, "v_threshold": 0.6, "v_init": 0.2},
              options={"reset": "zero"}, connection=Connection(rng.normal(0, 1, (5, 6)), rng.normal(0, .1, 5))),
        Layer("b", "cuba_lif", 4, params={"tau_syn_s": 0.004, "tau_mem_s": 0.01, "r": 3.0, "v_leak": 0.0,
                                          "v_threshold": 0.5, "w_in": 0.25, "v_init": 0.0, "v_reset": -0.1},
              options={"reset": "zero"}, connection=Connection(rng.normal(0, 1, (4, 5)), 0.0)),
        Layer("c", "if", 4, params={"v_threshold": 0.9, "v_init": 0.45},
              connection=Connection(rng.normal(0, 1, (4, 4)), 0.05)),
        Layer("d", "li", 3, params={"tau_s": 0.01, "r": 1.0, "v_leak": 0.0, "v_init": 0.0},
              connection=Connection(rng.normal(0, 1, (3, 4)), 0.0)),
    ], dt_s=1e-3, metadata={"note": "all kinds"})


def test_round_trip_every_kind(tmp_path):
    net = generic_kinds_network()
    back = read_network(write_network(net, tmp_path / "kinds.nir"))
    x = np.random.default_rng(1).random((30, 6))
    for la, lb in zip(net.layers, back.layers):
        assert la.kind == lb.kind and la.options == lb.options
        for key in la.params:  # w_in goes through NIR's continuous-time w_in: equal to rounding
            np.testing.assert_allclose(la.params[key], lb.params[key], rtol=1e-15, atol=0)
    r1, r2 = reference.run(net, x, 40, seed=3), reference.run(back, x, 40, seed=3)
    for a, b in zip(r1.spike_counts, r2.spike_counts):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(r1.outputs, r2.outputs, rtol=1e-12)


def test_plain_nir_reader_sees_a_standard_graph(tmp_path, checkpoint):
    net, _ = convert_file(checkpoint, "rate")
    graph = nir.read(write_network(net, tmp_path / "net.nir"))
    types = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert types == {"input": "Input", "hidden_synapses": "Affine", "hidden": "IF", "output_synapses": "Affine",
                     "output": "I", "nir_output": "Output"}
    assert graph.edges == [("input", "hidden_synapses"), ("hidden_synapses", "hidden"),
                           ("hidden", "output_synapses"), ("output_synapses", "output"), ("output", "nir_output")]
    np.testing.assert_array_equal(graph.nodes["hidden_synapses"].weight, net.layers[1].connection.dense())
    np.testing.assert_array_equal(graph.nodes["hidden"].r, np.ones(net.layers[1].size))
    np.testing.assert_array_equal(graph.nodes["hidden"].v_threshold, net.layers[1].params["v_threshold"])
    meta = json.loads(graph.metadata["neurosim"])
    assert meta["dt_s"] == net.dt_s and meta["metadata"]["coding"] == "rate"
    hidden_meta = json.loads(graph.nodes["hidden"].metadata["neurosim"])
    assert hidden_meta == {"kind": "if", "reset": "subtract", "v_init": 0.5}
    assert json.loads(graph.nodes["input"].metadata["neurosim"])["encoding"] == "regular"
    assert json.loads(graph.nodes["output"].metadata["neurosim"])["activation"] == "sigmoid"


def write_graph(path, nodes, edges, metadata=None):
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata or {}, type_check=False)
    nir.write(path, graph)
    return path


def test_generic_chain_from_another_tool(tmp_path):
    # Input -> Scale -> Affine -> LIF (scalars) -> Linear -> LI -> Output, without neurosim metadata
    nodes = {
        "in": nir.Input(input_type=np.array([3])),
        "gain": nir.Scale(scale=np.array([2.0, 2.0, 2.0])),
        "fc1": nir.Affine(weight=np.array([[0.5, 0.0, 0.0], [0.0, 0.0, 0.25]]), bias=np.array([0.0, 0.0])),
        "lif": nir.LIF(tau=np.array([0.01]), r=np.array([10.0]), v_leak=np.array([0.0]),
                       v_threshold=np.array([1.5]), v_reset=np.array([0.0])),
        "fc2": nir.Linear(weight=np.array([[1.0, 1.0]])),
        "li": nir.LI(tau=np.array([0.002]), r=np.array([1.0]), v_leak=np.array([0.0])),
        "out": nir.Output(output_type=np.array([1])),
    }
    edges = [("in", "gain"), ("gain", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "li"), ("li", "out")]
    net = read_network(write_graph(tmp_path / "g.nir", nodes, edges))
    assert [l.kind for l in net.layers] == ["input", "lif", "li"]
    assert net.layers[0].options["encoding"] == "current"
    np.testing.assert_array_equal(net.layers[0].params["gain"], [2.0, 2.0, 2.0])
    lif = net.layers[1]
    np.testing.assert_array_equal(lif.params["tau_s"], [0.01, 0.01])  # scalars broadcast
    assert lif.options["reset"] == "zero" and net.dt_s == 1e-3
    # neuron 0: I = 0.5 * 2 * 1 = 1; v += dt/tau (0 - v) + dt/tau * r * I = -0.1 v + 1
    # k=1: 1, k=2: 1.9 > 1.5 spike -> 0, k=3: 1, k=4: spike ... -> 4 spikes in k=1..8 (T=9 as layer 1 starts at 1)
    res = reference.run(net, np.array([[1.0, 0.0, 0.0]]), 9)
    assert res.spike_counts[1].tolist() == [[4, 0]]


def test_if_gain_and_cuba_w_in_follow_the_documented_convention(tmp_path):
    nodes = {"in": nir.Input(input_type=np.array([2])),
             "fc": nir.Affine(weight=np.eye(2), bias=np.array([0.1, 0.2])),
             "if": nir.IF(r=np.array([2.0, 2.0]), v_threshold=np.array([1.0, 1.0]), v_reset=np.zeros(2)),
             "fc2": nir.Affine(weight=np.eye(2), bias=np.zeros(2)),
             "cuba": nir.CubaLIF(tau_syn=np.array([0.005, 0.005]), tau_mem=np.array([0.01, 0.01]),
                                 r=np.array([1.0, 1.0]), v_leak=np.zeros(2), v_threshold=np.ones(2),
                                 v_reset=np.zeros(2), w_in=np.array([1.0, 1.0])),
             "out": nir.Output(output_type=np.array([2]))}
    edges = [("in", "fc"), ("fc", "if"), ("if", "fc2"), ("fc2", "cuba"), ("cuba", "out")]
    net = read_network(write_graph(tmp_path / "g.nir", nodes, edges), dt_s=1e-3)
    # IF: v += r * I, r folded into the synapses
    np.testing.assert_array_equal(net.layers[1].connection.dense(), 2.0 * np.eye(2))
    np.testing.assert_array_equal(net.layers[1].connection.bias, [0.2, 0.4])
    # CubaLIF: neurosim w_in = dt / tau_syn * NIR w_in
    np.testing.assert_allclose(net.layers[2].params["w_in"], [0.2, 0.2])


def base_nodes():
    return {"in": nir.Input(input_type=np.array([2])),
            "fc": nir.Affine(weight=np.eye(2), bias=np.zeros(2)),
            "lif": nir.LIF(tau=np.ones(2) * .01, r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
                           v_reset=np.zeros(2)),
            "out": nir.Output(output_type=np.array([2]))}


def test_recurrent_edge_is_refused_naming_the_node(tmp_path):
    edges = [("in", "fc"), ("fc", "lif"), ("lif", "fc"), ("lif", "out")]
    path = write_graph(tmp_path / "rec.nir", base_nodes(), edges)
    with pytest.raises(UnsupportedNodeError, match="'fc' of type Affine.*feed-forward"):
        read_network(path)


def test_branch_is_refused(tmp_path):
    nodes = base_nodes()
    nodes["fc_b"] = nir.Affine(weight=np.eye(2), bias=np.zeros(2))
    edges = [("in", "fc"), ("in", "fc_b"), ("fc", "lif"), ("fc_b", "lif"), ("lif", "out")]
    with pytest.raises(UnsupportedNodeError, match="'in' of type Input has 2 outgoing edges"):
        read_network(write_graph(tmp_path / "branch.nir", nodes, edges))


def test_unsupported_node_type_is_named(tmp_path):
    nodes = base_nodes()
    nodes["thr"] = nir.Threshold(threshold=np.ones(2))
    edges = [("in", "fc"), ("fc", "thr"), ("thr", "lif"), ("lif", "out")]
    with pytest.raises(UnsupportedNodeError, match="node 'thr' of type Threshold is not supported"):
        read_network(write_graph(tmp_path / "thr.nir", nodes, edges))


def test_plain_integrator_is_refused(tmp_path):
    nodes = base_nodes()
    nodes["lif"] = nir.I(r=np.ones(2))
    edges = [("in", "fc"), ("fc", "lif"), ("lif", "out")]
    with pytest.raises(UnsupportedNodeError, match="'lif' of type I"):
        read_network(write_graph(tmp_path / "i.nir", nodes, edges))


def test_unknown_type_in_file_is_named(tmp_path):
    path = write_graph(tmp_path / "u.nir", base_nodes(), [("in", "fc"), ("fc", "lif"), ("lif", "out")])
    with h5py.File(path, "r+") as f:
        del f["node/nodes/lif/type"]
        f["node/nodes/lif"].create_dataset("type", data="Spiky", dtype=h5py.string_dtype())
    with pytest.raises(UnsupportedNodeError, match="node 'lif' of type Spiky is not supported"):
        read_network(path)


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all", b"\x89HDF\r\n\x1a\n" + b"\0" * 40])
def test_corrupt_files_raise_network_file_error(tmp_path, content):
    path = tmp_path / "bad.nir"
    path.write_bytes(content)
    with pytest.raises(NetworkFileError, match="bad.nir"):
        read_network(path)


def test_hdf5_without_graph_and_bad_metadata(tmp_path):
    path = tmp_path / "empty.nir"
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data="1.0")
    with pytest.raises(NetworkFileError, match="no 'node' group"):
        read_network(path)
    nodes = base_nodes()
    nodes["lif"].metadata = {"neurosim": "{not json"}
    path = write_graph(tmp_path / "meta.nir", nodes, [("in", "fc"), ("fc", "lif"), ("lif", "out")])
    with pytest.raises(NetworkFileError, match="'lif'.*not valid JSON"):
        read_network(path)


def test_truncated_converted_file(tmp_path, checkpoint):
    net, _ = convert_file(checkpoint, "rate")
    path = write_network(net, tmp_path / "net.nir")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NetworkFileError, match="net.nir"):
        read_network(path)


def test_cli_simulate_malformed_nir_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"garbage")
    out = tmp_path / "act"
    assert main(["simulate", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.nir" in err and "Traceback" not in err
    assert not list(tmp_path.glob("act*"))


def test_network_to_nir_refuses_colliding_names():
    net = SpikingNetwork([Layer("in", "input", 2),
                          Layer("h_synapses", "if", 2, params={"v_threshold": 1.0},
                                connection=Connection(np.eye(2), 0.0)),
                          Layer("h", "if", 2, params={"v_threshold": 1.0}, connection=Connection(np.eye(2), 0.0))])
    with pytest.raises(Exception, match="collides"):
        network_to_nir(net)
