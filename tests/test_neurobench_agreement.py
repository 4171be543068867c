"""neurosim's NeuroBench-named metrics against the ``neurobench`` package on the same network and data.

A converted digits autoencoder (64 -> 48 -> 64, pruned and gated, as ``neurosim convert`` makes
it) is simulated on the reference engine; the same network is written as torch modules, an
snnTorch ``Leaky`` per spiking layer, and NeuroBench's ``Benchmark`` measures it with its own
hooks (``SynapticOperations``, ``ActivationSparsity``, ``ConnectionSparsity``) on the same
digits and the same input messages. Both run in float64.

Two schedules (docs/metrics.md):

* **neurosim's** (each connection delays by one step, layer ``l`` enabled for ``T - l`` steps):
  torch runs without delay, so layer ``l`` computes at torch step ``j`` what it computes at its
  ``j``-th enabled step in neurosim; running layer ``l`` (and its outgoing ``Linear``) only at
  steps ``j < T - l`` is neurosim's schedule. NeuroBench's numbers equal neurosim's exactly.
* **NeuroBench's usual one** (``SNNTorchModel``: every layer for all ``T`` steps): NeuroBench
  also counts layer ``l``'s last ``l`` steps. The tests check that difference event by event
  (from the per-step spikes the reference engine records) and, for ``Dense``, in closed form.
"""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
pytest.importorskip("neurobench")

from neurobench.benchmarks import Benchmark  # noqa: E402
from neurobench.metrics.static import ConnectionSparsity  # noqa: E402
from neurobench.metrics.workload import ActivationSparsity, SynapticOperations  # noqa: E402
from neurobench.models import NeuroBenchModel, SNNTorchModel  # noqa: E402

from converters.ann_to_snn import convert_file  # noqa: E402
from converters.snntorch_interop import regular_spike_trains  # noqa: E402
from neurosim import metrics  # noqa: E402
from neurosim.backends import simulate  # noqa: E402
from neurosim.data import load_dataset  # noqa: E402

T = 16
N = 40
METRICS = [[ConnectionSparsity], [SynapticOperations, ActivationSparsity]]


def _spike(mem_shift):
    """Heaviside ``mem > threshold`` in the membrane's dtype (snnTorch's default returns float32)."""
    return (mem_shift > 0).to(mem_shift.dtype)


class IFNeuron(snn.Leaky):
    """neurosim's ``if`` neuron with reset by subtraction as snnTorch's ``Leaky``.

    ``beta = 1`` and snnTorch's default delayed subtractive reset: the membrane ``m`` that
    snnTorch holds after a spike still contains the threshold, subtracted at the next step, so
    ``m_k - threshold * s_k`` is neurosim's ``v`` (``v += I``; spike if ``v > threshold``;
    ``v -= threshold``). The membrane starts at ``v_init`` instead of 0.
    """

    def __init__(self, threshold: float, v_init: np.ndarray):
        super().__init__(beta=1.0, threshold=threshold, reset_mechanism="subtract", init_hidden=True,
                         spike_grad=_spike)
        self.register_buffer("v_init", torch.as_tensor(np.asarray(v_init, dtype=np.float64)))

    def reset_mem(self):
        self.mem = torch.zeros(0, dtype=torch.float64)  # the next input sets the shape and v_init
        return self.mem

    def forward(self, input_):
        if self.mem.shape != input_.shape:
            self.mem = self.v_init.expand_as(input_).clone()
        return super().forward(input_)


class SigmaDelta(torch.nn.Module):
    """neurosim's ``sigma_delta`` neuron (see :mod:`neurosim.network`), a graded activation module."""

    def __init__(self, bias: np.ndarray, threshold: np.ndarray, step: float):
        super().__init__()
        self.register_buffer("bias", torch.as_tensor(np.asarray(bias, dtype=np.float64)))
        self.register_buffer("threshold", torch.as_tensor(np.asarray(threshold, dtype=np.float64)))
        self.step = float(step)
        self.reset_mem()

    def reset_mem(self):
        self.sigma = self.sent = None

    def forward(self, input_):
        if self.sigma is None:
            self.sigma, self.sent = torch.zeros_like(input_), torch.zeros_like(input_)
        self.sigma = self.sigma + input_
        delta = torch.relu(self.sigma + self.bias) - self.sent
        payload = torch.round(delta / self.step) * self.step if self.step else delta
        payload = torch.where(delta.abs() >= self.threshold, payload, torch.zeros_like(payload))
        self.sent = self.sent + payload
        return payload


class ChainNet(torch.nn.Module):
    """``Linear``, neuron, ``Linear``, neuron, ..., ``Linear`` (the readout's current), in float64.

    ``forward(x, depth)`` runs the input connection and the first ``depth`` neuron layers with
    their outgoing connections; it returns (readout current or None, last messages).
    """

    def __init__(self, network):
        super().__init__()
        linears, neurons = [], []
        for layer in network.layers[1:]:
            conn = layer.connection
            graded = layer.kind == "sigma_delta"
            lin = torch.nn.Linear(conn.shape[1], conn.shape[0], bias=not graded, dtype=torch.float64)
            lin.weight.data = torch.as_tensor(conn.dense())
            if not graded:
                lin.bias.data = torch.as_tensor(conn.bias)
            linears.append(lin)
            if layer.kind == "if":
                assert layer.options.get("reset", "subtract") == "subtract"
                neurons.append(IFNeuron(float(np.unique(layer.params["v_threshold"])[0]), layer.params["v_init"]))
            elif graded:
                neurons.append(SigmaDelta(conn.bias, layer.params["v_threshold"], layer.options["payload_step"]))
            else:
                assert layer.kind == "readout"
        self.linears = torch.nn.ModuleList(linears)
        self.neurons = torch.nn.ModuleList(neurons)

    def reset(self):
        for neuron in self.neurons:
            neuron.reset_mem()

    def forward(self, x, depth=None):
        depth = len(self.neurons) if depth is None else depth
        h = self.linears[0](x)
        for neuron, lin in list(zip(self.neurons, self.linears[1:]))[:depth]:
            h = neuron(h)
            m = h
            h = lin(h)
        return (h if depth == len(self.neurons) else None), (m if depth else x)


class ScheduledModel(NeuroBenchModel):
    """neurosim's schedule: at torch step ``j`` run neuron layers ``l`` with ``j < T - l``."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.add_activation_module(snn.SpikingNeuron)
        self.add_activation_module(SigmaDelta)

    def __call__(self, data):
        self.net.reset()
        steps = data.shape[1]
        outputs = []
        with torch.no_grad():
            for j in range(steps):
                depth = min(len(self.net.neurons), steps - 1 - j)
                out, _ = self.net(data[:, j], depth)
                if out is not None:
                    outputs.append(out)
        return torch.stack(outputs, dim=1)

    def __net__(self):
        return self.net


class FullModel(SNNTorchModel):
    """NeuroBench's snnTorch wrapper (every layer for every step), the graded neuron registered too."""

    def __init__(self, net):
        super().__init__(net)
        self.add_activation_module(SigmaDelta)


def input_messages(network, x: np.ndarray, steps: int = T) -> np.ndarray:
    """The input layer's messages per step, (N, steps, d): what both simulators receive."""
    inp = network.layers[0]
    encoding = inp.options["encoding"]
    if encoding == "regular":
        out = regular_spike_trains(x, inp.params["gain"], steps, v_init=float(np.unique(inp.params["v_init"])[0]))
    else:
        assert encoding == "graded"
        step = inp.options["payload_step"]
        out = np.zeros((steps, *x.shape))
        out[0] = np.round(inp.params["gain"] * x / step) * step
    return np.ascontiguousarray(np.moveaxis(out, 0, 1))


def neurobench(model, messages: np.ndarray, batch_size: int = 16) -> dict:
    data = torch.utils.data.TensorDataset(torch.as_tensor(messages), torch.zeros(len(messages)))
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False)
    return Benchmark(model, loader, [], [], METRICS).run(quiet=True)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny float64 products: one thread is 40x faster than two on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A pruned and gated digits autoencoder (64 -> 48 -> 64) with calibration on digits."""
    from networks import make_checkpoint

    return make_checkpoint(tmp_path_factory.mktemp("nb") / "sparse.pt", "sparse", hidden=48, seed=3)


@pytest.fixture(scope="module", params=["rate", "graded"])
def case(request, checkpoint):
    network, _ = convert_file(checkpoint, request.param)
    x = load_dataset("digits", "test").x[:N].astype(np.float64)
    record = simulate(network, x, T, record=list(range(N)))
    return network, x, record


def _neuron_steps(net, messages: np.ndarray, model_cls) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per-step messages (N, steps, n) of each neuron module and the readout currents of one run."""
    record = [[] for _ in net.neurons]
    hooks = [n.register_forward_hook(lambda _m, _i, out, r=r: r.append(out.detach().numpy()))
             for n, r in zip(net.neurons, record)]
    try:
        out = model_cls(net)(torch.as_tensor(messages))
    finally:
        for h in hooks:
            h.remove()
    return [np.stack(r, axis=1) for r in record], out.detach().numpy()


def test_torch_model_is_the_simulated_network(case):
    """Step for step: the torch chain on neurosim's schedule emits what the reference engine emitted."""
    network, x, record = case
    net = ChainNet(network)
    steps, currents = _neuron_steps(net, input_messages(network, x), ScheduledModel)
    np.testing.assert_array_equal(record.step_spikes[network.layers[0].name],
                                  input_messages(network, x) != 0)
    for l, (layer, theirs) in enumerate(zip(network.layers[1:], steps), start=1):
        assert theirs.shape[1] == T - l
        np.testing.assert_array_equal(record.step_spikes[layer.name][:, l:], theirs != 0)
        assert record.step_spikes[layer.name][:, :l].sum() == 0
        assert (theirs != 0).sum() > N  # the layer takes part
    readout = network.layers[-1]
    window = T - (len(network.layers) - 1)
    acc = currents[:, :window].sum(axis=1)
    if readout.options["decode"] == "sum":  # sigma + b: the bias once, not once per step
        acc = acc - (window - 1) * readout.connection.bias
    else:
        acc = acc / window
    np.testing.assert_allclose(record.outputs, 1.0 / (1.0 + np.exp(-readout.params["scale"] * acc)), rtol=1e-12)


def test_neurobench_equals_neurosim_on_its_schedule(case):
    network, x, record = case
    theirs = neurobench(ScheduledModel(ChainNet(network)), input_messages(network, x))
    ours = metrics.neurobench_metrics(record)
    assert ours["SynapticOperations"] == theirs["SynapticOperations"]
    binary = network.layers[0].options["encoding"] == "regular"
    ops = ours["SynapticOperations"]
    assert (ops["Effective_ACs"] > 0, ops["Effective_MACs"] > 0) == (binary, not binary)
    assert ops["Effective_ACs"] + ops["Effective_MACs"] == record.synaptic_ops_per_inference
    assert ours["ActivationSparsity"] == pytest.approx(theirs["ActivationSparsity"], rel=1e-12, abs=1e-15)
    assert round(ours["ConnectionSparsity"], 4) == theirs["ConnectionSparsity"]


def test_neurobench_full_schedule_counts_each_layer_over_t_steps(case):
    """SNNTorchModel runs layer l for all T steps: what neurosim counts for layer l when it simulates T + l steps."""
    network, x, _ = case
    theirs = neurobench(FullModel(ChainNet(network)), input_messages(network, x))
    depth = len(network.layers) - 2  # neuron layers between input and readout
    longer = simulate(network, x, T + depth, record=list(range(N)))
    acs = macs = silent = slots = 0
    for l, layer in enumerate(network.layers[:-1]):
        first_t = longer.step_spikes[layer.name][:, l:l + T]  # layer l's first T enabled steps
        ops = int(first_t.sum(axis=(0, 1)) @ network.fan_out(l))
        if metrics.message_type(longer, l) == "binary":
            acs += ops
        else:
            macs += ops
        if l:
            silent, slots = silent + (~first_t).sum(), slots + first_t.size
    sizes = [layer.size for layer in network.layers]
    assert theirs["SynapticOperations"] == {"Effective_ACs": acs / N, "Effective_MACs": macs / N,
                                            "Dense": T * sum(a * b for a, b in zip(sizes, sizes[1:]))}
    assert theirs["ActivationSparsity"] == pytest.approx(silent / slots, rel=1e-12)
    # the closed form for Dense: NeuroBench's minus neurosim's = sum_l l n_l n_(l+1)
    ours = metrics.synaptic_operations(simulate(network, x, T))
    assert theirs["SynapticOperations"]["Dense"] - ours["Dense"] == sum(
        l * a * b for l, (a, b) in enumerate(zip(sizes, sizes[1:])))


@pytest.mark.parametrize("encoding, acs, macs", [("regular", 7.0, 0.0), ("current", 3.0, 4.0)])
def test_metrics_of_a_hand_computed_network(encoding, acs, macs):
    """2 inputs -> 2 IF -> 1 readout, x = (1, 0), T = 4, worked by hand.

    Input 0 sends at all 4 steps (regular: v = 0.5 + 1 > 1 every step; current: payload 1),
    over one synapse: 4 operations, ACs for spikes, MACs for payloads. Hidden 0 gets 2 per
    step from step 1 (v = 0.5 + 2 > 1, then 1.5 + 2, 2.5 + 2): 3 spikes in its window of 3,
    over one synapse: 3 ACs; hidden 1 gets nothing. Dense = 4*2*2 + 3*2*1 = 22. Activation
    sparsity = 1 - 3 / (2 neurons * 3 steps). Connection sparsity = 1 - (2 + 2) / (4 + 2).
    """
    from neurosim.network import Connection, Layer, SpikingNetwork

    net = SpikingNetwork([
        Layer("input", "input", 2, params={"gain": 1.0}, options={"encoding": encoding}),
        Layer("hidden", "if", 2, params={"v_threshold": 1.0, "v_init": 0.5},
              connection=Connection(np.array([[2.0, 0.0], [0.0, 1.0]]), np.zeros(2))),
        Layer("out", "readout", 1, params={"scale": 1.0}, connection=Connection(np.array([[1.0, 1.0]]), np.zeros(1))),
    ])
    record = simulate(net, np.array([[1.0, 0.0]]), 4)
    got = metrics.neurobench_metrics(record)
    assert got["SynapticOperations"] == {"Effective_MACs": macs, "Effective_ACs": acs, "Dense": 22.0}
    assert got["ActivationSparsity"] == 0.5
    assert got["ConnectionSparsity"] == pytest.approx(1.0 / 3.0, rel=1e-15)


def test_record_without_input_encoding(case, tmp_path):
    """The metrics refuse it with a one-line error naming the field; the report states why they are absent."""
    from neurosim.cli import main
    from neurosim.errors import RecordError

    _, _, record = case
    bare = copy.copy(record)
    bare.network, bare.info = "text", {}
    with pytest.raises(RecordError, match=r"^activity record: field network\.layers\[0\]\.encoding is None"):
        metrics.neurobench_metrics(bare)
    json_path, _ = record.save(tmp_path / "act")
    meta = json.loads(json_path.read_text())
    del meta["network"]["layers"][0]["encoding"]
    json_path.write_text(json.dumps(meta))
    assert main(["report", str(tmp_path / "act"), "-p", "loihi2", "--format", "json",
                 "-o", str(tmp_path / "report.json")]) == 0
    (entry,) = json.loads((tmp_path / "report.json").read_text())
    assert entry["neurobench"] == {"unavailable": "activity record: field network.layers[0].encoding is None, "
                                                  "expected one of regular, bernoulli, graded, current"}


def test_report_json_carries_the_neurobench_metrics(case, tmp_path, capsys):
    from neurosim.activity import load_record
    from neurosim.cli import main

    _, _, record = case
    record.save(tmp_path / "act")
    assert main(["report", str(tmp_path / "act"), "-p", "loihi2", "-p", "gpu_baseline", "--format", "json",
                 "-o", str(tmp_path / "report.json")]) == 0
    entries = json.loads((tmp_path / "report.json").read_text())
    expected = json.loads(json.dumps(metrics.neurobench_metrics(load_record(tmp_path / "act"))))
    assert [e["profile"] for e in entries] == ["loihi2", "gpu_baseline"]
    assert all(e["neurobench"] == expected for e in entries)
    ops = expected["SynapticOperations"]
    assert ops["Effective_ACs"] + ops["Effective_MACs"] == pytest.approx(entries[0]["synaptic_ops_per_inference"],
                                                                         rel=1e-12)


def test_graded_network_against_the_ann(checkpoint):
    """NeuroBench on the ANN itself (``TorchModel``): the graded network's MACs differ by the units it rounds away.

    Graded coding sends each active unit's value once; a value below half a payload step rounds
    to no message (and the input's quantisation may, rarely, wake a unit the ANN leaves silent).
    So ANN MACs - SNN MACs = sum of the fan-outs of (sample, unit) pairs active in the ANN only,
    minus those active in the spiking network only, per inference. Connection sparsity is the
    same network's; the ANN's ``Dense`` is one pass, the spiking network's one per enabled step.
    """
    from neurobench.models import TorchModel

    from neurosim.checkpoint import load_checkpoint

    sd = load_checkpoint(checkpoint)["state_dict"]
    w1, w2 = sd["encoder.weight"].double(), sd["decoder.weight"].double()
    enc = torch.nn.Linear(64, 48, dtype=torch.float64)
    enc.weight.data, enc.bias.data = w1, (sd["encoder.bias"] - sd["gate.threshold"]).double()
    dec = torch.nn.Linear(48, 64, dtype=torch.float64)
    dec.weight.data, dec.bias.data = w2, sd["decoder.bias"].double()
    ann = torch.nn.Sequential(enc, torch.nn.ReLU(), dec, torch.nn.Sigmoid())
    x = load_dataset("digits", "test").x[:N].astype(np.float64)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(x), torch.zeros(N)),
                                         batch_size=16)
    theirs = Benchmark(TorchModel(ann), loader, [], [], METRICS).run(quiet=True)

    network, _ = convert_file(checkpoint, "graded")
    record = simulate(network, x, 4)
    ours = metrics.neurobench_metrics(record)
    with torch.no_grad():
        ann_active = (torch.relu(torch.as_tensor(x) @ w1.T + enc.bias) > 0).numpy()
    snn_active = record.layers[1].spike_counts > 0
    fan_out = network.fan_out(1)
    assert (ann_active & ~snn_active).sum() > 0  # the rounding takes part
    assert np.array_equal(record.layers[0].spike_counts > 0, x != 0)  # no pixel rounds away
    expected = ((ann_active & ~snn_active) @ fan_out - (~ann_active & snn_active) @ fan_out).sum() / N
    their_macs = theirs["SynapticOperations"]["Effective_MACs"]
    assert their_macs - ours["SynapticOperations"]["Effective_MACs"] == pytest.approx(expected, rel=1e-12)
    assert theirs["SynapticOperations"]["Effective_ACs"] == 0
    assert theirs["SynapticOperations"]["Dense"] == 64 * 48 + 48 * 64
    assert theirs["ConnectionSparsity"] == round(ours["ConnectionSparsity"], 4)
    # NeuroBench's ANN activations: the ReLU (active units) and the Sigmoid, never exactly 0
    assert theirs["ActivationSparsity"] == pytest.approx(1 - (ann_active.sum() + N * 64) / (N * (48 + 64)), rel=1e-12)
