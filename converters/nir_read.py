"""Reading a NIR file into a :class:`~neurosim.network.SpikingNetwork` (see :mod:`converters.nir_io`).

The weights of Affine and Linear nodes are read from the file in blocks of rows, each block
turned into CSR at once, so no dense copy of a sparse weight matrix is ever held; each
connection is then stored by :meth:`neurosim.network.Connection.from_weights` (CSR below
:data:`neurosim.defaults.SPARSE_STORAGE_DENSITY`, dense otherwise).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from converters.nir_meta import DEFAULT_DT_S, FORMAT, FORMAT_VERSION, KEY, NEURON_TYPES, SUPPORTED
from neurosim.errors import NetworkFileError, UnsupportedNodeError, ValidationError
from neurosim.limits import DT_S_RANGE
from neurosim.network import Connection, Layer, SpikingNetwork


def read_network(path: str | Path, *, dt_s: float | None = None, input_encoding: str | None = None
                 ) -> SpikingNetwork:
    """Read a NIR file written by :func:`write_network` or by another tool (see the module docstring)."""
    import nir

    path = Path(path)
    if not path.is_file():
        raise NetworkFileError(f"{path}: NIR file does not exist")
    _prescan(path)
    try:
        graph = _read_graph(path)  # shapes are checked here, scalars broadcast
    except Exception as exc:  # h5py/nir raise OSError, KeyError, ValueError, AssertionError, TypeError
        where = _failing_node(path)
        raise NetworkFileError(f"{path}: malformed NIR graph{where} ({type(exc).__name__}: {_first_line(exc)})") from None
    return nir_to_network(graph, dt_s=dt_s, input_encoding=input_encoding, origin=str(path))


#: elements of a weight matrix read from the file at once (8 MiB of float64)
READ_BLOCK_ELEMENTS = 1 << 20


def _read_graph(path: Path):
    """``nir.read(path, type_check=False)``, with Affine/Linear weights read as CSR arrays."""
    import h5py
    import nir

    with h5py.File(path, "r") as f:
        data = _hdf_tree(f["node"])
    data["type_check"] = False
    return nir.dict2NIRNode(data)


def _hdf_tree(group) -> dict[str, Any]:
    """``nir.serialization.hdf2dict`` of ``group``; a 2-D numeric ``weight`` of an Affine or Linear
    node comes as a :class:`scipy.sparse.csr_array` (:func:`_read_matrix`)."""
    import h5py
    from nir.serialization import try_byte_to_str

    out: dict[str, Any] = {}
    linear = "type" in group and isinstance(group["type"], h5py.Dataset) \
        and group["type"][()] in (b"Affine", b"Linear")
    for key, item in group.items():
        key = try_byte_to_str(key)
        if isinstance(item, h5py.Group):
            out[key] = _hdf_tree(item)
        elif isinstance(item, h5py.Dataset):
            if linear and key == "weight" and item.ndim == 2 and item.dtype.kind in "biuf":
                out[key] = _read_matrix(item)
            else:
                out[key] = try_byte_to_str(item[()])
    return out


def _read_matrix(dataset):
    """A 2-D HDF5 dataset as a canonical CSR array, read in blocks of whole storage chunks of rows."""
    from scipy import sparse

    n_out, n_in = dataset.shape
    rows = max(1, READ_BLOCK_ELEMENTS // max(n_in, 1))
    if dataset.chunks:  # whole chunks per block: each is decompressed once
        rows = max(1, rows // dataset.chunks[0]) * dataset.chunks[0]
    blocks = [sparse.csr_array(dataset[start:start + rows]) for start in range(0, n_out, rows)]
    if not blocks:
        return sparse.csr_array((n_out, n_in), dtype=dataset.dtype)
    return sparse.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]


def _failing_node(path: Path) -> str:
    """`` at node 'x' of type T`` for the first node nir cannot build on its own ('' if none or unknown)."""
    import h5py
    import nir
    from nir.serialization import hdf2dict

    try:
        with h5py.File(path, "r") as f:
            nodes = hdf2dict(f["node"]).get("nodes", {})
    except Exception:
        return ""
    for name, data in nodes.items():
        try:
            nir.dict2NIRNode(dict(data))
        except Exception:
            t = data.get("type", "?")
            return f" at node {name!r} of type {t.decode() if isinstance(t, bytes) else t}"
    return ""


def _prescan(path: Path) -> None:
    """Structure and sizes before :func:`nir.read` reads a value; name an unknown node type.

    Walks the HDF5 tree without reading data first: links must be hard (no soft or external
    links), nesting and object counts within :mod:`neurosim.limits`, every dataset real numbers
    (bool, integers, floats) or strings, its declared size within the element caps and its
    compression ratio plausible (:func:`neurosim.limits.inflation_ok`). Values are checked once
    the graph is read (:func:`nir_to_network`).
    """
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "node" not in f:
                raise NetworkFileError(f"{path}: not a NIR file (no 'node' group)")
            _check_tree(f, path)
            node = f["node"]
            if "nodes" not in node:
                return
            for name, item in node["nodes"].items():
                if not isinstance(item, h5py.Group) or "type" not in item:
                    raise NetworkFileError(f"{path}: node {name!r} has no type")
                t = item["type"][()]
                t = t.decode(errors="replace") if isinstance(t, bytes) else str(t)
                if t not in SUPPORTED:
                    raise UnsupportedNodeError(f"{path}: node {name!r} of type {t[:60]} is not supported "
                                               f"(supported: {', '.join(SUPPORTED[:-1])})")
    except (NetworkFileError, UnsupportedNodeError):
        raise
    except Exception as exc:
        raise NetworkFileError(f"{path}: not a NIR (HDF5) file ({type(exc).__name__}: {_first_line(exc)})") from None


def _check_tree(root, path: Path) -> None:
    """Links, nesting, counts, dtypes and declared sizes of every object under ``root`` (see :func:`_prescan`)."""
    import h5py

    from neurosim import limits

    max_depth, max_items = limits.limit("MAX_NESTING"), limits.limit("MAX_CONTAINER_ITEMS")
    max_elements, max_total = limits.max_array_elements(), limits.max_total_elements()
    stack, items, total = [(root, 0)], 0, 0
    while stack:
        group, depth = stack.pop()
        if depth >= max_depth:
            raise NetworkFileError(f"{path}: groups nested deeper than {max_depth} levels at {group.name!r}")
        for key in group:
            items += 1
            if items > max_items:
                raise NetworkFileError(f"{path}: more than {max_items:,} HDF5 objects (NEUROSIM_MAX_CONTAINER_ITEMS)")
            link = group.get(key, getlink=True)
            where = f"{group.name.rstrip('/')}/{key}".lstrip("/")
            if not isinstance(link, h5py.HardLink):
                raise NetworkFileError(f"{path}: {where!r} is a link ({type(link).__name__}); only plain groups and "
                                       "datasets are read")
            obj = group[key]
            if isinstance(obj, h5py.Group):
                stack.append((obj, depth + 1))
                continue
            if not isinstance(obj, h5py.Dataset):
                raise NetworkFileError(f"{path}: {where!r} is neither a group nor a dataset")
            n = 1
            for d in obj.shape or ():
                n *= int(d)
            if n > max_elements:
                raise NetworkFileError(f"{path}: dataset {where!r} declares shape {obj.shape}, over the cap of "
                                       f"{max_elements:,} elements (NEUROSIM_MAX_ARRAY_ELEMENTS)")
            total += n
            if total > max_total:
                raise NetworkFileError(f"{path}: datasets hold more than {max_total:,} elements in all "
                                       "(NEUROSIM_MAX_TOTAL_ELEMENTS)")
            dtype = obj.dtype
            if h5py.check_string_dtype(dtype) is not None:
                continue
            if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
                raise NetworkFileError(f"{path}: dataset {where!r} has dtype {dtype}; expected real numbers "
                                       "(bool, integers, floats) or strings")
            if n and not obj.id.get_storage_size():
                raise NetworkFileError(f"{path}: dataset {where!r} declares shape {obj.shape} but stores no data")
            if not limits.inflation_ok(n * dtype.itemsize, obj.id.get_storage_size()):
                raise NetworkFileError(f"{path}: dataset {where!r} declares {n * dtype.itemsize:,} bytes from "
                                       f"{obj.id.get_storage_size():,} stored (NEUROSIM_MAX_INFLATION)")


def nir_to_network(graph, *, dt_s: float | None = None, input_encoding: str | None = None,
                   origin: str = "<graph>") -> SpikingNetwork:
    """Lower a feed-forward :class:`nir.NIRGraph` into a :class:`SpikingNetwork`."""
    gmeta = _loads(getattr(graph, "metadata", None), origin, "graph")
    if gmeta and gmeta.get("format") not in (None, FORMAT):
        raise NetworkFileError(f"{origin}: graph metadata format {gmeta.get('format')!r} is not {FORMAT!r}")
    if gmeta and int(gmeta.get("format_version", FORMAT_VERSION)) > FORMAT_VERSION:
        raise NetworkFileError(f"{origin}: neurosim NIR format version {gmeta['format_version']} is newer than "
                               f"this reader ({FORMAT_VERSION})")
    if dt_s is not None:
        dt, dt_source = float(dt_s), "argument"
    elif gmeta.get("dt_s") is not None:
        dt, dt_source = float(gmeta["dt_s"]), "graph"
    else:
        dt, dt_source = DEFAULT_DT_S, "default"
    low, high = DT_S_RANGE
    if not low <= dt <= high:  # also refuses NaN
        raise NetworkFileError(f"{origin}: time step dt must be between {low:g} and {high:g} seconds, got {dt:g}")
    chain = _chain(graph, origin)

    layers: list[Layer] = []
    pending: tuple[np.ndarray, np.ndarray] | None = None  # affine map waiting for its neuron node
    pending_name = ""  # the last Affine/Linear/Scale node of that map
    gain: np.ndarray | None = None
    size = 0
    for name, node in chain:
        t = type(node).__name__
        meta = _loads(node.metadata, origin, f"node {name!r}")
        if gmeta and not gmeta.get("strict") and not meta and t in ("Input",) + NEURON_TYPES:
            raise NetworkFileError(f"{origin}: node {name!r} ({t}) lacks its metadata['{KEY}'] in a neurosim file "
                                   "(its reset, initial state or encoding would be guessed)")
        if t == "Input":
            size = _size(_input_shape(node, origin, name), origin, name, "input shape")
            continue
        if t == "Output":
            shape = node.output_type.get("output") if isinstance(node.output_type, dict) else None
            unstated = shape is None or np.asarray(shape).size == 0  # an unstated shape is not checked
            declared = size if unstated else _size(shape, origin, name, "output shape")
            if declared != size:
                raise NetworkFileError(f"{origin}: output node {name!r} declares {declared} values but receives {size}")
            if pending is not None:  # a trailing Affine/Linear/Scale: its output current is the readout
                if not layers:
                    in_name, in_node = chain[0]
                    layers.append(_input_layer(in_name, in_node, _loads(in_node.metadata, origin, f"node {in_name!r}"),
                                               gain, input_encoding, origin))
                layers.append(_readout_layer(pending_name, pending, gmeta.get("readout", {}), origin))
                pending = None
            continue
        if t == "Scale":
            s = _vec(node.scale, size, origin, name, "scale")
            _finite(s, origin, name, t, "scale")
            pending_name = name
            if not layers and pending is None:
                gain = s if gain is None else gain * s
            elif pending is None:
                pending = (np.diag(s), np.zeros(size))
            else:
                pending = (_rows_times(s, pending[0]), s * pending[1])
            continue
        if t in ("Affine", "Linear"):
            w = _matrix(node.weight, origin, name, "weight")
            if w.ndim != 2:
                raise UnsupportedNodeError(f"{origin}: node {name!r} of type {t} has a {w.ndim}-D weight; "
                                           "only 2-D (out, in) weights are supported")
            b = _real(node.bias, origin, name, "bias") if t == "Affine" else np.zeros(w.shape[0])
            try:
                b = np.broadcast_to(b.reshape(-1) if b.size == w.shape[0] else b, (w.shape[0],)).astype(np.float64)
            except ValueError:
                raise NetworkFileError(f"{origin}: node {name!r} ({t}): bias has shape {b.shape}, expected "
                                       f"({w.shape[0]},) for a weight of shape {w.shape}") from None
            _finite(w, origin, name, t, "weight")
            _finite(b, origin, name, t, "bias")
            if w.shape[1] != size:
                raise NetworkFileError(f"{origin}: node {name!r} ({t}) takes {w.shape[1]} inputs but receives {size}")
            pending_name = name
            pending = (w, b) if pending is None else (_product(w, pending[0]), w @ pending[1] + b)
            size = w.shape[0]
            continue
        if t in NEURON_TYPES:
            if not layers:
                in_name, in_node = chain[0]
                in_meta = _loads(in_node.metadata, origin, f"node {in_name!r}")
                layers.append(_input_layer(in_name, in_node, in_meta, gain, input_encoding, origin))
            w, b = pending if pending is not None else (np.eye(size), np.zeros(size))
            layers.append(_neuron_layer(name, node, t, meta, w, b, dt, origin))
            pending = None
            continue
        raise UnsupportedNodeError(f"{origin}: node {name!r} of type {t} is not supported "
                                   f"(supported: {', '.join(SUPPORTED[:-1])})")
    if not layers:
        raise UnsupportedNodeError(f"{origin}: the graph has no neuron node between Input and Output")
    metadata = dict(gmeta.get("metadata", {})) if gmeta else {"source_format": "nir", "dt_source": dt_source}
    if gmeta and gmeta.get("layers") and [l.name for l in layers] != list(gmeta["layers"]):
        raise NetworkFileError(f"{origin}: the graph's chain {[l.name for l in layers]} does not match its "
                               f"metadata layers {gmeta['layers']}")
    try:
        return SpikingNetwork(layers, dt_s=dt, metadata=metadata)
    except ValidationError as exc:
        raise NetworkFileError(f"{origin}: {exc}") from None


def _readout_layer(name, affine, declared, origin) -> Layer:
    """A trailing Affine/Linear/Scale before Output: a ``readout`` of its output current.

    Its decoded output is the time average of ``W m + b`` over the layer's window ('mean'),
    passed through ``activation`` when the graph metadata declares one (``neurosim.readout``,
    written by :mod:`converters.nir_strict`); identity otherwise.
    """
    w, b = affine
    options = {"activation": declared.get("activation", "identity"), "decode": declared.get("decode", "mean")}
    try:
        return Layer(name, "readout", w.shape[0], params={"scale": declared.get("scale", 1.0)}, options=options,
                     connection=Connection.from_weights(w, b))
    except ValidationError as exc:
        raise NetworkFileError(f"{origin}: node {name!r} (readout): {exc}") from None


def _finite(arr, origin: str, name: str, t: str, attr: str) -> None:
    from scipy import sparse

    if not np.isfinite(arr.data if sparse.issparse(arr) else arr).all():
        raise NetworkFileError(f"{origin}: node {name!r} ({t}): {attr} contains NaN or infinite values")


def _input_shape(node, origin: str, name: str):
    if not isinstance(node.input_type, dict) or "input" not in node.input_type:
        raise NetworkFileError(f"{origin}: input node {name!r} states no input shape")
    return node.input_type["input"]


def _input_layer(name, node, meta, gain, input_encoding, origin) -> Layer:
    size = _size(_input_shape(node, origin, name), origin, name, "input shape")
    encoding = input_encoding or meta.get("encoding", "current")
    params: dict[str, Any] = {"gain": 1.0 if gain is None else gain}
    if "v_init" in meta and encoding == "regular":
        params["v_init"] = meta["v_init"]
    options: dict[str, Any] = {"encoding": encoding}
    if meta.get("payload_step"):
        options["payload_step"] = float(meta["payload_step"])
    try:
        return Layer(name, "input", size, params=params, options=options)
    except ValidationError as exc:
        raise NetworkFileError(f"{origin}: input node {name!r}: {exc}") from None


def _neuron_layer(name, node, t, meta, w, b, dt, origin) -> Layer:
    n = w.shape[0]

    def vec(attr, value=None):
        return _vec(getattr(node, attr) if value is None else value, n, origin, name, attr)

    kind = meta.get("kind")
    expected = {"IF": ("if",), "LIF": ("lif",), "CubaLIF": ("cuba_lif",), "LI": ("li",),
                "I": ("sigma_delta", "readout")}[t]
    if kind is not None and kind not in expected:
        raise NetworkFileError(f"{origin}: node {name!r} of type {t} says neurosim kind {kind!r}")
    params: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for attr in ("tau", "tau_mem", "tau_syn"):
        if hasattr(node, attr) and np.isinf(_real(getattr(node, attr), origin, name, attr)).any():
            raise NetworkFileError(f"{origin}: node {name!r} ({t}): {attr} is infinite (snnTorch exports "
                                   "Leaky(beta=1), an IF neuron, this way); write an IF node instead")
    if t in ("IF", "I"):
        factor = vec("r")
        _finite(factor, origin, name, t, "r")
        if not np.all(factor == 1.0):
            w, b = _rows_times(factor, w), factor * b
    if t in ("IF", "LIF", "CubaLIF"):
        reset = meta.get("reset", "zero")
        options["reset"] = reset
        params["v_threshold"] = vec("v_threshold")
        params["v_init"] = meta.get("v_init", 0.0)
        if reset == "zero":
            params["v_reset"] = vec("v_reset") if node.v_reset is not None else 0.0
    if t == "IF":
        kind = "if"
    elif t == "LIF":
        kind = "lif"
        params.update(tau_s=vec("tau"), r=vec("r"), v_leak=vec("v_leak"))
    elif t == "CubaLIF":
        kind = "cuba_lif"
        tau_syn = vec("tau_syn")
        params.update(tau_syn_s=tau_syn, tau_mem_s=vec("tau_mem"), r=vec("r"), v_leak=vec("v_leak"),
                      w_in=vec("w_in") * dt / tau_syn)
    elif t == "LI":
        kind = "li"
        params.update(tau_s=vec("tau"), r=vec("r"), v_leak=vec("v_leak"), v_init=meta.get("v_init", 0.0))
    elif kind == "sigma_delta":
        params["v_threshold"] = meta.get("v_threshold", 0.0)
        if meta.get("payload_step"):
            options["payload_step"] = float(meta["payload_step"])
    elif kind == "readout":
        params["scale"] = meta.get("scale", 1.0)
        options.update(activation=meta.get("activation", "identity"), decode=meta.get("decode", "mean"))
    else:
        raise UnsupportedNodeError(f"{origin}: node {name!r} of type I (a plain integrator) is not supported; "
                                   "neurosim reads I nodes only as its sigma_delta/readout layers (metadata kind)")
    try:
        layer = Layer(name, kind, n, params=params, options=options, connection=Connection.from_weights(w, b))
    except ValidationError as exc:
        raise NetworkFileError(f"{origin}: node {name!r} ({t}): {exc}") from None
    for attr, value in vars(node).items():  # also the parameters this reading does not use (v_reset of 'subtract')
        if attr in ("metadata", "input_type", "output_type") or value is None:
            continue
        if not np.isfinite(_real(value, origin, name, attr)).all():
            raise NetworkFileError(f"{origin}: node {name!r} ({t}): {attr} contains NaN or infinite values")
    return layer


def _chain(graph, origin: str) -> list[tuple[str, Any]]:
    """The nodes from the single Input to the single Output, checking it is a simple chain."""
    nodes = graph.nodes
    types = {name: type(node).__name__ for name, node in nodes.items()}
    for name, t in types.items():
        if t == "NIRGraph":
            raise UnsupportedNodeError(f"{origin}: node {name!r} of type NIRGraph (a subgraph) is not supported")
    inputs = [n for n, t in types.items() if t == "Input"]
    outputs = [n for n, t in types.items() if t == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise UnsupportedNodeError(f"{origin}: graph has {len(inputs)} Input and {len(outputs)} Output nodes; "
                                   "only single-input, single-output chains are supported")
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in graph.edges:
        if a not in nodes or b not in nodes:
            raise NetworkFileError(f"{origin}: edge ({a!r}, {b!r}) names a node that does not exist")
        succ[a].append(b)
        pred[b].append(a)
    chain, seen, name = [], set(), inputs[0]
    while True:
        if name in seen:
            raise UnsupportedNodeError(f"{origin}: recurrent edge into node {name!r} of type {types[name]}: "
                                       "only feed-forward chains are supported")
        seen.add(name)
        chain.append((name, nodes[name]))
        if len(pred[name]) > (0 if name == inputs[0] else 1):
            raise UnsupportedNodeError(f"{origin}: node {name!r} of type {types[name]} has {len(pred[name])} incoming "
                                       "edges (recurrence or merge): only feed-forward chains are supported")
        if name == outputs[0]:
            break
        nxt = succ[name]
        if len(nxt) != 1:
            what = "no outgoing edge" if not nxt else f"{len(nxt)} outgoing edges (a branch)"
            raise UnsupportedNodeError(f"{origin}: node {name!r} of type {types[name]} has {what}: "
                                       "only feed-forward chains from Input to Output are supported")
        name = nxt[0]
    if succ[outputs[0]]:
        raise UnsupportedNodeError(f"{origin}: output node {outputs[0]!r} has outgoing edges")
    stray = [n for n in nodes if n not in seen]
    if stray:
        raise UnsupportedNodeError(f"{origin}: node {stray[0]!r} of type {types[stray[0]]} is not on the "
                                   "Input-to-Output chain")
    return chain


# ----------------------------------------------------------------------------------------
# helpers


def _real(value, origin: str, name: str, attr: str) -> np.ndarray:
    """``value`` as a float64 array; anything but real numbers (complex, strings, objects) is refused."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise NetworkFileError(f"{origin}: node {name!r}: {attr} has dtype {arr.dtype}; expected real numbers")
    return arr.astype(np.float64)


def _matrix(value, origin: str, name: str, attr: str):
    """A weight as a float64 CSR array (when read sparse) or as :func:`_real` makes it."""
    from scipy import sparse

    if not sparse.issparse(value):
        return _real(value, origin, name, attr)
    if value.dtype.kind not in "biuf":
        raise NetworkFileError(f"{origin}: node {name!r}: {attr} has dtype {value.dtype}; expected real numbers")
    return sparse.csr_array(value, dtype=np.float64)


def _rows_times(s: np.ndarray, w):
    """``s[:, None] * w`` for a dense or CSR ``w`` (one product per entry; CSR stays CSR)."""
    from scipy import sparse

    if not sparse.issparse(w):
        return s[:, None] * w
    w = sparse.csr_array(w, copy=True)
    w.data = np.repeat(s, np.diff(w.indptr)) * w.data
    return w


def _product(a, b):
    """``a @ b`` of two maps composed in a chain, dense or CSR (CSR when both are)."""
    from scipy import sparse

    if sparse.issparse(a) and sparse.issparse(b):
        return sparse.csr_array(a @ b)
    if sparse.issparse(a) or sparse.issparse(b):
        return np.asarray((sparse.csr_array(a) @ sparse.csr_array(b)).toarray())
    return a @ b


def _size(value, origin: str, name: str, attr: str) -> int:
    """The number of values a shape such as ``input_type['input']`` declares: positive integers, capped."""
    from neurosim import limits

    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or arr.ndim > 1 or arr.size == 0 or not np.isfinite(arr).all() \
            or (arr < 1).any() or (arr != np.round(arr)).any():
        raise NetworkFileError(f"{origin}: node {name!r}: {attr} must be a shape of positive integers, "
                               f"got {_short(arr.tolist() if arr.size < 10 else arr)}")
    n = 1
    for d in arr.astype(np.float64).tolist():
        n *= int(d)
        if n > limits.max_array_elements():
            raise NetworkFileError(f"{origin}: node {name!r}: {attr} declares {arr.tolist()}, over the cap of "
                                   f"{limits.max_array_elements():,} values (NEUROSIM_MAX_ARRAY_ELEMENTS)")
    return n


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _vec(value, n: int, origin: str, name: str, attr: str) -> np.ndarray:
    arr = _real(value, origin, name, attr)
    try:
        return np.broadcast_to(arr.reshape(-1) if arr.size == n else arr, (n,)).astype(np.float64)
    except ValueError:
        raise NetworkFileError(f"{origin}: node {name!r}: {attr} has shape {arr.shape}, expected ({n},) "
                               "or a scalar") from None


def _loads(metadata: Any, origin: str, where: str) -> dict:
    if not isinstance(metadata, dict) or KEY not in metadata:
        return {}
    raw = metadata[KEY]
    try:
        if isinstance(raw, bytes):
            raw = raw.decode("utf8")
        value = raw if isinstance(raw, dict) else json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except (TypeError, ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise NetworkFileError(f"{origin}: {where}: metadata['{KEY}'] is not valid JSON ({text})") from None
    if not isinstance(value, dict):
        raise NetworkFileError(f"{origin}: {where}: metadata['{KEY}'] is not a JSON object")
    for key, kinds in META_TYPES.items():
        if key in value and not _has_type(value[key], kinds):
            raise NetworkFileError(f"{origin}: {where}: metadata['{KEY}'].{key} must be {' or '.join(kinds)}, "
                                   f"got {_short(value[key])}")
    return value


#: types of the neurosim metadata keys (graph and nodes) the reader uses
META_TYPES: dict[str, tuple[str, ...]] = {
    "format": ("a string",), "format_version": ("an integer",), "dt_s": ("a number",),
    "layers": ("a list of strings",), "metadata": ("an object",), "readout": ("an object",), "kind": ("a string",),
    "encoding": ("a string",), "reset": ("a string",), "activation": ("a string",), "decode": ("a string",),
    "v_init": ("a number", "a list of numbers"), "v_threshold": ("a number", "a list of numbers"),
    "scale": ("a number", "a list of numbers"), "payload_step": ("a number",), "strict": ("a boolean",),
}


def _has_type(value: Any, kinds: tuple[str, ...]) -> bool:
    def number(v):
        return type(v) in (int, float)

    checks = {"a string": lambda v: isinstance(v, str), "an integer": lambda v: type(v) is int, "a number": number,
              "a list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
              "a list of numbers": lambda v: isinstance(v, list) and bool(v) and all(number(x) for x in v),
              "an object": lambda v: isinstance(v, dict), "a boolean": lambda v: isinstance(v, bool)}
    return any(checks[k](value) for k in kinds)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number neurosim accepts")


def _finite_float(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise ValueError(f"{text} overflows a float")
    return value


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
