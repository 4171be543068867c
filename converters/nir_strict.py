"""Standard-NIR ("strict") export of a neurosim network, and what it costs in fidelity.

:func:`converters.nir_io.write_network` writes standard NIR nodes plus ``metadata['neurosim']``
for what NIR cannot say; a plain reader gets a valid graph but *simulates something else*
where that metadata matters. :func:`strict_network` builds the closest network made only of
what standard NIR nodes mean, and :func:`write_strict` writes it with no node metadata at all,
so that another tool (snnTorch, Norse, ...) simulates exactly what neurosim simulates for the
same file. ``neurosim convert --nir-strict`` uses both and reports :func:`fidelity_cost`.

What changes (each listed in the returned ``changes``, ``exact`` when the simulated network is
unchanged):

=======================================  =====================================================  =====
neurosim                                 strict (standard NIR)                                  exact
=======================================  =====================================================  =====
input encoding ``regular``/``bernoulli``  dropped: the graph takes the analog input ``x`` as a   no
(spike trains of ``gain * x``)           current every step (declared in the graph metadata)
input ``gain`` != 1                      folded into the first Affine (``W' = W diag(gain)``)   yes
IF/LIF/CubaLIF reset by subtraction      reset to zero (NIR's ``v <- v_reset``, ``v_reset = 0``)  no
``v_init`` != 0                          0 (NIR has no initial state; tools start at rest)     no
hidden gate (sparse model)               already a plain negative bias ``b - theta`` in the     yes
                                         Affine (see :mod:`converters.ann_to_snn`): unchanged
``readout`` (I node + metadata)          the last Affine's output current goes to Output;       yes
                                         ``scale`` folded into it; the decoded output
                                         ``activation(mean over the window)`` is declared in
                                         graph metadata ``neurosim.readout``
time constants at ``dt_s``               with ``target_dt_s``: ``tau' = tau * target/dt``, so a  yes
                                         tool stepping at ``target_dt_s`` (snnTorch: 1e-4 s)
                                         runs the same discrete dynamics
``sigma_delta`` (graded spikes)          no standard equivalent: refused                        --
=======================================  =====================================================  =====

Reading a strict file back (:func:`converters.nir_io.read_network`) gives the strict network:
``current`` input, IF reset to zero, ``v_init = 0``, the trailing Affine as a ``readout`` with the
declared activation.

Time alignment with tools that have no synaptic delay
-----------------------------------------------------
neurosim delays every connection by one step and enables layer ``l`` from step ``l``
(:mod:`neurosim.network`); snnTorch (and Norse, Sinabs) evaluate a feed-forward chain within one
step. For the same input sequence the two compute the same thing shifted by ``l`` steps in
layer ``l``: neurosim's layer ``l`` at its ``j``-th enabled step equals the other tool's layer ``l``
at step ``j``. So neurosim's spike counts over ``T`` steps equal the other tool's counts over its
first ``T - l`` steps in layer ``l`` (and a readout's mean current over ``T - L + 1`` steps). We
keep neurosim's delay (the contract all three backends meet, and Loihi's behaviour) and compare
with this alignment instead of adding a no-delay mode.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from converters.nir_io import FORMAT, FORMAT_VERSION, KEY, _dumps, _neuron_node, write_graph
from neurosim.errors import ConversionError, ValidationError
from neurosim.network import Connection, Layer, SpikingNetwork, _plain

#: names of the lossy changes, for :func:`strict_network`'s ``only`` (fidelity breakdown)
LOSSY = ("input_encoding", "reset", "v_init")
_TIME_CONSTANTS = ("tau_s", "tau_syn_s", "tau_mem_s")


def strict_network(network: SpikingNetwork, *, target_dt_s: float | None = None,
                   only: tuple[str, ...] | None = None) -> tuple[SpikingNetwork, list[dict[str, Any]]]:
    """The closest network that standard NIR nodes express, and the list of changes.

    Parameters
    ----------
    network : SpikingNetwork
    target_dt_s : float, optional
        Rescale time constants so that a simulator stepping at ``target_dt_s`` seconds runs the
        same discrete dynamics (``tau' = tau * target_dt_s / dt_s``; the network's ``dt_s`` becomes
        ``target_dt_s``). snnTorch's NIR import assumes 1e-4 s.
    only : tuple of str, optional
        Apply only these lossy changes (names in :data:`LOSSY`); the exact ones always apply.
        For the per-change breakdown of the fidelity cost.

    Returns
    -------
    (SpikingNetwork, list of dict)
        Each change: ``layer``, ``what``, ``before``, ``after``, ``exact`` (bool).

    Raises
    ------
    ConversionError
        A layer has no standard NIR equivalent (``sigma_delta``, a ``sum``-decoded readout, a
        graded input).
    """
    apply = set(LOSSY if only is None else only)
    unknown = apply - set(LOSSY)
    if unknown:
        raise ValidationError(f"unknown strict change(s) {sorted(unknown)} (known: {', '.join(LOSSY)})")
    changes: list[dict[str, Any]] = []

    def note(layer: str, what: str, before: Any, after: Any, exact: bool) -> None:
        changes.append({"layer": layer, "what": what, "before": before, "after": after, "exact": exact})

    for layer in network.layers:
        if layer.kind == "sigma_delta":
            raise ConversionError(f"layer {layer.name!r} (sigma_delta, graded spikes) has no standard NIR "
                                  "equivalent; convert with --coding rate for --nir-strict")
        if layer.kind == "readout" and layer.options.get("decode", "mean") != "mean":
            raise ConversionError(f"layer {layer.name!r}: a readout decoded by 'sum' (graded coding) has no standard "
                                  "NIR equivalent; convert with --coding rate for --nir-strict")
    dt = network.dt_s
    new_dt = dt
    if target_dt_s is not None:
        if not np.isfinite(target_dt_s) or target_dt_s <= 0:
            raise ValidationError(f"target dt must be a positive number of seconds, got {target_dt_s}")
        new_dt = float(target_dt_s)
    factor = new_dt / dt

    inp = network.layers[0]
    encoding = inp.options["encoding"]
    if encoding == "graded":
        raise ConversionError(f"input layer {inp.name!r}: graded input payloads have no standard NIR equivalent; "
                              "convert with --coding rate for --nir-strict")
    gain = inp.params["gain"]
    if encoding != "current" and "input_encoding" in apply:
        note(inp.name, "input encoding", f"{encoding} spike trains of gain * x (neurosim)",
             "analog input x as a current every step (the encoding is declared in the graph metadata, "
             "not simulated)", False)
        in_layer = Layer(inp.name, "input", inp.size, params={"gain": 1.0}, options={"encoding": "current"})
        fold = gain
    elif encoding == "current":
        in_layer = Layer(inp.name, "input", inp.size, params={"gain": 1.0}, options={"encoding": "current"})
        fold = gain
    else:  # breakdown run keeping the spike encoding
        in_layer = Layer(inp.name, "input", inp.size, params=dict(inp.params), options=dict(inp.options))
        fold = None
    if fold is not None and not np.all(fold == 1.0):
        note(inp.name, "input gain", "Scale node (neurosim input gain)",
             "folded into the first Affine: W' = W diag(gain)", True)
    layers = [in_layer]

    for i, layer in enumerate(network.layers[1:], start=1):
        conn = layer.connection  # kept in its storage form, dense or CSR
        if i == 1 and fold is not None:
            conn = conn.scaled(cols=fold)
        params = {k: v.copy() for k, v in layer.params.items()}
        options = dict(layer.options)
        if layer.kind in ("if", "lif", "cuba_lif"):
            if options["reset"] == "subtract" and "reset" in apply:
                note(layer.name, "reset", "by subtraction (v -= v_threshold)",
                     "to zero (NIR: v <- v_reset = 0)", False)
                options["reset"] = "zero"
                params["v_reset"] = np.zeros(layer.size)
            if np.any(params["v_init"] != 0) and "v_init" in apply:
                note(layer.name, "initial membrane", f"v_init = {_short(params['v_init'])}",
                     "0 (NIR has no initial state)", False)
                params["v_init"] = np.zeros(layer.size)
        if layer.kind == "li" and np.any(params["v_init"] != 0) and "v_init" in apply:
            note(layer.name, "initial membrane", f"v_init = {_short(params['v_init'])}",
                 "0 (NIR has no initial state)", False)
            params["v_init"] = np.zeros(layer.size)
        if layer.kind == "readout":
            scale = params.pop("scale")
            if not np.all(scale == 1.0):
                conn = conn.scaled(rows=scale)
            params["scale"] = np.ones(layer.size)
            note(layer.name, "readout", "non-spiking accumulator (NIR I node + neurosim metadata)",
                 f"the output current of the Affine {layer.name!r} (scale folded in); decoded output "
                 f"{options['activation']}(mean current over the window), declared in the graph metadata", True)
        if factor != 1.0:
            scaled = [k for k in _TIME_CONSTANTS if k in params]
            for key in scaled:
                params[key] = params[key] * factor
            if scaled:
                note(layer.name, "time constants", f"{', '.join(scaled)} for dt = {dt:g} s",
                     f"x {factor:g} for dt = {new_dt:g} s (same discrete dynamics)", True)
        layers.append(Layer(layer.name, layer.kind, layer.size, params=params, options=options,
                            connection=Connection(conn.weight.copy(), conn.bias.copy())))
    if network.metadata.get("gate") == "threshold":
        note(network.layers[1].name, "gate", "learned gate threshold theta",
             "unchanged: already the plain bias b - theta of the Affine", True)
    meta = dict(network.metadata)
    meta.update(nir_strict=True, strict_changes=[_plain(c) for c in changes])
    if "v_init" in meta and "v_init" in apply:
        meta["v_init"] = 0.0
    return SpikingNetwork(layers, dt_s=new_dt, metadata=meta), changes


def strict_to_nir(strict: SpikingNetwork, changes: list[dict[str, Any]] | None = None):
    """The :class:`nir.NIRGraph` of a network made by :func:`strict_network`: standard nodes only.

    ``Input -> Affine -> neuron -> ... -> Affine -> Output``, no node metadata; the graph
    metadata (``neurosim``, JSON) declares the time step, the dropped input encoding, the
    readout's decoding and the list of changes.
    """
    import nir

    layers = strict.layers
    inp = layers[0]
    if inp.options["encoding"] != "current" or not np.all(inp.params["gain"] == 1.0):
        raise ValidationError("strict_to_nir takes a network made by strict_network (analog input, gain 1)")
    names = [layer.name for layer in layers]
    nodes: dict[str, Any] = {inp.name: nir.Input(input_type=np.array([inp.size]))}
    edges: list[tuple[str, str]] = []
    prev = inp.name
    readout: dict[str, Any] | None = None
    for layer in layers[1:]:
        conn = layer.connection
        if layer.kind == "readout":
            if layer is not layers[-1] or not np.all(layer.params["scale"] == 1.0):
                raise ValidationError(f"layer {layer.name!r}: strict readout must be last with scale 1")
            nodes[layer.name] = nir.Affine(weight=conn.dense(copy=True), bias=conn.bias.copy())
            edges.append((prev, layer.name))
            prev = layer.name
            readout = {"activation": layer.options["activation"], "decode": "mean",
                       "note": "the decoded output is activation(mean over the window of this Affine's output)"}
            continue
        if layer.kind not in ("if", "lif", "cuba_lif", "li"):
            raise ValidationError(f"layer {layer.name!r} ({layer.kind}) is not a standard NIR neuron")
        if layer.kind != "li" and (layer.options["reset"] != "zero" or np.any(layer.params["v_init"] != 0)):
            raise ValidationError(f"layer {layer.name!r}: strict layers reset to zero and start at rest")
        syn = f"{layer.name}_synapses"
        if syn in names or syn in nodes:
            raise ValidationError(f"NIR node name {syn!r} collides with a layer name; rename the layer")
        nodes[syn] = nir.Affine(weight=conn.dense(copy=True), bias=conn.bias.copy())
        node = _neuron_node(layer, strict.dt_s)
        node.metadata = {}
        nodes[layer.name] = node
        edges += [(prev, syn), (syn, layer.name)]
        prev = layer.name
    out = "output" if "output" not in nodes else "nir_output"
    if out in nodes:
        raise ValidationError("NIR node names 'output' and 'nir_output' are both taken; rename a layer")
    nodes[out] = nir.Output(output_type=np.array([strict.output_size]))
    edges.append((prev, out))
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "strict": True, "dt_s": strict.dt_s,
            "layers": names, "metadata": _plain(strict.metadata),
            "input": "analog values x, one current per step (no spike encoding)",
            "changes": _plain(changes or strict.metadata.get("strict_changes", []))}
    if readout:
        meta["readout"] = readout
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={KEY: _dumps(meta)})


def write_strict(network: SpikingNetwork, path: str | Path, *, target_dt_s: float | None = None
                 ) -> tuple[Path, SpikingNetwork, list[dict[str, Any]]]:
    """Write the strict equivalent of ``network`` to ``path`` (atomically); return it and its changes."""
    strict, changes = strict_network(network, target_dt_s=target_dt_s)
    path = write_graph(strict_to_nir(strict, changes), path)
    return path, strict, changes


def fidelity_cost(network: SpikingNetwork, x: np.ndarray, timesteps: int, *, seed: int = 0,
                  breakdown: bool = True) -> dict[str, Any]:
    """Fidelity cost of the strict network against ``network`` on samples ``x`` (reference engine).

    Returns plain values: ``mse_vs_input`` of each (for autoencoders: reconstruction error),
    their ``ratio`` (strict / neurosim), ``mse_between`` (strict output vs neurosim output), the
    spikes and synaptic operations per inference of each, and with ``breakdown`` the
    ``mse_vs_input`` with each lossy change applied alone.
    """
    from neurosim.backends import simulate

    x = np.asarray(x, dtype=np.float64)
    strict, changes = strict_network(network)

    def run(net):
        rec = simulate(net, x, timesteps, seed=seed)
        return rec, rec.mse_vs_input

    rec_a, mse_a = run(network)
    rec_b, mse_b = run(strict)
    out: dict[str, Any] = {
        "samples": int(x.shape[0]), "timesteps": int(timesteps), "backend": "reference",
        "mse_vs_input": {"neurosim": mse_a, "strict": mse_b},
        "ratio": (mse_b / mse_a) if (mse_a and mse_b is not None) else None,
        "mse_between": float(np.mean((rec_a.outputs - rec_b.outputs) ** 2)),
        "spikes_per_inference": {"neurosim": rec_a.total_spikes / x.shape[0],
                                 "strict": rec_b.total_spikes / x.shape[0]},
        "synaptic_ops_per_inference": {"neurosim": rec_a.synaptic_ops / x.shape[0],
                                       "strict": rec_b.synaptic_ops / x.shape[0]},
        "lossy_changes": [c for c in changes if not c["exact"]],
    }
    if breakdown:
        kinds = {key for key in LOSSY
                 if any(c["what"] == {"input_encoding": "input encoding", "reset": "reset",
                                      "v_init": "initial membrane"}[key] for c in changes)}
        out["mse_vs_input_with_only"] = {key: run(strict_network(network, only=(key,))[0])[1] for key in sorted(kinds)}
    return out


def describe_changes(changes: list[dict[str, Any]]) -> list[str]:
    """One printable line per change."""
    return [f"    {c['layer']}: {c['what']}: {c['before']} -> {c['after']}" + ("" if c["exact"] else "  [changes dynamics]")
            for c in changes]


def _short(arr: np.ndarray) -> str:
    arr = np.asarray(arr)
    return f"{float(arr[0]):g}" if arr.size and np.all(arr == arr[0]) else f"per neuron, mean {arr.mean():g}"
