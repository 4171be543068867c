"""Writing a :class:`~neurosim.network.SpikingNetwork` as a NIR file (see :mod:`converters.nir_io`).

NIR's Affine node holds a dense weight array, so every connection is written dense, also one
stored as CSR. :func:`write_network` builds those dense arrays one at a time, each while its
dataset is written, and writes the same HDF5 layout as ``nir.write`` (which would first hold
the dense arrays of every layer, and copies of them).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from converters.nir_meta import FORMAT, FORMAT_VERSION, KEY, _compact, _dumps
from neurosim.errors import UnsupportedNodeError, ValidationError
from neurosim.fileio import write_atomic
from neurosim.network import Layer, SpikingNetwork, _plain


def network_to_nir(network: SpikingNetwork, *, lazy_weights: bool = False):
    """The :class:`nir.NIRGraph` of ``network`` (see the module docstring).

    ``lazy_weights``: the Affine nodes hold placeholders of the weights' shape instead of dense
    arrays (for :func:`write_network`, which makes each dense array as it writes it).
    """
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
        weight = _LazyWeight(conn) if lazy_weights else conn.dense(copy=True)
        nodes[syn] = nir.Affine(weight=weight, bias=np.array(conn.bias))
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
    """Write ``network`` to the NIR file ``path`` atomically, one dense weight array at a time.

    The file is what ``nir.write`` writes for :func:`network_to_nir` (same groups, datasets,
    dtypes and gzip compression); peak memory is one layer's dense weights, not all of them.
    """
    import h5py
    import nir

    tree = network_to_nir(network, lazy_weights=True).to_dict()  # placeholders: no array is copied
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("version", data=nir.version, dtype=h5py.string_dtype())
        _write_tree(f.create_group("node"), tree)
    return write_atomic(path, buf.getvalue())


class _LazyWeight:
    """Stands for a connection's dense weight in a graph until it is written (shape only)."""

    def __init__(self, connection):
        self.connection = connection
        self.shape = connection.shape

    def __deepcopy__(self, memo):  # ``NIRNode.to_dict`` deep-copies its fields: keep the placeholder
        return self


def _write_tree(group, node: dict, compression: str = "gzip") -> None:
    """``nir.write``'s recursive writer, making each :class:`_LazyWeight` dense only while writing it."""
    import h5py

    for key, value in node.items():
        if key == "metadata":
            if value != {}:
                _write_tree(group.create_group(key), value, compression)
        elif isinstance(value, str):
            group.create_dataset(key, data=value, dtype=h5py.string_dtype())
        elif isinstance(value, _LazyWeight):
            dense = value.connection.dense()
            group.create_dataset(key, data=dense, dtype=dense.dtype, compression=compression)
            del dense
        elif isinstance(value, np.ndarray):
            group.create_dataset(key, data=value, dtype=value.dtype, compression=compression)
        elif isinstance(value, dict):
            _write_tree(group.create_group(str(key)), value, compression)
        else:
            group.create_dataset(key, data=value)


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
