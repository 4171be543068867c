"""NIR round trips with snnTorch: neurosim -> NIR -> snnTorch and snnTorch -> NIR -> neurosim.

Spike counts are compared with snnTorch's own simulation of the same graph, to the backends
tolerance: >= 99% of (sample, neuron) counts identical, none off by more than 1 (float32 in
snnTorch, float64 here). Each direction runs two network shapes and three neuron models (IF,
LIF, CubaLIF), with analog and spike-train inputs.

Conventions (see converters/nir_io.py and converters/nir_strict.py):

* dt. NIR states no time step. snnTorch writes and reads LIF/CubaLIF for dt = 1e-4 s
  (``tau = dt/(1-beta)``, ``r = tau/dt``, ``tau_syn = dt/(1-alpha)``, ``w_in = tau_syn/dt``);
  neurosim discretises the same NIR equations by forward Euler at its ``dt_s``, so the networks
  here use ``dt_s = 1e-4`` and snnTorch's graphs are read with ``dt_s=1e-4``.
* IF has no time constant: ``v += r I`` per step with ``r = 1``.
* Reset: NIR resets to ``v_reset`` (0 here): snnTorch ``reset_mechanism='zero'`` with
  ``reset_delay=False`` (immediate, as NIR and neurosim; snnTorch's default delayed reset changes
  Synaptic's spikes and is not exported).
* Time alignment: neurosim delays each connection by one step, snnTorch does not; neurosim's
  layer l over T steps = snnTorch's layer l over its first T - l steps (``aligned_counts``).

Upstream problems (snntorch 1.0.0, nirtorch 2.6), each asserted below so a fixed release shows:
the IF import (leaky, subtractive, tuple output), scalar parameters and batched sample data
breaking ``export_to_nir``'s type inference, ``Leaky(beta=1)`` exported with infinite tau and r,
per-neuron ``r dt/tau`` silently replaced by its smallest value on LIF import, per-neuron
thresholds refused on import, and no import for I/LI/Scale nodes.
"""
from __future__ import annotations

import numpy as np
import pytest

nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
pytest.importorskip("nirtorch")

from snntorch.export_nir import export_to_nir  # noqa: E402
from snntorch.import_nir import import_from_nir  # noqa: E402

from converters import snntorch_interop as S  # noqa: E402
from converters.ann_to_snn import convert_file  # noqa: E402
from converters.nir_io import read_network, write_network  # noqa: E402
from converters.nir_strict import write_strict  # noqa: E402
from neurosim.network import Connection, Layer, SpikingNetwork  # noqa: E402
from neurosim.backends import reference  # noqa: E402
from neurosim.errors import NetworkFileError  # noqa: E402

DT = S.DT
pytestmark = pytest.mark.filterwarnings("ignore:nirtorch.extract_nir_graph is being deprecated:DeprecationWarning")
SHAPES = {"6-5-4": [6, 5, 4], "8-7-6-3": [8, 7, 6, 3]}
KINDS = ("if", "lif", "cuba_lif")


def assert_agree(ours, theirs):
    frac, worst = S.agreement(ours, theirs)
    assert frac >= 0.99 and worst <= 1, (frac, worst)
    for layer in theirs:  # every layer must take part, else the comparison proves little
        assert layer.sum() > 0


# --------------------------------------------------------------------------------- neurosim -> NIR -> snnTorch


@pytest.mark.parametrize("encoding", ["current", "regular"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", KINDS)
def test_neurosim_to_snntorch(tmp_path, kind, shape, encoding):
    net = S.random_network(kind, SHAPES[shape], seed=len(shape) + KINDS.index(kind), encoding=encoding)
    graph = nir.read(write_network(net, tmp_path / "net.nir"))  # neurosim's own writer: standard nodes
    module, layers = S.import_graph(graph)
    assert [kind_ for _, _, kind_ in layers] == [{"if": "IF", "lif": "LIF", "cuba_lif": "CubaLIF"}[kind]] * (
        len(SHAPES[shape]) - 1)
    T = 40
    x = np.random.default_rng(7).uniform(0.0, 1.0, (16, net.input_size))
    out = S.run(module, layers, S.snntorch_inputs(net, x, T))
    theirs = S.aligned_counts([out[name] for name, _, _ in layers], T)
    ours = reference.run(net, x, T).spike_counts[1:]
    assert_agree(ours, theirs)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    from networks import make_checkpoint

    ckpt = make_checkpoint(tmp_path_factory.mktemp("ckpt") / "sparse.pt", "sparse")
    net, _ = convert_file(ckpt, "rate")
    return net


def test_converted_network_loads_in_snntorch_only_in_strict_form(tmp_path, converted):
    from neurosim.data import load_dataset

    # the full file: its readout is an I node, which snnTorch cannot import
    with pytest.raises(ValueError, match="Unknown node type.*I'"):
        import_from_nir(nir.read(write_network(converted, tmp_path / "full.nir")))
    path, strict, changes = write_strict(converted, tmp_path / "strict.nir")
    assert {c["what"] for c in changes if not c["exact"]} == {"input encoding", "reset", "initial membrane"}
    module, layers = S.import_graph(nir.read(path))
    assert [k for _, _, k in layers] == ["IF", "readout"]
    T = 32
    x = load_dataset("digits", "test").x[:24].astype(np.float64)
    out = S.run(module, layers, np.repeat(x[None], T, axis=0))
    back = read_network(path)  # what neurosim simulates for the strict file
    res = reference.run(back, x, T)
    assert_agree(res.spike_counts[1:2], S.aligned_counts([out["hidden"]], T))
    # decoded output: the declared sigmoid of the readout current averaged over its window T - 2
    window = T - (len(back.layers) - 1)
    mean_current = out["output"][:window].mean(axis=0)
    np.testing.assert_allclose(res.outputs, 1.0 / (1.0 + np.exp(-mean_current)), atol=2e-5)
    # and the strict file read back is exactly the strict network
    ref = reference.run(strict, x, T)
    assert all((a == b).all() for a, b in zip(ref.spike_counts, res.spike_counts))


# --------------------------------------------------------------------------------- snnTorch -> NIR -> neurosim


@pytest.mark.parametrize("encoding", ["current", "regular"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", KINDS)
def test_snntorch_to_neurosim(tmp_path, kind, shape, encoding):
    sizes = SHAPES[shape]
    seq = S.random_sequential(kind, sizes, seed=3 + KINDS.index(kind) + len(sizes))
    if kind == "if":
        graph = S.if_graph_from_sequential(seq)
    else:
        graph = export_to_nir(seq, torch.zeros(sizes[0]))  # unbatched sample: see the upstream test
    path = tmp_path / "snntorch.nir"
    nir.write(path, graph)
    net = read_network(path, dt_s=DT, input_encoding=encoding)
    assert [l.kind for l in net.layers[1:]] == [kind] * (len(sizes) - 1)
    assert all(l.options["reset"] == "zero" for l in net.layers[1:])
    T = 40
    x = np.random.default_rng(11).uniform(0.0, 1.0, (16, sizes[0]))
    inputs = S.snntorch_inputs(net, x, T)
    ours = reference.run(net, x, T).spike_counts[1:]
    # against the snnTorch network the graph came from
    assert_agree(ours, S.aligned_counts(S.run_sequential(seq, inputs), T))
    # and against snnTorch's own import of the graph
    module, layers = S.import_graph(nir.read(path))
    out = S.run(module, layers, inputs)
    assert_agree(ours, S.aligned_counts([out[name] for name, _, _ in layers], T))


def test_per_neuron_thresholds_read_where_snntorch_cannot(tmp_path):
    seq = S.random_sequential("lif", SHAPES["6-5-4"], seed=5, per_neuron_threshold=True)
    graph = export_to_nir(seq, torch.zeros(6))
    with pytest.raises(AssertionError, match="v_threshold must be same"):
        import_from_nir(graph)  # upstream: snnTorch cannot re-import its own export
    nir.write(tmp_path / "g.nir", graph)
    net = read_network(tmp_path / "g.nir", dt_s=DT)
    assert len(np.unique(net.layers[1].params["v_threshold"])) == 5
    T, x = 40, np.random.default_rng(2).uniform(0.0, 1.0, (16, 6))
    ours = reference.run(net, x, T).spike_counts[1:]
    assert_agree(ours, S.aligned_counts(S.run_sequential(seq, np.repeat(x[None], T, axis=0)), T))


def test_dt_matters_for_snntorch_graphs(tmp_path):
    seq = S.random_sequential("lif", SHAPES["6-5-4"], seed=9)
    nir.write(tmp_path / "g.nir", export_to_nir(seq, torch.zeros(6)))
    default = read_network(tmp_path / "g.nir")
    assert default.dt_s == 1e-3 and default.metadata["dt_source"] == "default"
    right = read_network(tmp_path / "g.nir", dt_s=DT)
    assert right.metadata["dt_source"] == "argument"
    x = np.random.default_rng(4).uniform(0.0, 1.0, (8, 6))
    a = reference.run(default, x, 30).spike_counts[1]
    b = reference.run(right, x, 30).spike_counts[1]
    assert not np.array_equal(a, b)  # 1 ms steps: beta = 1 - dt/tau is another neuron


# --------------------------------------------------------------------------------- upstream problems


def test_upstream_if_import_is_leaky_subtractive_and_returns_a_tuple():
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([2])),
                            "fc": nir.Affine(weight=np.eye(2, dtype=np.float32), bias=np.zeros(2, dtype=np.float32)),
                            "if": nir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2)),
                            "output": nir.Output(output_type=np.array([2]))},
                     edges=[("input", "fc"), ("fc", "if"), ("if", "output")])
    module = import_from_nir(g)
    neuron = module.nir_node_if
    assert float(neuron.beta) == pytest.approx(0.9) and neuron.reset_mechanism == "subtract"
    out, _ = module(torch.ones(1, 2))
    assert isinstance(out, tuple)  # (spk, mem): a node after it would receive a tuple


@pytest.mark.parametrize("change, value", [("r", np.array([1.0, 2.0])), ("v_threshold", np.array([1.0, 0.5])),
                                           ("v_reset", np.array([0.0, 0.1]))])
def test_if_repair_refuses_what_snntorch_cannot_run(change, value):
    """The repaired IF is snnTorch's Leaky(beta=1): r = 1, v_reset = 0, one threshold per layer."""
    from neurosim.errors import UnsupportedNodeError

    params = {"r": np.ones(2), "v_threshold": np.ones(2), "v_reset": np.zeros(2), change: value}
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([2])),
                            "fc": nir.Affine(weight=np.eye(2, dtype=np.float32), bias=np.zeros(2, dtype=np.float32)),
                            "if": nir.IF(**params), "output": nir.Output(output_type=np.array([2]))},
                     edges=[("input", "fc"), ("fc", "if"), ("if", "output")])
    with pytest.raises(UnsupportedNodeError, match="node 'if' of type IF: snnTorch runs IF only with r = 1"):
        S.import_graph(g)


def test_upstream_export_problems(tmp_path):
    def seq(beta, thr):
        return torch.nn.Sequential(torch.nn.Linear(3, 2), snn.Leaky(beta=beta, threshold=thr, init_hidden=True))

    with pytest.raises(ValueError, match="Type inference error"):  # scalar beta and threshold
        export_to_nir(seq(0.9, 1.0), torch.zeros(3))
    with pytest.raises(ValueError, match="Type inference error"):  # batched sample data
        export_to_nir(seq(torch.full((2,), 0.9), torch.ones(2)), torch.zeros(1, 3))
    with pytest.warns(RuntimeWarning, match="divide by zero"):  # beta = 1: tau = dt / 0
        graph = export_to_nir(seq(torch.ones(2), torch.ones(2)), torch.zeros(3))
    lif = graph.nodes["1"]
    assert np.isinf(lif.tau).all() and np.isinf(lif.r).all()
    nir.write(tmp_path / "inf.nir", graph)
    with pytest.raises(NetworkFileError, match=r"node '1' \(LIF\): tau is infinite.*write an IF node"):
        read_network(tmp_path / "inf.nir", dt_s=DT)


def test_upstream_lif_import_uses_the_first_input_scale_only(tmp_path):
    # r dt / tau differs per neuron (1 and 0.5): snnTorch divides every threshold by the first of the
    # sorted unique values (0.5), silently
    node = nir.LIF(tau=np.array([1e-3, 1e-3]), r=np.array([10.0, 5.0]), v_leak=np.zeros(2),
                   v_threshold=np.ones(2), v_reset=np.zeros(2))
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([2])),
                            "fc": nir.Affine(weight=np.eye(2, dtype=np.float32), bias=np.zeros(2, dtype=np.float32)),
                            "lif": node, "output": nir.Output(output_type=np.array([2]))},
                     edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])
    assert float(import_from_nir(g).lif.threshold) == pytest.approx(2.0)  # neuron 0 needed 1 / 1 = 1
    # neurosim keeps r per neuron: compare with a correctly built snnTorch neuron (thresholds 1 and 2)
    nir.write(tmp_path / "g.nir", g)
    net = read_network(tmp_path / "g.nir", dt_s=DT)
    x = np.array([[0.35, 0.35], [0.6, 0.9]])
    T = 30
    right = torch.nn.Sequential(torch.nn.Identity(), snn.Leaky(beta=torch.full((2,), 0.9), threshold=torch.tensor([1.0, 2.0]),
                                                               init_hidden=True, reset_mechanism="zero", reset_delay=False))
    theirs = S.aligned_counts(S.run_sequential(right, np.repeat(x[None], T, axis=0)), T)
    ours = reference.run(net, x, T).spike_counts[1:]
    assert_agree(ours, theirs)
    assert (ours[0][:, 0] > ours[0][:, 1]).all()  # neuron 0's input scale is twice neuron 1's


# --------------------------------------------------------------------------------- --nir-strict


def test_exact_strict_changes_leave_the_simulation_unchanged(tmp_path):
    # current input with a gain, LIF reset to zero at rest, readout with a scale: only exact changes apply
    net = S.random_network("lif", [6, 5, 4], seed=1, encoding="current")
    layers = net.layers
    layers[0].params["gain"] = np.linspace(0.5, 1.5, 6)
    rng = np.random.default_rng(0)
    readout = Layer("out", "readout", 3, params={"scale": [0.5, 2.0, 1.0]}, options={"activation": "sigmoid"},
                    connection=Connection(rng.normal(0, 1, (3, 4)), rng.normal(0, 0.1, 3)))
    net = SpikingNetwork([*layers, readout], dt_s=S.DT)
    from converters.nir_strict import strict_network

    strict, changes = strict_network(net, target_dt_s=1e-3)
    assert all(c["exact"] for c in changes)
    assert {c["what"] for c in changes} == {"input gain", "readout", "time constants"}
    assert strict.dt_s == 1e-3
    np.testing.assert_allclose(strict.layers[1].params["tau_s"], net.layers[1].params["tau_s"] * 10)
    path, *_ = write_strict(net, tmp_path / "s.nir", target_dt_s=1e-3)
    back = read_network(path)
    assert back.dt_s == 1e-3 and back.layers[-1].options["activation"] == "sigmoid"
    x = np.random.default_rng(5).uniform(0, 1, (10, 6))
    a, b = reference.run(net, x, 30), reference.run(back, x, 30)
    assert all(np.array_equal(p, q) for p, q in zip(a.spike_counts, b.spike_counts))
    assert sum(c.sum() for c in a.spike_counts[1:]) > 0
    np.testing.assert_allclose(a.outputs, b.outputs, rtol=1e-12)
    graph = nir.read(path)
    assert all(not node.metadata for node in graph.nodes.values())  # standard nodes only


def test_cli_convert_nir_strict(tmp_path, capsys):
    import json

    from networks import make_checkpoint
    from neurosim.cli import main

    ckpt = make_checkpoint(tmp_path / "sparse.pt", "sparse")
    out = tmp_path / "net.nir"
    assert main(["convert", str(ckpt), "-o", str(out), "--nir-strict", "--fidelity-samples", "40",
                 "--fidelity-timesteps", "16"]) == 0
    printed = capsys.readouterr().out
    assert "reset: by subtraction (v -= v_threshold) -> to zero" in printed
    assert "input encoding: regular spike trains" in printed and "fidelity cost (40 digits test samples, T=16)" in printed
    summary = json.loads(out.with_suffix(".json").read_text())
    fid = summary["nir_strict"]["fidelity"]
    assert fid["samples"] == 40 and fid["timesteps"] == 16
    assert fid["ratio"] == pytest.approx(fid["mse_vs_input"]["strict"] / fid["mse_vs_input"]["neurosim"])
    assert set(fid["mse_vs_input_with_only"]) == {"input_encoding", "reset", "v_init"}
    graph = nir.read(out)
    assert sorted(type(n).__name__ for n in graph.nodes.values()) == ["Affine", "Affine", "IF", "Input", "Output"]
    # the fidelity figure is what simulating the written file gives
    from neurosim.backends import simulate
    from neurosim.data import load_dataset

    x = load_dataset("digits", "test").x[:40].astype(np.float64)
    assert simulate(read_network(out), x, 16).mse_vs_input == pytest.approx(fid["mse_vs_input"]["strict"], rel=1e-12)
    # graded coding has no standard equivalent: one line, exit 2, nothing written
    assert main(["convert", str(ckpt), "-o", str(tmp_path / "g.nir"), "--coding", "graded", "--nir-strict"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sigma_delta" in err and "--coding rate" in err
    assert not list(tmp_path.glob("g.*"))
