"""Writing a :class:`~neurosim.network.SpikingNetwork` as a NIR file (see :mod:`converters.nir_io`)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from converters.nir_meta import FORMAT, FORMAT_VERSION, KEY, _compact, _dumps
from neurosim.errors import UnsupportedNodeError, ValidationError
from neurosim.fileio import write_atomic
from neurosim.network import Layer, SpikingNetwork, _plain


def network_to_nir(network: SpikingNetwork):
    """The :class:`nir.NIRGraph` of ``network`` (see the module docstring)."""
    import nir

    dt = network.dt_s
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    names = [layer.name for layer in network.layers]
    for name in names:
        if "/" in name or not name:
            raise ValidationError(f"layer name {name!r} cannot be a NIR node name (empty or contains '/')")
    inp = network.layers[0]
    n_in = inp.size
    in_meta = {"kind": "input", "encoding": inp.options["encoding"],
               "payload_step": float(inp.options.get("payload_step", 0.0) or 0.0)}
    if "v_init" in inp.params:
        in_meta["v_init"] = _compact(inp.params["v_init"])
    nodes[inp.name] = nir.Input(input_type=np.array([n_in]), metadata={KEY: _dumps(in_meta)})
    prev = inp.name
    gain = inp.params["gain"]
    if not np.all(gain == 1.0):
        scale_name = _unique(f"{inp.name}_gain", nodes, names)
        nodes[scale_name] = nir.Scale(scale=np.array(gain, dtype=np.float64))
        edges.append((prev, scale_name))
        prev = scale_name
    for layer in network.layers[1:]:
        syn = _unique(f"{layer.name}_synapses", nodes, names)
        conn = layer.connection
        nodes[syn] = nir.Affine(weight=np.array(conn.weight), bias=np.array(conn.bias))
        edges.append((prev, syn))
        nodes[layer.name] = _neuron_node(layer, dt)
        edges.append((syn, layer.name))
        prev = layer.name
    out = "output" if "output" not in nodes else _unique("nir_output", nodes, names)
    nodes[out] = nir.Output(output_type=np.array([network.output_size]))
    edges.append((prev, out))
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "dt_s": dt,
            "layers": names, "metadata": _plain(network.metadata)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={KEY: _dumps(meta)})


def _neuron_node(layer: Layer, dt: float):
    import nir

    p, n = layer.params, layer.size
    ones = np.ones(n)
    meta: dict[str, Any] = {"kind": layer.kind}
    if layer.kind in ("if", "lif", "cuba_lif"):
        meta["reset"] = layer.options["reset"]
        meta["v_init"] = _compact(p["v_init"])
        v_reset = p.get("v_reset", np.zeros(n)) if layer.options["reset"] == "zero" else np.zeros(n)
    if layer.kind == "if":
        return nir.IF(r=ones, v_threshold=p["v_threshold"].copy(), v_reset=v_reset.copy(),
                      metadata={KEY: _dumps(meta)})
    if layer.kind == "lif":
        return nir.LIF(tau=p["tau_s"].copy(), r=p["r"].copy(), v_leak=p["v_leak"].copy(),
                       v_threshold=p["v_threshold"].copy(), v_reset=v_reset.copy(), metadata={KEY: _dumps(meta)})
    if layer.kind == "cuba_lif":
        return nir.CubaLIF(tau_syn=p["tau_syn_s"].copy(), tau_mem=p["tau_mem_s"].copy(), r=p["r"].copy(),
                           v_leak=p["v_leak"].copy(), v_threshold=p["v_threshold"].copy(), v_reset=v_reset.copy(),
                           w_in=p["w_in"] * p["tau_syn_s"] / dt, metadata={KEY: _dumps(meta)})
    if layer.kind == "li":
        meta["v_init"] = _compact(p["v_init"])
        return nir.LI(tau=p["tau_s"].copy(), r=p["r"].copy(), v_leak=p["v_leak"].copy(), metadata={KEY: _dumps(meta)})
    if layer.kind == "sigma_delta":
        meta.update(v_threshold=_compact(p["v_threshold"]), activation="relu",
                    payload_step=float(layer.options.get("payload_step", 0.0) or 0.0),
                    note="integrator state is sigma; emits quantized changes of relu(sigma + b); "
                         "the Affine bias is an offset, not integrated")
        return nir.I(r=ones.copy(), metadata={KEY: _dumps(meta)})
    if layer.kind == "readout":
        meta.update(scale=_compact(p["scale"]), activation=layer.options["activation"],
                    decode=layer.options.get("decode", "mean"),
                    note="integrator state is acc; output activation(scale * acc / T_l) ('mean') or "
                         "activation(scale * (sigma + b)) ('sum')")
        return nir.I(r=ones.copy(), metadata={KEY: _dumps(meta)})
    raise UnsupportedNodeError(f"cannot write layer {layer.name!r} of kind {layer.kind!r} to NIR")


def write_network(network: SpikingNetwork, path: str | Path) -> Path:
    """Write ``network`` to the NIR file ``path`` atomically (:func:`write_graph`)."""
    return write_graph(network_to_nir(network), path)


def write_graph(graph, path: str | Path) -> Path:
    """Write a NIR ``graph`` to ``path`` atomically (:func:`neurosim.fileio.write_atomic`)."""
    import nir

    buf = io.BytesIO()
    nir.write(buf, graph)
    return write_atomic(path, buf.getvalue())


def _unique(name: str, nodes: dict, reserved: list[str]) -> str:
    if name in nodes or name in reserved:
        raise ValidationError(f"NIR node name {name!r} collides with a layer name; rename the layer")
    return name
