"""The spiking network neurosim simulates: a feed-forward chain of layers.

Converters produce it (``converters/``), NIR files are read into and written from it
(``converters/nir_io.py``), and every backend (reference, brian2, lava) lowers it with one
builder per neuron ``kind``. SI units: ``dt_s`` in seconds, time constants ``tau_*_s`` in
seconds.

Discrete-time semantics (the contract every backend meets)
----------------------------------------------------------
Time runs in steps ``k = 0 .. T-1`` of length ``dt_s``. Layer 0 is the input layer; layer
``l >= 1`` receives what layer ``l-1`` emits through ``layer.connection`` (weight ``W``,
shape ``(n_l, n_{l-1})``, zeros are absent synapses; bias ``b``, shape ``(n_l,)``).

* **One-step synaptic delay.** What layer ``l-1`` emits at step ``k`` reaches layer ``l`` at
  step ``k+1`` (as on Loihi, in Lava's ``Dense`` and in Brian2's default schedule).
* **Pipeline start.** Layer ``l`` is *enabled* from step ``k = l``, the first step its input
  can arrive. Before that its state keeps its initial value, it gets no bias and emits
  nothing. Its window is ``T_l = T - l`` steps; rates are counts / ``T_l``.
* **Input current** of layer ``l`` at an enabled step ``k``:
  ``I[k] = W @ m_{l-1}[k-1] + b``, where ``m`` is the message vector the previous layer
  emitted (0/1 spikes, or graded payloads; zero before that layer was enabled).
* **Counting.** A neuron's *spike* is any nonzero message it emits (binary or graded).
  Synaptic operations of layer ``l`` = its spikes x its number of nonzero outgoing synapses
  (``fan_out``); neuron updates = ``n_l x T_l`` per sample; an *active* neuron update is an
  enabled step in which the neuron received a nonzero input message or emitted a spike.
  "Received" means: a presynaptic neuron joined to it by a nonzero synapse emitted a nonzero
  message at step ``k-1`` (a bias alone is not a message). The input layer's input message
  is the sample value ``gain * x``: received at every step for the ``regular``,
  ``bernoulli`` and ``current`` encodings, at step 0 only for ``graded``.
* **Non-spiking layers** (``li``, ``readout``) emit no messages, so they can only be the
  last layer.

Neuron kinds and their per-step update (``params`` arrays are per neuron, shape ``(n,)``)
--------------------------------------------------------------------------------------
``input`` (layer 0 only; ``encoding`` in ``Layer.options``; ``x`` is the sample, shape (n,))
    * ``regular``: deterministic rate code. ``v += gain * x``; spike if ``v > 1``; ``v -= 1``
      on a spike; ``v`` starts at ``v_init`` (param, default 0.5). Rate = clip(gain*x, 0, 1).
    * ``bernoulli``: spike with probability ``clip(gain * x, 0, 1)`` each step, from a
      ``numpy.random.default_rng(seed)`` stream drawn as an ``(N, n)`` array per step.
    * ``graded``: delta encoding of a static input: at step 0 emit payload
      ``quantize(gain * x)`` where nonzero; nothing afterwards.
    * ``current``: emit ``gain * x`` every step (analog input, for NIR graphs from other tools).
``if`` (integrate-and-fire, reset by subtraction unless ``options['reset'] == 'zero'``)
    ``v += I``; spike if ``v > v_threshold``; on a spike ``v -= v_threshold`` (subtract) or
    ``v = v_reset`` (zero/reset mode). ``v`` starts at ``v_init``.
``lif`` (NIR LIF, forward Euler): ``v += dt/tau (v_leak - v) + dt/tau * r * I`` (the right
    side uses ``v`` before the update); threshold and reset as ``if``.
``cuba_lif`` (NIR CubaLIF): ``i_syn += -dt/tau_syn * i_syn + w_in * I``, then
    ``v += dt/tau_mem (v_leak - v) + dt/tau_mem * r * i_syn`` with the updated ``i_syn``;
    threshold and reset as ``if``. ``i_syn`` starts at 0.
``li`` (NIR LI, non-spiking): ``v += dt/tau (v_leak - v) + dt/tau * r * I``.
``sigma_delta`` (graded spikes, as Lava's ``SigmaDelta`` with ReLU activation):
    ``sigma += W @ m`` (the bias is not accumulated); ``a = relu(sigma + b)``;
    ``delta = a - a_sent``; when ``|delta| >= v_threshold`` emit payload ``p = quantize(delta)``
    and set ``a_sent += p`` (a zero payload is no spike). ``sigma`` and ``a_sent`` start at 0.
``readout`` (non-spiking accumulator, the output layer of converted autoencoders):
    ``sigma += W @ m`` and ``acc = sigma + n * b`` after ``n`` enabled steps (``acc += I``).
    Decoded output, by ``options['decode']``:
    ``'mean'`` (default, for rate codes): ``activation(scale * acc / T_l)``;
    ``'sum'`` (for graded codes, whose payloads arrive once): ``activation(scale * (sigma + b))``.
    ``activation`` is ``options['activation']`` ('identity' | 'sigmoid' | 'relu').

``quantize(p) = round(p / step) * step`` with ``step = options['payload_step']`` (per layer,
0 or absent = exact float payloads).

Decoded outputs of a network: the last layer's ``readout`` value; for a spiking last layer,
its spike counts / ``T_l``; for ``li``, the mean membrane over its window.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosim.defaults import DT_S
from neurosim.errors import ValidationError

#: neuron kind -> required per-neuron parameters (all broadcast to shape (n,))
KIND_PARAMS: dict[str, tuple[str, ...]] = {
    "input": ("gain",),
    "if": ("v_threshold", "v_init"),
    "lif": ("tau_s", "r", "v_leak", "v_threshold", "v_init"),
    "cuba_lif": ("tau_syn_s", "tau_mem_s", "r", "v_leak", "v_threshold", "w_in", "v_init"),
    "li": ("tau_s", "r", "v_leak", "v_init"),
    "sigma_delta": ("v_threshold",),
    "readout": ("scale",),
}
#: optional per-neuron parameters a kind accepts besides the required ones
OPTIONAL_PARAMS: dict[str, tuple[str, ...]] = {
    "input": ("v_init",), "if": ("v_reset",), "lif": ("v_reset",), "cuba_lif": ("v_reset",),
}
KINDS = tuple(KIND_PARAMS)
ENCODINGS = ("regular", "bernoulli", "graded", "current")
SPIKING_KINDS = ("input", "if", "lif", "cuba_lif", "sigma_delta")


@dataclass
class Connection:
    """Synapses from the previous layer: weight ``W`` (n_out, n_in), zeros absent; bias ``b`` (n_out,).

    ``weight`` is stored either as a dense float64 ndarray or as a canonical float64
    :class:`scipy.sparse.csr_array` (sorted indices, no duplicates, no explicit zeros); both
    mean the same synapses. Read it through the accessors, which never densify a sparse
    connection unless asked to: :meth:`dense`, :meth:`csr`, :attr:`shape`, :attr:`is_sparse`,
    :attr:`nonzero_synapses`, :meth:`fan_out`, :meth:`fan_in`. :meth:`from_weights` picks the
    storage by the density rule (:data:`neurosim.defaults.SPARSE_STORAGE_DENSITY`).
    """

    weight: np.ndarray | Any
    bias: np.ndarray

    def __post_init__(self) -> None:
        from scipy import sparse

        if sparse.issparse(self.weight):
            if self.weight.ndim != 2:
                raise ValidationError(f"connection weight must be 2-D (n_out, n_in), got shape {self.weight.shape}")
            self.weight = _canonical_csr(self.weight)
        else:
            self.weight = np.asarray(self.weight, dtype=np.float64)
            if self.weight.ndim != 2:
                raise ValidationError(f"connection weight must be 2-D (n_out, n_in), got shape {self.weight.shape}")
        n_out = self.weight.shape[0]
        bias = np.asarray(self.bias, dtype=np.float64)
        try:
            self.bias = np.broadcast_to(bias, (n_out,)).copy()
        except ValueError:
            raise ValidationError(f"connection bias has shape {bias.shape}, expected ({n_out},) for a weight "
                                  f"of shape {self.weight.shape}") from None
        values = self.weight.data if self.is_sparse else self.weight
        if not np.isfinite(values).all() or not np.isfinite(self.bias).all():
            raise ValidationError("connection weight or bias contains NaN or infinite values")

    @classmethod
    def from_weights(cls, weight: Any, bias: Any) -> "Connection":
        """A connection stored sparse when its density is below ``SPARSE_STORAGE_DENSITY``, dense otherwise.

        The one place the storage rule is applied (converters and the NIR reader call it).
        ``weight`` may be dense or any scipy sparse matrix or array.
        """
        from scipy import sparse

        from neurosim.defaults import SPARSE_STORAGE_DENSITY

        conn = cls(weight, bias)
        n_out, n_in = conn.shape
        density = conn.nonzero_synapses / (n_out * n_in) if n_out * n_in else 1.0
        if density < SPARSE_STORAGE_DENSITY and not conn.is_sparse:
            conn.weight = sparse.csr_array(conn.weight)
        elif density >= SPARSE_STORAGE_DENSITY and conn.is_sparse:
            conn.weight = conn.weight.toarray()
        return conn

    @property
    def is_sparse(self) -> bool:
        """True when ``weight`` is stored as a CSR array."""
        return not isinstance(self.weight, np.ndarray)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_out, n_in)``."""
        n_out, n_in = self.weight.shape
        return int(n_out), int(n_in)

    def dense(self, copy: bool = False) -> np.ndarray:
        """``W`` as a dense float64 (n_out, n_in) array: a new one when sparse or ``copy``, else the
        stored array itself (do not modify it)."""
        if self.is_sparse:
            return self.weight.toarray()
        return self.weight.copy() if copy else self.weight

    def scaled(self, rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> "Connection":
        """A connection of the same storage with ``W'[j, i] = rows[j] * W[j, i] * cols[i]`` (one
        product per factor, as ``rows[:, None] * W * cols[None, :]``) and bias ``rows * b``."""
        bias = self.bias if rows is None else np.asarray(rows, dtype=np.float64) * self.bias
        if not self.is_sparse:
            w = self.weight if cols is None else self.weight * np.asarray(cols, dtype=np.float64)[None, :]
            w = w if rows is None else np.asarray(rows, dtype=np.float64)[:, None] * w
            return Connection(w.copy() if w is self.weight else w, bias)
        w = self.weight.copy()
        if cols is not None:
            w.data = w.data * np.asarray(cols, dtype=np.float64)[w.indices]
        if rows is not None:
            w.data = np.repeat(np.asarray(rows, dtype=np.float64), np.diff(w.indptr)) * w.data
        return Connection(w, bias)

    def csr(self):
        """``W`` as a canonical float64 :class:`scipy.sparse.csr_array`: the stored one when sparse."""
        if self.is_sparse:
            return self.weight
        from scipy import sparse

        return sparse.csr_array(self.weight)  # from dense: sorted, no duplicates, no zeros

    @property
    def nonzero_synapses(self) -> int:
        """Number of existing synapses (nonzero weights)."""
        return int(self.weight.nnz) if self.is_sparse else int(np.count_nonzero(self.weight))

    def fan_out(self) -> np.ndarray:
        """Existing synapses per presynaptic neuron, (n_in,) int64 (column counts of ``W != 0``)."""
        if self.is_sparse:
            return np.bincount(self.weight.indices, minlength=self.shape[1]).astype(np.int64)
        return np.count_nonzero(self.weight, axis=0).astype(np.int64)

    def fan_in(self) -> np.ndarray:
        """Existing synapses per postsynaptic neuron, (n_out,) int64 (row counts of ``W != 0``)."""
        if self.is_sparse:
            return np.diff(self.weight.indptr).astype(np.int64)
        return np.count_nonzero(self.weight, axis=1).astype(np.int64)

    @property
    def mask(self) -> np.ndarray:
        """Boolean (n_out, n_in): which synapses exist. Always dense (1 byte per pair), also for a
        sparse connection: for consumers that need the full pattern (activity records, crossbar tiles)."""
        if not self.is_sparse:
            return self.weight != 0
        out = np.zeros(self.shape, dtype=bool)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.weight.indptr))
        out[rows, self.weight.indices] = True
        return out

    def silenced(self, outputs: Any = (), inputs: Any = ()) -> "Connection":
        """A copy without the synapses to postsynaptic neurons ``outputs`` (their bias zeroed too) and
        from presynaptic neurons ``inputs``; the storage form is kept."""
        outputs = np.asarray(outputs, dtype=np.int64)
        inputs = np.asarray(inputs, dtype=np.int64)
        bias = self.bias.copy()
        bias[outputs] = 0.0
        if not self.is_sparse:
            w = self.weight.copy()
            w[outputs, :] = 0.0
            w[:, inputs] = 0.0
            return Connection(w, bias)
        from scipy import sparse

        w = self.weight
        drop_row = np.zeros(self.shape[0], dtype=bool)
        drop_row[outputs] = True
        drop_col = np.zeros(self.shape[1], dtype=bool)
        drop_col[inputs] = True
        rows = np.repeat(np.arange(self.shape[0]), np.diff(w.indptr))
        keep = ~drop_row[rows] & ~drop_col[w.indices]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=self.shape[0]))])
        return Connection(sparse.csr_array((w.data[keep], w.indices[keep], indptr), shape=self.shape), bias)


def _canonical_csr(weight: Any):
    """``weight`` (any scipy sparse form) as a new float64 csr_array with sorted indices, no duplicates
    and no explicit zeros (the input is not modified)."""
    from scipy import sparse

    w = sparse.csr_array(weight, dtype=np.float64, copy=True)
    if not np.isfinite(w.data).all():
        raise ValidationError("connection weight or bias contains NaN or infinite values")
    w.sum_duplicates()  # also sorts the indices
    w.eliminate_zeros()
    return w


@dataclass
class Layer:
    """One population of ``size`` neurons of one ``kind``; see the module docstring."""

    name: str
    kind: str
    size: int
    params: dict[str, np.ndarray] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    connection: Connection | None = None

    def __post_init__(self) -> None:
        if self.kind not in KIND_PARAMS:
            raise ValidationError(f"layer {self.name!r}: unknown neuron kind {self.kind!r} "
                                  f"(known: {', '.join(KINDS)})")
        if int(self.size) <= 0:
            raise ValidationError(f"layer {self.name!r}: size must be positive, got {self.size}")
        self.size = int(self.size)
        defaults = {"gain": 1.0, "v_init": 0.0}
        params = {}
        optional = [k for k in OPTIONAL_PARAMS.get(self.kind, ()) if k in self.params]
        for key in (*KIND_PARAMS[self.kind], *optional):
            if key not in self.params and key not in defaults:
                raise ValidationError(f"layer {self.name!r} ({self.kind}): missing parameter {key!r}")
            value = np.asarray(self.params.get(key, defaults.get(key)), dtype=np.float64)
            try:
                value = np.broadcast_to(value, (self.size,)).copy()
            except ValueError:
                raise ValidationError(f"layer {self.name!r}: parameter {key!r} has shape {value.shape}, "
                                      f"not broadcastable to ({self.size},)") from None
            if not np.isfinite(value).all():
                raise ValidationError(f"layer {self.name!r}: parameter {key!r} contains NaN or infinite values")
            params[key] = value
        for key in ("v_threshold", "tau_s", "tau_syn_s", "tau_mem_s"):
            if key in params and self.kind != "sigma_delta" and (params[key] <= 0).any():
                raise ValidationError(f"layer {self.name!r}: {key} must be positive, got {params[key].min():g}")
        if self.kind == "sigma_delta" and (params["v_threshold"] < 0).any():
            raise ValidationError(f"layer {self.name!r}: v_threshold must be >= 0, got {params['v_threshold'].min():g}")
        extra = set(self.params) - set(params)
        if extra:
            raise ValidationError(f"layer {self.name!r} ({self.kind}): unknown parameter(s) {sorted(extra)}")
        self.params = params
        if self.kind == "input":
            enc = self.options.setdefault("encoding", "regular")
            if enc not in ENCODINGS:
                raise ValidationError(f"layer {self.name!r}: unknown input encoding {enc!r} "
                                      f"(known: {', '.join(ENCODINGS)})")
            if enc == "regular":
                self.params.setdefault("v_init", np.full(self.size, 0.5))
        if self.kind == "readout":
            act = self.options.setdefault("activation", "identity")
            if act not in ("identity", "sigmoid", "relu"):
                raise ValidationError(f"layer {self.name!r}: unknown readout activation {act!r}")
            decode = self.options.setdefault("decode", "mean")
            if decode not in ("mean", "sum"):
                raise ValidationError(f"layer {self.name!r}: readout decode must be 'mean' or 'sum', got {decode!r}")
        if self.kind in ("if", "lif", "cuba_lif"):
            reset = self.options.setdefault("reset", "subtract")
            if reset not in ("subtract", "zero"):
                raise ValidationError(f"layer {self.name!r}: reset must be 'subtract' or 'zero', got {reset!r}")
            if reset == "zero":
                self.params.setdefault("v_reset", np.zeros(self.size))
        step = float(self.options.get("payload_step", 0.0) or 0.0)
        if step < 0:
            raise ValidationError(f"layer {self.name!r}: payload_step must be >= 0, got {step}")

    @property
    def spiking(self) -> bool:
        return self.kind in SPIKING_KINDS


@dataclass
class SpikingNetwork:
    """A feed-forward chain: ``layers[0]`` is the input layer (kind 'input').

    ``metadata`` holds plain values: e.g. ``coding`` ('rate' | 'graded'), ``model``
    ('dense' | 'sparse'), ``source`` (checkpoint path), ``calibration``, ``image_shape``.
    """

    layers: list[Layer]
    dt_s: float = DT_S
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValidationError("a spiking network needs at least an input layer")
        if self.dt_s <= 0 or not np.isfinite(self.dt_s):
            raise ValidationError(f"dt_s must be positive, got {self.dt_s}")
        if self.layers[0].kind != "input" or self.layers[0].connection is not None:
            raise ValidationError(f"layer 0 ({self.layers[0].name!r}) must be an input layer without a connection")
        names = set()
        for layer in self.layers[:-1]:
            if not layer.spiking:
                raise ValidationError(f"layer {layer.name!r} ({layer.kind}) emits no messages: a non-spiking "
                                      "layer can only be the last layer")
        for prev, layer in zip(self.layers, self.layers[1:]):
            if layer.kind == "input":
                raise ValidationError(f"layer {layer.name!r}: only layer 0 can be an input layer")
            if layer.connection is None:
                raise ValidationError(f"layer {layer.name!r} has no connection from {prev.name!r}")
            if layer.connection.shape != (layer.size, prev.size):
                raise ValidationError(f"layer {layer.name!r}: weight shape {layer.connection.shape} does not "
                                      f"match ({layer.size}, {prev.size}) from {prev.name!r}")
        for layer in self.layers:
            if layer.name in names:
                raise ValidationError(f"duplicate layer name {layer.name!r}")
            names.add(layer.name)

    @property
    def input_size(self) -> int:
        return self.layers[0].size

    @property
    def output_size(self) -> int:
        return self.layers[-1].size

    def fan_out(self, index: int) -> np.ndarray:
        """Nonzero outgoing synapses per neuron of layer ``index`` (zeros for the last layer)."""
        if index == len(self.layers) - 1:
            return np.zeros(self.layers[index].size, dtype=np.int64)
        return self.layers[index + 1].connection.fan_out()

    def copy(self) -> "SpikingNetwork":
        return copy.deepcopy(self)

    def summary(self) -> dict[str, Any]:
        """Plain-value description (for records and reports)."""
        layers = []
        for i, layer in enumerate(self.layers):
            entry = {"name": layer.name, "kind": layer.kind, "size": layer.size}
            if layer.connection is not None:
                n_out, n_in = layer.connection.shape
                entry["synapses"] = n_out * n_in
                entry["nonzero_synapses"] = layer.connection.nonzero_synapses
            if layer.kind == "input":
                entry["encoding"] = layer.options["encoding"]
            layers.append(entry)
        return {"dt_s": self.dt_s, "layers": layers, "metadata": _plain(self.metadata)}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
