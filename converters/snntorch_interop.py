"""Run NIR graphs in snnTorch and compare its spikes with neurosim's, step for step.

snnTorch (1.0) and nirtorch (2.6) are optional: install them with ``pip install snntorch nirtorch``
(the ``[test]`` extra does). Nothing here is needed to convert or simulate; it checks that a NIR
file means the same network in both tools and works around what snnTorch's NIR import gets wrong:

* ``snntorch.import_nir`` maps a NIR ``IF`` node to ``snn.Leaky(beta=0.9, reset_mechanism='subtract',
  init_hidden=False)``: a *leaky* neuron (NIR's IF has no leak), reset by subtraction (NIR's IF
  resets to ``v_reset``), and a ``(spk, mem)`` tuple as output, which breaks any node after it.
  :func:`import_graph` keeps snnTorch's import for everything else and replaces each such module by
  ``snn.Leaky(beta=1, threshold=v_threshold, reset_mechanism='zero', reset_delay=False)``: NIR's IF
  with ``r = 1`` and ``v_reset = 0`` in snnTorch's own neuron.
* ``LIF``/``CubaLIF`` import hard-codes ``dt = 1e-4`` s (:data:`DT`): ``beta = 1 - dt/tau``,
  ``alpha = 1 - dt/tau_syn``, inputs scaled by ``r dt/tau`` (LIF) or ``w_in dt/tau_syn`` (CubaLIF),
  folded into the threshold; ``v_leak`` must be 0, thresholds uniform, ``v_reset`` is ignored
  (reset to zero).
* ``I``, ``LI`` and ``Scale`` nodes have no mapping: the import raises ``ValueError``.
* ``export_to_nir`` writes ``Leaky(beta=1)`` with ``tau = r = inf``: :func:`if_graph_from_sequential`
  writes the IF graph such a module means.

Time alignment. snnTorch runs a Sequential chain without synaptic delay: layer ``l`` at step ``k``
sees what layer ``l-1`` emitted at step ``k``. neurosim delays each connection by one step and
enables layer ``l`` from step ``l`` (see :mod:`neurosim.network`), so neurosim's layer ``l`` at its
``j``-th enabled step computes exactly what snnTorch's layer ``l`` computes at step ``j``, for the
same input sequence. Over ``T`` steps neurosim's layer ``l`` counts the spikes of snnTorch's first
``T - l`` steps: :func:`aligned_counts`.

:func:`random_network` and :func:`random_sequential` build random networks that both tools express
exactly (reset to zero, per-neuron parameters within snnTorch's import limits), for round trips in
either direction.
"""
from __future__ import annotations

import copy

import numpy as np

from neurosim.errors import UnsupportedNodeError
from neurosim.network import Connection, Layer, SpikingNetwork

NEURON_TYPES = ("IF", "LIF", "CubaLIF")
DT = 1e-4  # snnTorch's NIR time step


def chain_names(graph) -> list[str]:
    """Node names from the Input node to the Output node of a feed-forward chain."""
    types = {name: type(node).__name__ for name, node in graph.nodes.items()}
    succ = {a: b for a, b in graph.edges}
    name = next(n for n, t in types.items() if t == "Input")
    names = [name]
    while types[name] != "Output":
        name = succ[name]
        names.append(name)
    return names


def _attr(name: str) -> str:
    import keyword

    name = name.replace(".", "_")
    return "nir_node_" + name if keyword.iskeyword(name) else name


def import_graph(graph):
    """``(module, layers)``: snnTorch's import of ``graph`` (IF repaired as above) and its layers.

    ``layers`` lists, in chain order, ``(node name, module attribute, kind)`` of the neuron nodes
    and of a trailing Affine/Linear (kind ``'readout'``: the per-step output current).
    """
    import snntorch as snn
    from snntorch.import_nir import import_from_nir

    names = chain_names(graph)
    for name in names:  # before snnTorch's import, which asserts on some of these
        node = graph.nodes[name]
        if type(node).__name__ == "IF" and (np.unique(node.v_threshold).size != 1 or not np.all(node.r == 1)
                                            or not np.all(node.v_reset == 0)):
            raise UnsupportedNodeError(f"node {name!r} of type IF: snnTorch runs IF only with r = 1, "
                                       "v_reset = 0 and one threshold per layer")
    module = import_from_nir(copy.deepcopy(graph))  # the import edits the graph it is given
    layers = []
    for i, name in enumerate(names):
        node = graph.nodes[name]
        t = type(node).__name__
        if t == "IF":
            thr = np.unique(node.v_threshold)
            setattr(module, _attr(name), snn.Leaky(beta=1.0, threshold=float(thr[0]), reset_mechanism="zero",
                                                   init_hidden=True, reset_delay=False))
        if t in NEURON_TYPES:
            layers.append((name, _attr(name), t))
        elif t in ("Affine", "Linear") and type(graph.nodes[names[i + 1]]).__name__ == "Output":
            layers.append((name, _attr(name), "readout"))
    return module, layers


def run(module, layers, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Run ``inputs`` (T, N, d) step by step; per layer name the outputs (T, N, n) as float64.

    Spiking layers give their spikes, a trailing Affine its output current. The module must be
    fresh (snnTorch neurons keep their state between calls).
    """
    import torch

    record: dict[str, list[np.ndarray]] = {name: [] for name, _, _ in layers}
    hooks = []
    for name, attr, _ in layers:
        def hook(_mod, _inp, out, name=name):
            out = out[0] if isinstance(out, tuple) else out
            record[name].append(out.detach().numpy().astype(np.float64))
        hooks.append(getattr(module, attr).register_forward_hook(hook))
    try:
        with torch.no_grad():
            for x in inputs:
                module(torch.as_tensor(np.asarray(x), dtype=torch.float32))
    finally:
        for h in hooks:
            h.remove()
    return {name: np.stack(values) for name, values in record.items()}


def aligned_counts(spikes: list[np.ndarray], T: int) -> list[np.ndarray]:
    """Spike counts (N, n) of neurosim's layers 1..L from per-step spikes (T, N, n) of a no-delay run."""
    return [np.rint(s[: T - depth].sum(axis=0)).astype(np.int64) for depth, s in enumerate(spikes, start=1)]


def regular_spike_trains(x: np.ndarray, gain: np.ndarray | float, T: int, v_init: float = 0.5) -> np.ndarray:
    """neurosim's ``regular`` input encoding (T, N, d), written from the network docstring:
    ``v += gain x``; spike if ``v > 1``; ``v -= 1`` on a spike; ``v`` starts at ``v_init``."""
    drive = np.asarray(gain) * np.asarray(x, dtype=np.float64)
    v = np.full(drive.shape, float(v_init))
    out = np.zeros((T, *drive.shape))
    for k in range(T):
        v += drive
        out[k] = v > 1.0
        v -= out[k]
    return out


def agreement(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[float, int]:
    """(fraction of identical (sample, neuron) counts over all layers, largest absolute difference)."""
    a_all = np.concatenate([np.asarray(x).ravel() for x in a])
    b_all = np.concatenate([np.asarray(x).ravel() for x in b])
    if a_all.shape != b_all.shape:
        raise ValueError(f"spike counts of different shapes: {a_all.shape} vs {b_all.shape}")
    return float(np.mean(a_all == b_all)), int(np.max(np.abs(a_all - b_all))) if a_all.size else 0


# ----------------------------------------------------------------------------- networks of both tools


def random_network(kind: str, sizes: list[int], seed: int, encoding: str) -> SpikingNetwork:
    """Random network of standard NIR neurons: reset to zero, at rest, dt = 1e-4 s."""
    rng = np.random.default_rng(seed)
    layers = [Layer("input", "input", sizes[0], options={"encoding": encoding})]
    for i, (n_in, n) in enumerate(zip(sizes, sizes[1:]), start=1):
        # drive per step independent of the fan-in; moderate rates (0.1 - 0.5 spikes per step)
        w = rng.normal(1.2 / n_in, 0.6 * np.sqrt(6.0 / n_in), (n, n_in)) * {"if": 1.0, "lif": 1.6, "cuba_lif": 0.6}[kind]
        w[rng.random(w.shape) < 0.2] = 0.0  # absent synapses
        b = rng.normal(0.0, 0.05, n)
        if kind == "if":
            params = {"v_threshold": 1.0, "v_init": 0.0}
        elif kind == "lif":
            tau = rng.uniform(2e-4, 1e-3, n)  # per neuron
            # snnTorch folds r dt/tau into one threshold per layer: keep it uniform (upstream limitation)
            params = {"tau_s": tau, "r": 0.8 * tau / DT, "v_leak": 0.0, "v_threshold": 1.0, "v_init": 0.0}
        else:
            tau_mem = rng.uniform(3e-4, 2e-3, n)
            # snnTorch's CubaLIF import requires r = tau_mem / dt and one threshold / (w_in dt / tau_syn) per layer
            params = {"tau_syn_s": rng.uniform(2e-4, 8e-4, n), "tau_mem_s": tau_mem, "r": tau_mem / DT,
                      "v_leak": 0.0, "v_threshold": 1.0, "w_in": 1.0, "v_init": 0.0}
        layers.append(Layer(f"l{i}", kind, n, params=params, options={"reset": "zero"}, connection=Connection(w, b)))
    return SpikingNetwork(layers, dt_s=DT)


def snntorch_inputs(net: SpikingNetwork, x: np.ndarray, T: int) -> np.ndarray:
    """The input layer's messages per step (T, N, d), the sequence both simulators see."""
    inp = net.layers[0]
    if inp.options["encoding"] == "current":
        return np.repeat((inp.params["gain"] * x)[None], T, axis=0)
    return regular_spike_trains(x, inp.params["gain"], T, v_init=0.5)


def random_sequential(kind: str, sizes: list[int], seed: int, per_neuron_threshold: bool = False):
    """A random snnTorch Sequential of Linear + Leaky/Synaptic with per-neuron tensors, immediate reset to zero."""
    import snntorch as snn
    import torch

    torch.manual_seed(seed)
    modules = []
    for n_in, n in zip(sizes, sizes[1:]):
        lin = torch.nn.Linear(n_in, n)
        # mean drive independent of the fan-in; moderate rates (0.1 - 0.5 spikes per step)
        lin.weight.data = (lin.weight.data * 2.0 + 1.2 / n_in) * {"if": 1.0, "lif": 1.3, "cuba_lif": 0.4}[kind]
        thr = torch.rand(n) * 0.5 + 0.75 if per_neuron_threshold else torch.full((n,), float(torch.rand(1)) + 0.5)
        # per-neuron tensors: scalar parameters break export_to_nir's type inference
        common = dict(threshold=thr, init_hidden=True, reset_mechanism="zero", reset_delay=False)
        if kind == "if":
            neuron = snn.Leaky(beta=torch.ones(n), **common)
        elif kind == "lif":
            neuron = snn.Leaky(beta=torch.rand(n) * 0.3 + 0.65, **common)
        else:
            neuron = snn.Synaptic(alpha=torch.rand(n) * 0.4 + 0.5, beta=torch.rand(n) * 0.3 + 0.65, **common)
        modules += [lin, neuron]
    return torch.nn.Sequential(*modules)


def run_sequential(seq, inputs: np.ndarray) -> list[np.ndarray]:
    """Per-step spikes (T, N, n) of each neuron module of a fresh snnTorch Sequential."""
    import snntorch as snn
    import torch

    neurons = [m for m in seq if isinstance(m, (snn.Leaky, snn.Synaptic))]
    record = [[] for _ in neurons]
    hooks = [m.register_forward_hook(lambda _m, _i, out, r=r: r.append(out.detach().numpy().astype(np.float64)))
             for m, r in zip(neurons, record)]
    with torch.no_grad():
        for x in inputs:
            seq(torch.as_tensor(x, dtype=torch.float32))
    for h in hooks:
        h.remove()
    return [np.stack(r) for r in record]


def if_graph_from_sequential(seq):
    """snnTorch exports Leaky(beta=1) as LIF with tau = r = inf: the IF graph it means, built with nir."""
    import nir
    import torch

    nodes, edges, prev = {"input": nir.Input(input_type=np.array([seq[0].in_features]))}, [], "input"
    for i, m in enumerate(seq):
        if isinstance(m, torch.nn.Linear):
            node = nir.Affine(weight=m.weight.detach().numpy(), bias=m.bias.detach().numpy())
        else:
            thr = m.threshold.detach().numpy()
            node = nir.IF(r=np.ones_like(thr), v_threshold=thr, v_reset=np.zeros_like(thr))
        nodes[str(i)] = node
        edges.append((prev, str(i)))
        prev = str(i)
    nodes["output"] = nir.Output(output_type=np.array([seq[-2].out_features]))
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges)
