"""Importing NIR graphs written by other tools: every listed node type, malformed files, CLI.

The expected values come from :func:`nir_reference`, a step-by-step simulator written straight
from NIR's node equations (forward Euler at ``dt``, IF/I with ``r`` as the per-step gain, no
synaptic delay), independent of neurosim's reader, which composes Affine/Scale nodes and folds
``r``; neurosim's one-step delay per connection is undone by the per-layer alignment of
:func:`converters.snntorch_interop.aligned_counts` (layer ``l`` over ``T`` steps = the no-delay run's first ``T - l``).
"""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

nir = pytest.importorskip("nir")

from converters import snntorch_interop as S  # noqa: E402
from converters.nir_io import read_network  # noqa: E402
from neurosim.backends import reference, simulate  # noqa: E402
from neurosim.cli import main  # noqa: E402
from neurosim.errors import NetworkFileError, UnsupportedNodeError  # noqa: E402

DT = 1e-4


def write_graph(path, nodes, edges, metadata=None):
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata or {}, type_check=False))
    return path


def nir_reference(graph, x: np.ndarray, T: int, dt: float) -> dict[str, np.ndarray]:
    """Per node name, its output per step (T, N, n): NIR's equations, no delay, forward Euler."""
    names = S.chain_names(graph)
    state: dict[str, dict[str, np.ndarray]] = {}
    out: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for _ in range(T):
        a = x
        for name in names:
            node = graph.nodes[name]
            t = type(node).__name__
            p = {k: np.asarray(v, dtype=np.float64).reshape(-1) if np.ndim(v) else np.asarray(v, dtype=np.float64)
                 for k, v in vars(node).items() if isinstance(v, (np.ndarray, float, int)) and k != "metadata"}
            if t == "Scale":
                a = p["scale"] * a
            elif t == "Affine":
                a = a @ np.asarray(node.weight).T + p["bias"]
            elif t == "Linear":
                a = a @ np.asarray(node.weight).T
            elif t in ("IF", "LIF", "CubaLIF", "LI"):
                s = state.setdefault(name, {"v": np.zeros_like(a), "i": np.zeros_like(a)})
                if t == "IF":
                    s["v"] = s["v"] + p["r"] * a
                elif t in ("LIF", "LI"):
                    s["v"] = s["v"] + dt / p["tau"] * (p["v_leak"] - s["v"] + p["r"] * a)
                else:
                    s["i"] = s["i"] + dt / p["tau_syn"] * (-s["i"] + p["w_in"] * a)
                    s["v"] = s["v"] + dt / p["tau_mem"] * (p["v_leak"] - s["v"] + p["r"] * s["i"])
                if t == "LI":
                    a = s["v"].copy()
                else:
                    z = s["v"] > p["v_threshold"]
                    s["v"] = np.where(z, p["v_reset"] * np.ones_like(s["v"]), s["v"])
                    a = z.astype(np.float64)
            out[name].append(np.array(a))
    return {n: np.stack(v) for n, v in out.items()}


def every_node_graph():
    """Input -> Scale -> Affine -> IF -> Linear -> LIF -> Affine -> CubaLIF -> Linear -> Scale -> LI -> Output.

    Scalar parameters (shape (1,): nir.write cannot store 0-d arrays) and per-neuron arrays, nonzero v_leak and v_reset,
    IF with r != 1, node names that are Python keywords or contain dots (as nirtorch writes them).
    """
    rng = np.random.default_rng(0)
    sizes = [5, 6, 5, 4, 3]
    w = [rng.normal(0.4, 0.7, (b, a)) for a, b in zip(sizes, sizes[1:])]
    nodes = {
        "input": nir.Input(input_type=np.array([5])),
        "gain": nir.Scale(scale=rng.uniform(0.5, 1.5, 5)),
        "fc.0": nir.Affine(weight=w[0], bias=rng.normal(0.0, 0.05, 6)),
        "if": nir.IF(r=np.array([1.5]), v_threshold=np.array([1.0]), v_reset=np.array([0.0])),  # scalars
        "fc.1": nir.Linear(weight=w[1] * 2.0),
        "lif": nir.LIF(tau=rng.uniform(3e-4, 1e-3, 5), r=rng.uniform(4.0, 8.0, 5), v_leak=np.full(5, 0.1),
                       v_threshold=rng.uniform(0.8, 1.2, 5), v_reset=np.full(5, -0.1)),
        "fc.2": nir.Affine(weight=w[2] * 3.0, bias=np.zeros(4)),
        "cuba": nir.CubaLIF(tau_syn=np.array([5e-4]), tau_mem=np.array([1e-3]), r=np.array([10.0]),
                            v_leak=np.array([0.0]), v_threshold=np.array([1.0]), v_reset=np.array([0.0]),
                            w_in=np.array([5.0])),  # shape (1,) scalars
        "fc.3": nir.Linear(weight=w[3]),
        "scale_out": nir.Scale(scale=np.array([1.0, 2.0, 0.5])),
        "li": nir.LI(tau=rng.uniform(2e-4, 6e-4, 3), r=np.ones(3), v_leak=np.zeros(3)),
        "output": nir.Output(output_type=np.array([3])),
    }
    names = list(nodes)
    return nodes, list(zip(names, names[1:]))


@pytest.fixture
def every_node(tmp_path):
    nodes, edges = every_node_graph()
    return write_graph(tmp_path / "every.nir", nodes, edges)


def test_every_node_type_imports_and_simulates_faithfully(every_node):
    net = read_network(every_node, dt_s=DT)
    assert [l.kind for l in net.layers] == ["input", "if", "lif", "cuba_lif", "li"]
    assert net.layers[0].options["encoding"] == "current" and net.metadata["dt_source"] == "argument"
    T = 60
    x = np.random.default_rng(1).uniform(0.0, 1.0, (12, 5))
    expected = nir_reference(nir.read(every_node, type_check=False), x, T, DT)
    res = reference.run(net, x, T)
    counts = S.aligned_counts([expected[n] for n in ("if", "lif", "cuba")], T)
    frac, worst = S.agreement(res.spike_counts[1:4], counts)
    assert frac >= 0.99 and worst <= 1
    assert all(c.sum() > 0 for c in counts)
    # LI (layer 4): decoded output = mean membrane over its window T - 4
    np.testing.assert_allclose(res.outputs, expected["li"][: T - 4].mean(axis=0), rtol=1e-9, atol=1e-12)


def test_li_and_trailing_affine_hand_computed(tmp_path):
    # LI tau = 2 dt: v += 0.5 (x - v); x = 1: v = 0.5, 0.75, 0.875, 0.9375 over layer 1's 4 steps (T = 5)
    nodes = {"in": nir.Input(input_type=np.array([1])), "fc": nir.Linear(weight=np.array([[1.0]])),
             "li": nir.LI(tau=np.array([2 * DT]), r=np.array([1.0]), v_leak=np.array([0.0])),
             "out": nir.Output(output_type=np.array([1]))}
    net = read_network(write_graph(tmp_path / "li.nir", nodes, [("in", "fc"), ("fc", "li"), ("li", "out")]), dt_s=DT)
    assert reference.run(net, np.array([[1.0]]), 5).outputs.tolist() == [[(0.5 + 0.75 + 0.875 + 0.9375) / 4]]
    # IF (threshold 1, r = 1) fed 0.75 per step, then Affine -> Output: a readout of the current
    # IF over 5 steps (k = 1..5): v = .75, 1.5 spike -> 0, .75, 1.5 spike -> 0, .75 -> 2 spikes
    # readout (k = 2..5) sees the spikes of k = 1..4: 0, 1, 0, 1 -> mean current 2 * 0.5 + 0.25 = 1.25
    nodes = {"in": nir.Input(input_type=np.array([1])), "fc": nir.Linear(weight=np.array([[0.75]])),
             "if": nir.IF(r=np.array([1.0]), v_threshold=np.array([1.0]), v_reset=np.array([0.0])),
             "head": nir.Affine(weight=np.array([[2.0], [4.0]]), bias=np.array([0.25, 0.0])),
             "out": nir.Output(output_type=np.array([2]))}
    edges = [("in", "fc"), ("fc", "if"), ("if", "head"), ("head", "out")]
    net = read_network(write_graph(tmp_path / "head.nir", nodes, edges))
    assert [(l.name, l.kind) for l in net.layers] == [("in", "input"), ("if", "if"), ("head", "readout")]
    res = reference.run(net, np.array([[1.0]]), 6)
    assert res.spike_counts[1].tolist() == [[2]]
    np.testing.assert_allclose(res.outputs, [[1.25, 2.0]])


@pytest.mark.cuba_lif
@pytest.mark.current_input
def test_every_node_type_on_other_backends(every_node, other_backend):
    net = read_network(every_node, dt_s=DT)
    x = np.random.default_rng(2).uniform(0.0, 1.0, (6, 5))
    ref = simulate(net, x, 30)
    other = simulate(net, x, 30, backend=other_backend)
    ours = [l.spike_counts for l in ref.layers[1:]]
    assert all(c.sum() > 0 for c in ours[:-1])  # every spiking layer takes part (the last is LI)
    frac, worst = S.agreement(ours, [l.spike_counts for l in other.layers[1:]])
    assert frac >= 0.99 and worst <= 1
    assert abs(other.synaptic_ops - ref.synaptic_ops) <= 0.01 * ref.synaptic_ops
    np.testing.assert_allclose(other.outputs, ref.outputs, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- refused graphs


def base():
    return {"in": nir.Input(input_type=np.array([2])),
            "fc": nir.Affine(weight=np.eye(2), bias=np.zeros(2)),
            "lif": nir.LIF(tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
                           v_reset=np.zeros(2)),
            "out": nir.Output(output_type=np.array([2]))}


CHAIN = [("in", "fc"), ("fc", "lif"), ("lif", "out")]


def _with(**changes):
    nodes = base()
    for key, value in changes.items():
        node, attr = key.split("__")
        setattr(nodes[node], attr, value)
    return nodes


MALFORMED = {
    "missing edge target": (base(), CHAIN + [("lif", "ghost")], r"edge \('lif', 'ghost'\) names a node that does not exist"),
    "missing edge source": (base(), [("ghost", "fc")] + CHAIN[1:], r"edge \('ghost', 'fc'\) names a node"),
    "weight/input shape": (_with(fc__weight=np.ones((2, 3))), CHAIN, r"node 'fc' \(Affine\) takes 3 inputs but receives 2"),
    "bias shape": (_with(fc__bias=np.zeros(3)), CHAIN, r"node 'fc' \(Affine\): bias has shape \(3,\)"),
    "neuron parameter shape": (_with(lif__tau=np.full(3, 1e-3)), CHAIN, r"at node 'lif' of type LIF.*same shape"),
    "output shape": (_with(out__output_type={"output": np.array([5])}), CHAIN, r"output node 'out' declares 5"),
    "NaN weight": (_with(fc__weight=np.array([[1.0, np.nan], [0.0, 1.0]])), CHAIN, r"node 'fc' \(Affine\): weight contains NaN"),
    "NaN tau": (_with(lif__tau=np.array([1e-3, np.nan])), CHAIN, r"node 'lif' \(LIF\).*'tau_s' contains NaN"),
    "NaN threshold": (_with(lif__v_threshold=np.array([np.nan, 1.0])), CHAIN, r"node 'lif'.*'v_threshold' contains NaN"),
    "negative tau": (_with(lif__tau=np.array([1e-3, -1e-3])), CHAIN, r"node 'lif'.*tau_s must be positive"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_graph_is_one_line_error(tmp_path, case):
    nodes, edges, match = MALFORMED[case]
    path = write_graph(tmp_path / "bad.nir", nodes, edges)
    with pytest.raises(NetworkFileError, match=match) as info:
        read_network(path, dt_s=DT)
    assert "\n" not in str(info.value) and "bad.nir" in str(info.value)


UNSUPPORTED = {
    "recurrence": (lambda n: n, CHAIN + [("lif", "fc")], r"node 'fc' of type Affine has 2 incoming edges"),
    "self loop": (lambda n: n, CHAIN + [("lif", "lif")], r"node 'lif' of type LIF"),
    "convolution": (lambda n: {**n, "conv": nir.Conv1d(input_shape=2, weight=np.ones((2, 1, 1)), stride=1, padding=0,
                                                       dilation=1, groups=1, bias=np.zeros(2))},
                    [("in", "conv"), ("conv", "fc")] + CHAIN[1:], r"node 'conv' of type Conv1d is not supported"),
    "delay node": (lambda n: {**n, "d": nir.Delay(delay=np.ones(2))}, [("in", "d"), ("d", "fc")] + CHAIN[1:],
                   r"node 'd' of type Delay is not supported"),
    "plain integrator": (lambda n: {**n, "lif": nir.I(r=np.ones(2))}, CHAIN, r"node 'lif' of type I"),
}


@pytest.mark.parametrize("case", list(UNSUPPORTED))
def test_unsupported_node_or_topology_is_named(tmp_path, case):
    make, edges, match = UNSUPPORTED[case]
    path = write_graph(tmp_path / "u.nir", make(base()), edges)
    with pytest.raises(UnsupportedNodeError, match=match) as info:
        read_network(path)
    assert "\n" not in str(info.value)


def test_subgraph_is_named(tmp_path):
    inner = nir.NIRGraph(nodes=base(), edges=CHAIN, type_check=False)
    nodes = {"in": nir.Input(input_type=np.array([2])), "sub": inner, "out": nir.Output(output_type=np.array([2]))}
    path = write_graph(tmp_path / "sub.nir", nodes, [("in", "sub"), ("sub", "out")])
    with pytest.raises(UnsupportedNodeError, match="node 'sub' of type NIRGraph"):
        read_network(path)


# ----------------------------------------------------------------------------- the command line


def test_cli_simulate_and_report_take_a_foreign_graph(tmp_path, every_node, capsys):
    x = np.random.default_rng(3).uniform(0.0, 1.0, (7, 5))
    np.save(tmp_path / "x.npy", x)
    act = tmp_path / "act"
    assert main(["simulate", str(every_node), "--inputs", str(tmp_path / "x.npy"), "--dt", "1e-4", "-T", "40",
                 "-o", str(act)]) == 0
    printed = capsys.readouterr().out
    assert "dt = 0.0001 s (given with --dt)" in printed
    summary = json.loads((tmp_path / "act.json").read_text())
    assert summary["info"]["dt_source"] == "argument" and summary["dt_s"] == 1e-4
    expected = reference.run(read_network(every_node, dt_s=DT), x, 40)
    assert [l["total_spikes"] for l in summary["layers"][1:]] == [int(c.sum()) for c in expected.spike_counts[1:]]
    # report simulates the graph first (same options), then prices it
    report_json = tmp_path / "r.json"
    assert main(["report", str(every_node), "--inputs", str(tmp_path / "x.npy"), "--dt", "1e-4", "-T", "40",
                 "--profile", "loihi2", "--format", "json", "-o", str(report_json)]) == 0
    (estimate,) = json.loads(report_json.read_text())
    assert estimate["profile"] == "loihi2" and estimate["source"] == str(every_node)
    assert estimate["num_samples"] == 7 and estimate["timesteps"] == 40
    assert estimate["synaptic_ops_per_inference"] == pytest.approx(summary["synaptic_ops_per_inference"])
    assert estimate["spikes_per_inference"] == pytest.approx(summary["spikes_per_inference"])


def test_cli_default_dt_is_stated(tmp_path, every_node, capsys):
    np.save(tmp_path / "x.npy", np.ones((2, 5)))
    assert main(["simulate", str(every_node), "--inputs", str(tmp_path / "x.npy"), "-T", "10",
                 "-o", str(tmp_path / "a")]) == 0
    assert "dt = 0.001 s (default: the graph states none; snnTorch graphs need --dt 1e-4)" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["simulate", "report"])
@pytest.mark.parametrize("case", ["NaN tau", "missing edge target", "bad inputs"])
def test_cli_bad_graph_or_inputs_exit_2_with_one_line(tmp_path, capsys, command, case):
    if case == "bad inputs":
        nodes, edges = base(), CHAIN
        np.save(tmp_path / "x.npy", np.ones((3, 4)))  # the graph takes 2 inputs
    else:
        nodes, edges, _ = MALFORMED[case]
        np.save(tmp_path / "x.npy", np.ones((3, 2)))
    path = write_graph(tmp_path / "g.nir", nodes, edges)
    args = [command, str(path), "--inputs", str(tmp_path / "x.npy")]
    args += ["-o", str(tmp_path / "out")] if command == "simulate" else ["--profile", "loihi2"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert ("x.npy" if case == "bad inputs" else "g.nir") in err
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob("*.json"))


def test_unknown_type_in_file_named_by_cli(tmp_path, capsys):
    path = write_graph(tmp_path / "g.nir", base(), CHAIN)
    with h5py.File(path, "r+") as f:
        del f["node/nodes/lif/type"]
        f["node/nodes/lif"].create_dataset("type", data="AdEx", dtype=h5py.string_dtype())
    np.save(tmp_path / "x.npy", np.ones((1, 2)))
    assert main(["simulate", str(path), "--inputs", str(tmp_path / "x.npy"), "-o", str(tmp_path / "o")]) == 2
    assert "node 'lif' of type AdEx is not supported" in capsys.readouterr().err
