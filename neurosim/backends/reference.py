"""The reference engine: numpy, vectorised over all samples, the backend others are tested against.

It follows the discrete-time semantics of :mod:`neurosim.network` exactly (one-step synaptic
delay, layer ``l`` enabled from step ``l``, the per-kind updates and the counting rules) and
runs every sample of the batch at once: state arrays have shape ``(N, n_l)``, float64 by
default.

Its cost follows the work actually done, with results identical to the plain step-by-step
algorithm (up to the order of floating-point additions in the readout):

* **Constant inputs.** The ``regular`` encoding only steps the neurons whose drive ``gain*x``
  is nonzero (a zero pixel never spikes) and keeps their counts compressed. A bright pixel
  (drive > 1/2) spikes at most steps, so its spike train is sent as the constant pattern
  ``c`` ("always") plus sparse deviations: the next layer computes ``W c`` once and
  ``W (m - c)`` per step, which cuts MNIST's input events about fivefold (for an ``if``
  layer in one compiled pass with its update, the encoding itself in another). A ``current``
  input is a constant message: its product is computed once and reused. ``graded`` input
  sends at step 0 only.
* **Silent neurons.** Synaptic input ``W @ m`` is computed from the messages actually sent:
  by default as events, a CSR matrix of this step's nonzero messages times the weights (work
  ~ messages x n_out, only the weight rows of neurons that spiked are gathered); dense BLAS
  restricted to the samples (rows) and neurons (columns) that emitted when messages are
  dense. A step where no neuron of a layer emitted skips the product altogether; a
  ``sigma_delta`` layer that neither received nor emitted at the previous step is at a fixed
  point and is skipped.
* **Absent synapses.** With few messages and sparse weights, CSR messages x CSR weights (work
  ~ messages x fan-out), or the compiled scatter of :mod:`neurosim.backends._kernels`
  (``out[s, j] += m[s, i] W[j, i]`` over the synapses of the neurons that emitted only, with
  scipy's order of additions; fused with the update of an ``if`` layer, one sample at a
  time). A cost model picks the cheapest per layer and step (``sparse``).
* **Bounded memory, every core.** Samples stream through in chunks sized by a memory budget,
  several chunks at once on a thread pool (:mod:`neurosim.backends.chunking`); the weights
  and their sparse forms are built once per run and shared by the chunks.
* **Active-update counting** uses each presynaptic neuron's fan-out set as packed bits: the
  neurons reached in a sample are the OR of the sets of the neurons that spiked (work ~
  messages x n_out / 64); O(N) for a fully connected layer.
* **Linear readout.** A ``readout`` is linear in its input, so the messages it receives are
  summed over the window and multiplied by ``W`` once: ``sum_k W m[k-1] = W sum_k m[k-1]``.

Determinism: the only randomness is the ``bernoulli`` input encoding, drawn from
``numpy.random.default_rng(seed)`` as an ``(N, n)`` array per step, as the contract says.
"""
from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np

from neurosim.backends import BackendResult, _kernels
from neurosim.backends import chunking
from neurosim.backends.chunking import count_dtype
from neurosim.errors import ValidationError
from neurosim.mathutil import output_activation
from neurosim.network import Layer, SpikingNetwork

NAME = "reference"

#: Cost model of the product strategies, in units of one dense BLAS multiply-add (measured on
#: AMD EPYC, 2 threads): messages as a CSR matrix times the dense weights costs ~6 per message x
#: n_out ("events"); CSR times CSR weights ~150 per synaptic event plus ~30 per output element
#: it expands ("sparse"). Only the choice depends on these numbers, never the result.
EVENTS_COST = 6.0
SPARSE_OP_COST = 150.0
SPARSE_OUTPUT_COST = 30.0
#: compiled scatter (:mod:`neurosim.backends._kernels`): per synaptic event, and per output
#: element it zero-fills and reads back
SCATTER_COST = 4.0
SCATTER_FILL_COST = 1.0
#: received sets as packed bits: per 64-neuron word OR-ed per message
BITS_COST = 7.0
_NO_MARKS = np.zeros((1, 1), dtype=np.uint8)
#: integrate-and-fire layers scatter their input and update in one compiled pass per sample
FUSED_IF = True


def available() -> str | None:
    return None


def version() -> str:
    from neurosim import __version__

    return __version__


def run(network: SpikingNetwork, inputs: np.ndarray, timesteps: int, *, seed: int = 0,
        progress: bool = False, sparse: str = "auto", record: Sequence[int] | None = None,
        chunk_size: int | None = None, memory_budget_mb: float | None = None, threads: int | None = None,
        bernoulli_bits: np.ndarray | None = None, **options: Any) -> BackendResult:
    """Simulate ``inputs`` (N, d_in) for ``timesteps`` steps; see the module docstring.

    Parameters
    ----------
    network : SpikingNetwork
    inputs : ndarray, shape (N, d_in)
        Samples (for the converted autoencoders: pixels in [0, 1]).
    timesteps : int
        ``T``, number of steps of ``network.dt_s`` seconds.
    seed : int
        Seed of the ``bernoulli`` input stream.
    progress : bool
        Show a tqdm bar over the chunks of samples (over the steps when there is one chunk).
    sparse : {'auto', 'never', 'always', 'events', 'scatter'}
        Product strategy for synaptic input: 'auto' picks by the cost model (and sends bright
        regular inputs as baseline + deviations); 'never' always dense BLAS; 'always' sparse
        messages x sparse weights; 'events' sparse messages x dense weights; 'scatter' the
        compiled event scatter through sparse weights. Same spikes.
    record : sequence of int, optional
        Sample indices whose per-step spikes are returned in ``BackendResult.step_spikes``
        (layer name -> bool array (len(record), T, n_l); step ``k`` of layer ``l`` is True
        when the neuron emitted a nonzero message at step ``k``).
    chunk_size : int, optional
        Samples simulated at once; by default :func:`neurosim.backends.chunking.chunk_samples`
        picks it from ``memory_budget_mb`` so peak memory does not grow with ``N``.
    memory_budget_mb : float, optional
        Working memory of the simulation state in MiB (default
        :data:`neurosim.backends.chunking.DEFAULT_BUDGET_MB`).
    threads : int, optional
        Chunks simulated concurrently (default: the number of cores). Chunks are independent,
        so the result does not depend on it.
    bernoulli_bits : ndarray (T, N, ceil(n/8)) uint8, optional
        The ``bernoulli`` input spikes of these samples, bit-packed, as drawn for a larger set
        (a shard of :mod:`neurosim.sharding`); used instead of drawing from ``seed``.
    """
    if options:
        raise ValidationError(f"reference backend: unknown option(s) {sorted(options)}")
    if sparse not in ("auto", "never", "always", "events", "scatter"):
        raise ValidationError(f"reference backend: sparse must be 'auto', 'never', 'always', 'events' or "
                              f"'scatter', got {sparse!r}")
    x = np.asarray(inputs, dtype=np.float64)
    T = int(timesteps)
    for layer in network.layers[:-1]:
        if not layer.spiking:  # also refused by SpikingNetwork; kept for networks built by hand
            raise ValidationError(f"layer {layer.name!r} ({layer.kind}) emits nothing: only the last layer "
                                  "can be non-spiking")
    plan = chunking.plan(network, x.shape[0], T, chunk_size=chunk_size, memory_budget_mb=memory_budget_mb,
                         record=record, threads=threads, bytes_per_neuron=BYTES_PER_NEURON)
    stream = chunking.input_stream(network, x, T, seed, len(plan.bounds), bernoulli_bits)
    synapses = [_Synapses(layer, sparse) for layer in network.layers[1:]]  # built once, shared by the chunks

    def one(bounds: tuple[int, int]) -> BackendResult:
        start, stop = bounds
        raster = None if stream is None else stream.chunk(start, stop)
        return _run_chunk(network, x[start:stop], T, seed, synapses, plan.local_record(start, stop), raster,
                          progress and len(plan.bounds) == 1)

    result = chunking.run_chunks(one, plan, network, T, progress=progress, desc="reference")
    result.info.update({"engine": "numpy", "dtype": "float64"})
    return result


#: bytes of simulation state per neuron and sample of a chunk (state, current, message, counts)
BYTES_PER_NEURON = 96


def _run_chunk(network: SpikingNetwork, x: np.ndarray, T: int, seed: int, synapses: list["_Synapses"],
               record: np.ndarray | None, raster: np.ndarray | None, progress: bool) -> BackendResult:
    """One chunk of samples, all at once (``raster``: pre-drawn bernoulli input spikes)."""
    n_samples = x.shape[0]
    layers = network.layers
    L = len(layers)
    source = _InputLayer(layers[0], x, seed, raster)
    stages = [_build(layer, n_samples, syn, network.dt_s) for layer, syn in zip(layers[1:], synapses)]
    counts = [np.zeros((n_samples, layer.size), dtype=count_dtype(T)) for layer in layers]
    active = [0] * L
    step_spikes = None if record is None else {
        layer.name: np.zeros((len(record), T, layer.size), dtype=bool) for layer in layers}

    steps = range(T)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="reference", unit="step", leave=False)
    # previous[l]: what layer l emitted at the previous step (None: nothing nonzero)
    previous: list[_Message | None] = [None] * L
    for k in steps:
        current: list[_Message | None] = [None] * L
        # each layer reads what the layer before it emitted at the previous step
        for l in range(min(k, L - 1), 0, -1):  # layer l is enabled from step l
            current[l], n_active = stages[l - 1].step(previous[l - 1])
            active[l] += n_active
        current[0], n_active = source.step(k)
        active[0] += n_active
        for l, msg in enumerate(current):
            if msg is None:
                continue
            if l or not source.counts_itself:
                msg.add_counts(counts[l])
            if step_spikes is not None:
                step_spikes[layers[l].name][:, k] = msg.emitted_rows(record)
        previous = current
    if source.counts_itself:
        counts[0] = source.counts().astype(count_dtype(T))
    window = T - (L - 1)
    last = layers[-1]
    if window <= 0:  # the last layer was never enabled (simulate() refuses such a T)
        outputs = np.zeros((n_samples, last.size))
    elif last.kind in ("readout", "li"):
        outputs = stages[-1].decode(window)
    else:  # a spiking last layer: its spike rates over its window
        outputs = counts[-1] / window
    info = {"products": {layer.name: dict(stage.stats) for layer, stage in zip(layers[1:], stages)}}
    return BackendResult(spike_counts=counts, active_updates=[int(a) for a in active], outputs=outputs, info=info,
                         step_spikes=step_spikes)


# --------------------------------------------------------------------------------------
# messages and synaptic input


class _Message:
    """A batch of messages (N, n): dense values, plus which rows/columns carry any.

    ``constant`` marks a message that is the same at every step (the ``current`` input),
    so the receiving synapses may reuse their product. ``flat`` (optional) holds the flat
    indices of the nonzero entries when the sender knows them. ``baseline`` (optional) is a
    constant 0/1 pattern ``c`` the message stays close to (a regular spike train of a bright
    pixel spikes at most steps), with ``dev_flat``/``dev_data`` the sparse deviation
    ``m - c`` (+1/-1): synapses then compute ``W c`` once and ``W (m - c)`` per step.
    """

    __slots__ = ("_values", "shape", "_rows", "_cols", "nnz", "constant", "flat", "nonzero", "baseline",
                 "dev_flat", "dev_data", "dev_events")

    def __init__(self, values: np.ndarray | None, constant: bool = False, flat: np.ndarray | None = None,
                 nonzero: np.ndarray | None = None, baseline: "_Baseline | None" = None,
                 dev_flat: np.ndarray | None = None, dev_data: np.ndarray | None = None,
                 shape: tuple[int, int] | None = None):
        # values None: binary spikes at ``flat``, materialised only if a consumer asks for them
        self._values = values
        self.shape = values.shape if values is not None else shape
        self.constant = constant
        self.flat = flat
        self.baseline, self.dev_flat, self.dev_data = baseline, dev_flat, dev_data
        self.dev_events = None  # the deviations as per-sample event lists (ptr, neuron, value), if known
        self._rows = self._cols = None  # built on first use
        if flat is not None:
            self.nonzero = None
            self.nnz = int(flat.size)
        else:
            nz = values != 0 if nonzero is None else nonzero
            self.nonzero = nz
            self.nnz = int(np.count_nonzero(nz))

    @property
    def rows(self) -> np.ndarray:
        """Samples (rows) with any nonzero message, sorted."""
        if self._rows is None:
            n_rows, n_cols = self.shape
            if self.flat is not None:
                self._rows = np.flatnonzero(np.bincount(self.flat // n_cols, minlength=n_rows))
            else:
                self._rows = np.flatnonzero(self.nonzero.any(axis=1))
        return self._rows

    @property
    def cols(self) -> np.ndarray:
        """Neurons (columns) with any nonzero message, sorted."""
        if self._cols is None:
            n_cols = self.shape[1]
            if self.flat is not None:
                self._cols = np.flatnonzero(np.bincount(self.flat % n_cols, minlength=n_cols))
            else:
                self._cols = np.flatnonzero(self.nonzero.any(axis=0))
        return self._cols

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            self._values = np.zeros(self.shape)
            self._values.ravel()[self.flat] = 1.0
        return self._values

    def emitted_rows(self, rows: np.ndarray) -> np.ndarray:
        """``values[rows] != 0`` as bool (len(rows), n)."""
        if self.flat is not None:
            out = np.zeros(self.shape, dtype=bool)
            out.ravel()[self.flat] = True
            return out[rows]
        return self.nonzero[rows]

    def add_counts(self, counts: np.ndarray) -> None:
        """``counts += (values != 0)``."""
        if self.flat is not None:  # flat indices are unique
            if _kernels.AVAILABLE:
                _kernels.add_counts(counts.reshape(-1), self.flat)
            else:
                counts.reshape(-1)[self.flat] += 1
        else:
            counts += self.nonzero


class _Baseline:
    """A constant 0/1 message pattern, by the sorted flat indices of its ones (see _Message)."""

    __slots__ = ("flat",)

    def __init__(self, flat: np.ndarray):
        self.flat = flat


def _events(flat: np.ndarray, data: np.ndarray, shape: tuple[int, int]):
    """CSR matrix of the messages at sorted flat indices ``flat`` with values ``data``."""
    from scipy import sparse

    r, c = np.divmod(flat, shape[1])
    indptr = np.searchsorted(r, np.arange(shape[0] + 1))
    return sparse.csr_matrix((data, c, indptr), shape=shape)


_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


class _Received:
    """Which (sample, neuron) pairs received a nonzero message on an existing synapse.

    One of three forms: ``matrix`` (N, n_out) bool; or ``rows`` (the samples with any message)
    with ``bits[r]`` (n_words uint64), the packed set of neurons reached in sample ``rows[r]``;
    or ``rows`` with ``has_input`` for a fully connected layer, where every neuron with a
    synapse is reached as soon as its sample carries any message.
    """

    def __init__(self, n_samples: int, n_out: int, rows: np.ndarray | None, bits: np.ndarray | None,
                 has_input: np.ndarray | None, matrix: np.ndarray | None = None, known_count: int | None = None):
        self.n_samples, self.n_out, self.rows, self.bits, self.has_input = n_samples, n_out, rows, bits, has_input
        self.matrix = matrix
        self.known_count = known_count  # count of ``matrix`` when the kernel that filled it counted

    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        if self.matrix is not None:
            return int(np.count_nonzero(self.matrix))
        if self.bits is None:
            return len(self.rows) * int(self.has_input.sum())
        return int(_POPCOUNT8[self.bits.view(np.uint8)].sum())

    def count_or(self, emitted: np.ndarray) -> int:
        """Pairs that received a message or emitted one (``emitted``: bool (N, n_out))."""
        if self.matrix is not None:
            return int(np.count_nonzero(self.matrix | emitted))
        return self.count_or_at(*np.nonzero(emitted))

    def count_or_at(self, s: np.ndarray, j: np.ndarray) -> int:
        """Pairs that received a message or emitted one (the emitters as sample/neuron indices)."""
        if self.matrix is not None:
            return self.count() + int(np.count_nonzero(~self.matrix[s, j]))
        if self.bits is None:
            reached = self.has_input[j] & np.isin(s, self.rows, assume_unique=False)
        else:
            where = np.full(self.n_samples, -1, dtype=np.int64)
            where[self.rows] = np.arange(len(self.rows))
            r = where[s]
            ok = r >= 0
            reached = np.zeros(len(s), dtype=bool)
            reached[ok] = ((self.bits[r[ok], j[ok] >> 6] >> (j[ok] & 63).astype(np.uint64)) & np.uint64(1)) == 1
        return self.count() + int(np.count_nonzero(~reached))


class _Synapses:
    """``W`` (n_out, n_in) with the product strategies of the module docstring."""

    def __init__(self, layer: Layer, mode: str):
        w = layer.connection.weight
        self.n_out, self.n_in = w.shape
        self._w = w
        mask = w != 0
        self.has_input = mask.any(axis=1)  # neurons with at least one synapse
        # fully connected (every neuron with a synapse sees every input): O(N) active counting
        self.full = bool(mask[self.has_input].all()) if self.has_input.any() else True
        self.fan_out = np.count_nonzero(mask, axis=0)  # per presynaptic neuron
        self._lazy: dict[str, np.ndarray] = {}  # built on first use, shared by the chunks' copies
        self.mode = mode
        self._csr = None
        # W^T as CSR (n_in rows): the synapses of each presynaptic neuron, for the compiled kernels
        self.kernel = _kernels.AVAILABLE and mode in ("auto", "scatter")
        if self.kernel:
            from scipy import sparse

            csc = sparse.csc_matrix(w)  # its columns are the rows of W^T: no dense transpose
            csc.sort_indices()
            self.t_indptr = csc.indptr.astype(np.int64)
            self.t_indices = csc.indices.astype(np.int32)
            self.t_data = csc.data.astype(np.float64)
        self._base: tuple[_Baseline, np.ndarray, np.ndarray] | None = None
        self._base_k: tuple[_Baseline, np.ndarray, np.ndarray] | None = None
        self._const: tuple[_Message, np.ndarray | None, _Received] | None = None
        self.stats = {"dense": 0, "events": 0, "sparse": 0, "baseline": 0, "scatter": 0, "skipped": 0, "reused": 0}

    def receive(self, msg: _Message | None, want_current: bool = True
                ) -> tuple[np.ndarray | None, _Received | None]:
        """``(W @ m, received)`` for a batch message; ``(None, None)`` when nothing arrives.

        ``W @ m`` (N, n_out) excludes the bias (None when ``want_current`` is false).
        """
        if msg is None or msg.nnz == 0:
            self.stats["skipped"] += 1
            return None, None
        if msg.constant and self._const is not None and self._const[0] is msg:
            self.stats["reused"] += 1
            return self._const[1], self._const[2]
        if self.kernel and (self.mode == "scatter" or self._scatter_is_cheaper(msg, want_current)):
            cur, rec = self._receive_scatter(msg, want_current)
        elif msg.baseline is not None and self.mode in ("auto", "events"):
            cur, rec = self._receive_deviation(msg, want_current)
        else:
            rec = self._received(msg)
            cur = self._current(msg) if want_current else None
        if msg.constant:
            self._const = (msg, cur, rec)
        return cur, rec

    @property
    def wt(self) -> np.ndarray:
        """``W^T`` (n_in, n_out), C-contiguous, built on first use (the compiled paths use its CSR)."""
        if "wt" not in self._lazy:
            self._lazy["wt"] = np.ascontiguousarray(self._w.T)
        return self._lazy["wt"]

    @property
    def fan_out_bits(self) -> np.ndarray:
        """Fan-out set of each presynaptic neuron as packed bits: (n_in, n_words) uint64."""
        if "bits" not in self._lazy:
            n_words = (self.n_out + 63) // 64
            padded = np.zeros((self.n_in, n_words * 64), dtype=bool)
            padded[:, :self.n_out] = self.wt != 0
            self._lazy["bits"] = np.packbits(padded, axis=1, bitorder="little").view(np.uint64)
        return self._lazy["bits"]

    @property
    def mask_t32(self) -> np.ndarray:
        """The synapse mask, transposed (n_in, n_out), as float32 (exact small-integer counts)."""
        if "mask32" not in self._lazy:
            self._lazy["mask32"] = (self.wt != 0).astype(np.float32)
        return self._lazy["mask32"]

    def fresh(self) -> "_Synapses":
        """A view of the same weights with its own per-chunk state (cached products, counters)."""
        other = copy.copy(self)
        other._base, other._base_k, other._const = None, None, None
        other.stats = {k: 0 for k in self.stats}
        return other

    def _scatter_is_cheaper(self, msg: _Message, want_current: bool) -> bool:
        """The cost model: compiled scatter over synaptic events vs the numpy strategies."""
        events = msg.flat if msg.flat is not None else None
        n_syn = float(self.fan_out[events % self.n_in].sum()) if events is not None else \
            float(msg.nnz) * float(self.fan_out[msg.cols].mean())
        marks = 0.0 if self.full else 1.0
        scatter = SCATTER_COST * n_syn * ((1.0 if want_current else 0.0) + marks) \
            + SCATTER_FILL_COST * len(msg.rows) * self.n_out * ((1.0 if want_current else 0.0) + 0.25 * marks)
        if msg.baseline is not None and self.mode == "auto":
            numpy_work = EVENTS_COST * msg.dev_flat.size * self.n_out * (1.0 + marks) if want_current else \
                msg.dev_flat.size * self.n_out * marks
        else:
            received = 0.0 if self.full else BITS_COST * msg.nnz * ((self.n_out + 63) // 64)
            current = min(len(msg.rows) * len(msg.cols) * self.n_out, EVENTS_COST * msg.nnz * self.n_out) \
                if want_current else 0.0
            numpy_work = current + received
        return scatter < numpy_work

    def _receive_scatter(self, msg: _Message, want_current: bool) -> tuple[np.ndarray | None, _Received]:
        """``W m`` and the received pairs by the compiled kernels (work ~ synaptic events)."""
        n_samples = msg.shape[0]
        self.stats["scatter"] += 1
        if msg.flat is not None:
            flat, values = msg.flat, np.ones(msg.flat.size)
        else:
            flat = np.flatnonzero(msg.nonzero)
            values = msg.values.ravel()[flat]
        ptr, idx, val = _kernels.event_lists(flat, values, n_samples, self.n_in)
        reached = _NO_MARKS if self.full else np.zeros((n_samples, self.n_out), dtype=np.uint8)
        cur = None
        if want_current:
            cur = np.zeros((n_samples, self.n_out))
            _kernels.scatter(ptr, idx, val, self.t_indptr, self.t_indices, self.t_data, cur, reached, not self.full)
        elif not self.full:
            _kernels.reach(ptr, idx, self.t_indptr, self.t_indices, reached)
        if self.full:
            return cur, _Received(n_samples, self.n_out, msg.rows, None, self.has_input)
        return cur, _Received(n_samples, self.n_out, None, None, None, matrix=reached.view(bool))

    def deviation_is_cheaper(self, msg: _Message) -> bool:
        """Baseline-plus-deviation scatter (about twice the work per deviation event) vs the plain scatter."""
        return 2 * msg.dev_flat.size < msg.flat.size

    def baseline_kernel_terms(self, msg: _Message) -> tuple[np.ndarray, np.ndarray]:
        """``(W c, synapses of c reaching each pair)`` of ``msg.baseline`` ``c``, computed once per chunk.

        ``W c`` (N, n_out) float64 sums in increasing presynaptic index (the order of the numpy
        baseline product); the counts (N, n_out) int32 are an empty placeholder for a fully
        connected layer.
        """
        if self._base_k is None or self._base_k[0] is not msg.baseline:
            n_samples = msg.shape[0]
            flat = msg.baseline.flat
            ptr, idx, val = _kernels.event_lists(flat, np.ones(flat.size), n_samples, self.n_in)
            cur = np.zeros((n_samples, self.n_out))
            _kernels.scatter(ptr, idx, val, self.t_indptr, self.t_indices, self.t_data, cur, _NO_MARKS, False)
            if self.full:
                cnt = np.zeros((1, 1), dtype=np.int32)
            else:
                cnt = np.zeros((n_samples, self.n_out), dtype=np.int32)
                _kernels.reach_count(ptr, idx, self.t_indptr, self.t_indices, cnt)
            self._base_k = (msg.baseline, cur, cnt)
        return self._base_k[1], self._base_k[2]

    def product(self, values: np.ndarray) -> np.ndarray:
        """``values @ W^T`` for a dense (N, n_in) array, by the scatter kernel when that is less work."""
        flat = np.flatnonzero(values)
        cols = flat % self.n_in
        if self.kernel and SCATTER_COST * float(self.fan_out[cols].sum()) < values.shape[0] * self.n_in * self.n_out:
            ptr, idx, val = _kernels.event_lists(flat, values.ravel()[flat], values.shape[0], self.n_in)
            out = np.zeros((values.shape[0], self.n_out))
            _kernels.scatter(ptr, idx, val, self.t_indptr, self.t_indices, self.t_data, out, _NO_MARKS, False)
            return out
        return values @ self.wt

    def _receive_deviation(self, msg: _Message, want_current: bool) -> tuple[np.ndarray | None, _Received]:
        """``W m = W c + W (m - c)`` with ``W c`` computed once; received from spike counts alike."""
        shape = (msg.shape[0], self.n_in)
        if self._base is None or self._base[0] is not msg.baseline:
            ones = _events(msg.baseline.flat, np.ones(msg.baseline.flat.size), shape)
            base_cnt = None if self.full else np.asarray(ones.astype(np.float32) @ self.mask_t32)
            self._base = (msg.baseline, np.asarray(ones @ self.wt), base_cnt)
        _, base_cur, base_cnt = self._base
        self.stats["baseline"] += 1
        dev = _events(msg.dev_flat, msg.dev_data, shape)
        cur = (base_cur + dev @ self.wt) if want_current else None
        if self.full:
            return cur, _Received(shape[0], self.n_out, msg.rows, None, self.has_input)
        counts = base_cnt + dev.astype(np.float32) @ self.mask_t32  # exact small integers in float32
        return cur, _Received(shape[0], self.n_out, None, None, None, matrix=counts > 0.5)

    def _received(self, msg: _Message) -> _Received:
        n_samples = msg.shape[0]
        if self.full:
            return _Received(n_samples, self.n_out, msg.rows, None, self.has_input)
        flat = msg.flat if msg.flat is not None else np.flatnonzero(msg.nonzero)
        r, c = np.divmod(flat, self.n_in)  # flat indices are sorted: grouped by sample
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        bits = np.bitwise_or.reduceat(self.fan_out_bits[c], starts, axis=0)
        return _Received(n_samples, self.n_out, r[starts], bits, None)

    def _current(self, msg: _Message) -> np.ndarray:
        n_samples = msg.shape[0]
        rows, cols = msg.rows, msg.cols
        work = {"dense": len(rows) * len(cols) * self.n_out,
                "events": EVENTS_COST * msg.nnz * self.n_out,
                "sparse": (SPARSE_OP_COST * msg.nnz * float(self.fan_out[cols].mean())
                           + SPARSE_OUTPUT_COST * len(rows) * self.n_out)}
        strategy = {"never": "dense", "always": "sparse", "events": "events"}.get(self.mode) or min(work, key=work.get)
        if strategy != "dense":
            from scipy import sparse

            self.stats[strategy] += 1
            flat = msg.flat if msg.flat is not None else np.flatnonzero(msg.nonzero)
            r, c = np.divmod(flat, self.n_in)
            indptr = np.searchsorted(r, np.arange(n_samples + 1))
            events = sparse.csr_matrix((msg.values.ravel()[flat], c, indptr), shape=(n_samples, self.n_in))
            if strategy == "events":
                return np.asarray(events @ self.wt)
            if self._csr is None:
                self._csr = sparse.csr_matrix(self.wt)
            return (events @ self._csr).toarray()
        self.stats["dense"] += 1
        # gather active rows/columns only when that skips at least half of the work (a copy costs too)
        all_rows = len(rows) > n_samples // 2
        all_cols = len(cols) > self.n_in // 2
        sub = msg.values if all_rows else msg.values[rows]
        if not all_cols:
            sub = sub[:, cols]
        cur = sub @ (self.wt if all_cols else self.wt[cols])
        return cur if all_rows else _scatter_rows(cur, rows, n_samples)

    def received_count(self, msg: _Message | None) -> int:
        """Number of (sample, neuron) pairs with a nonzero message on an existing synapse."""
        if msg is None or msg.nnz == 0:
            return 0
        return self.receive(msg, want_current=False)[1].count()


def _scatter_rows(block: np.ndarray, rows: np.ndarray, n_samples: int) -> np.ndarray:
    if len(rows) == n_samples:
        return block
    out = np.zeros((n_samples, block.shape[1]))
    out[rows] = block
    return out


# --------------------------------------------------------------------------------------
# the input layer


class _InputLayer:
    """Layer 0: encodes the samples ``x`` (N, n) as messages; see :mod:`neurosim.network`."""

    def __init__(self, layer: Layer, x: np.ndarray, seed: int, raster: np.ndarray | None = None):
        self.layer = layer
        self.raster = raster  # pre-drawn bernoulli spikes (T, N, n) of this chunk, or None
        self.encoding = layer.options["encoding"]
        self.drive = layer.params["gain"][None, :] * x  # gain * x, (N, n)
        self.nonzero_drive = int(np.count_nonzero(self.drive))
        self.shape = self.drive.shape
        self.step_size = float(layer.options.get("payload_step", 0.0) or 0.0)
        if self.encoding == "regular":
            v_init = np.broadcast_to(layer.params["v_init"][None, :], self.shape)
            # only entries that can ever spike are stepped: nonzero drive, or an initial v above 1
            self.idx = np.flatnonzero((self.drive != 0) | (v_init > 1.0))
            self.d = self.drive.ravel()[self.idx]
            self.v = np.array(v_init.ravel()[self.idx], dtype=np.float64)
            self.zero_drive = self.d == 0
            self.count_c = np.zeros(self.idx.size, dtype=np.int64)  # spike counts, compressed
            # a drive above 1/2 spikes at most steps: its messages are sent as deviations from "always"
            self.high = self.d > 0.5
            self.baseline = _Baseline(self.idx[self.high])
            self._buf = None  # output buffers of the compiled step
        elif self.encoding == "bernoulli":
            self.p = np.clip(self.drive, 0.0, 1.0)
            self.zero = self.drive == 0
            self.rng = np.random.default_rng(seed)
        elif self.encoding == "current":
            self.msg = _Message(np.array(self.drive), constant=True) if self.nonzero_drive else None

    @property
    def counts_itself(self) -> bool:
        return self.encoding == "regular"

    def counts(self) -> np.ndarray:
        """Spike counts (N, n) of the ``regular`` encoding, kept compressed while running."""
        out = np.zeros(self.shape, dtype=np.int64)
        out.ravel()[self.idx] = self.count_c
        return out

    def step(self, k: int) -> tuple[_Message | None, int]:
        """Messages emitted at step ``k`` and the number of active neuron updates."""
        enc = self.encoding
        if enc == "regular" and _kernels.AVAILABLE:
            if self._buf is None:
                self._buf = tuple(np.empty(self.idx.size, dtype=np.int64) for _ in range(3)) + (
                    np.empty(self.idx.size),)
            spike_buf, dev_buf, col_buf, val_buf = self._buf
            dev_ptr = np.empty(self.shape[0] + 1, dtype=np.int64)
            n_spikes, n_dev, n_zero = _kernels.regular_step(self.v, self.d, self.high, self.zero_drive, self.idx,
                                                            self.count_c, spike_buf, dev_buf, val_buf,
                                                            self.shape[1], dev_ptr, col_buf)
            n_active = self.nonzero_drive + int(n_zero)
            if not n_spikes:
                return None, n_active
            dev_val = val_buf[:n_dev].copy()
            msg = _Message(None, shape=self.shape, flat=spike_buf[:n_spikes].copy(), baseline=self.baseline,
                           dev_flat=dev_buf[:n_dev].copy(), dev_data=dev_val)
            msg.dev_events = (dev_ptr, col_buf[:n_dev].copy(), dev_val)
            return msg, n_active
        if enc == "regular":
            self.v += self.d
            spike = self.v > 1.0
            self.v -= spike
            self.count_c += spike
            flat = self.idx[spike]  # sorted flat indices: grouped by sample
            n_active = self.nonzero_drive + int(np.count_nonzero(spike & self.zero_drive))
            if not flat.size:
                return None, n_active
            dev = spike != self.high
            dev_data = np.where(spike[dev], 1.0, -1.0)
            return _Message(None, shape=self.shape, flat=flat, baseline=self.baseline, dev_flat=self.idx[dev],
                            dev_data=dev_data), n_active
        if enc == "bernoulli":
            spikes = self.raster[k] if self.raster is not None else self.rng.random(self.shape) < self.p
            n_active = self.nonzero_drive + int(np.count_nonzero(spikes & self.zero))
            return _Message(spikes.astype(np.float64), nonzero=spikes), n_active
        if enc == "current":
            return self.msg, self.nonzero_drive
        # graded: delta encoding of a static input, once at step 0
        if k > 0:
            return None, 0
        payload = quantize(self.drive, self.step_size)
        n_active = int(np.count_nonzero((self.drive != 0) | (payload != 0)))
        return _Message(payload), n_active


def quantize(values: np.ndarray, step: float) -> np.ndarray:
    """``round(p / step) * step`` (exact float payloads when ``step`` is 0)."""
    if not step:
        return values
    return np.round(values / step) * step


# --------------------------------------------------------------------------------------
# neuron layers: one builder per kind


class _Stage:
    """A layer ``l >= 1``: its synapses from layer ``l-1`` and its neuron state."""

    def __init__(self, layer: Layer, n_samples: int, mode: str, dt_s: float):
        self.layer = layer
        # mode: a strategy name, or synapses built once per run and shared by its chunks
        self.syn = mode.fresh() if isinstance(mode, _Synapses) else _Synapses(layer, mode)
        self.bias = layer.connection.bias[None, :]
        self.shape = (n_samples, layer.size)
        self.dt_s = dt_s
        self.n_enabled = 0

    @property
    def stats(self) -> dict[str, int]:
        return self.syn.stats

    def current(self, msg: _Message | None) -> tuple[np.ndarray, _Received | None]:
        """``I = W @ m + b`` (N, n) and the received pattern (None when nothing arrived)."""
        cur, rec = self.syn.receive(msg)
        if cur is None:
            return self.bias, None  # broadcasts against (N, n)
        return cur + self.bias, rec

    @staticmethod
    def active_count(rec: _Received | None, emitted: np.ndarray | None) -> int:
        """Neuron updates with a received message or an emitted one."""
        if rec is None:
            return 0 if emitted is None else int(np.count_nonzero(emitted))
        if emitted is None:
            return rec.count()
        return rec.count_or(emitted)


class _Threshold(_Stage):
    """Shared threshold-and-reset of if/lif/cuba_lif: spike if ``v > v_threshold``."""

    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        p = layer.params
        self.v = np.array(np.broadcast_to(p["v_init"][None, :], self.shape), dtype=np.float64)
        self.v_th = p["v_threshold"][None, :]
        self.subtract = layer.options["reset"] == "subtract"
        self.v_reset = p.get("v_reset", np.zeros(layer.size))[None, :]

    def fire(self, rec: np.ndarray | None) -> tuple[_Message | None, int]:
        spikes = self.v > self.v_th
        n_active = self.active_count(rec, spikes)
        if not spikes.any():
            return None, n_active
        if self.subtract:
            self.v -= spikes * self.v_th
        else:
            self.v = np.where(spikes, self.v_reset, self.v)
        return _Message(spikes.astype(np.float64), nonzero=spikes), n_active


class _IF(_Threshold):
    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        self.fused = self.syn.kernel
        if self.fused:
            self.flat_buf = np.empty(self.shape[0] * self.shape[1], dtype=np.int64)
            # writable contiguous float64 copies: one compiled signature for every layer
            self.bias_1d = np.array(np.broadcast_to(self.bias[0], (self.shape[1],)), dtype=np.float64)
            self.v_th_1d = np.array(np.broadcast_to(self.v_th[0], (self.shape[1],)), dtype=np.float64)
            self.v_reset_1d = np.array(np.broadcast_to(self.v_reset[0], (self.shape[1],)), dtype=np.float64)
            self.has_input_u8 = self.syn.has_input.astype(np.uint8)
            self.cur_row = np.zeros(self.shape[1])
            self.marks_row = np.zeros(self.shape[1], dtype=np.uint8)
            self.cnt_row = None

    def step(self, msg):
        if not self.fused:
            cur, rec = self.current(msg)
            self.v += cur
            return self.fire(rec)
        syn = self.syn
        if (FUSED_IF and msg is not None and msg.nnz and msg.baseline is not None and syn.mode == "auto"
                and syn.deviation_is_cheaper(msg)):
            # baseline W c once, deviations scattered and the update fused, sample by sample
            syn.stats["baseline"] += 1
            base_cur, base_cnt = syn.baseline_kernel_terms(msg)
            ptr, idx, val = msg.dev_events or _kernels.event_lists(msg.dev_flat, msg.dev_data, self.shape[0],
                                                                   syn.n_in)
            if syn.full:
                any_row = np.zeros(self.shape[0], dtype=np.uint8)
                any_row[msg.rows] = 1
            else:
                any_row = _NO_MARKS[0]
            if self.cnt_row is None:
                self.cnt_row = np.zeros(self.shape[1], dtype=np.int32)
            n_spikes, n_active = _kernels.deviation_if_update(
                ptr, idx, val, syn.t_indptr, syn.t_indices, syn.t_data, syn.full, self.has_input_u8, any_row,
                base_cur, base_cnt, self.v, self.bias_1d, self.v_th_1d, self.v_reset_1d, self.subtract,
                self.flat_buf, self.cur_row, self.cnt_row)
            if not n_spikes:
                return None, int(n_active)
            return _Message(None, shape=self.shape, flat=self.flat_buf[:n_spikes].copy()), int(n_active)
        if (FUSED_IF and msg is not None and msg.nnz and not msg.constant
                and (syn.mode == "scatter" or syn._scatter_is_cheaper(msg, True))):
            # scatter and update fused, sample by sample
            syn.stats["scatter"] += 1
            flat_in, values = (msg.flat, np.ones(msg.flat.size)) if msg.flat is not None else \
                (np.flatnonzero(msg.nonzero), None)
            if values is None:
                values = msg.values.ravel()[flat_in]
            ptr, idx, val = _kernels.event_lists(flat_in, values, self.shape[0], syn.n_in)
            n_spikes, n_active = _kernels.scatter_if_update(
                ptr, idx, val, syn.t_indptr, syn.t_indices, syn.t_data, syn.full, self.has_input_u8, self.v,
                self.bias_1d, self.v_th_1d, self.v_reset_1d, self.subtract, self.flat_buf, self.cur_row,
                self.marks_row)
            if not n_spikes:
                return None, int(n_active)
            return _Message(None, shape=self.shape, flat=self.flat_buf[:n_spikes].copy()), int(n_active)
        cur, rec = syn.receive(msg)
        n_spikes = _kernels.if_update(self.v, self.v if cur is None else cur, cur is not None, self.bias_1d,
                                      self.v_th_1d, self.v_reset_1d, self.subtract, self.flat_buf)
        flat = self.flat_buf[:n_spikes].copy()
        s, j = np.divmod(flat, self.shape[1])
        n_active = n_spikes if rec is None else rec.count_or_at(s, j)
        if not n_spikes:
            return None, n_active
        return _Message(None, shape=self.shape, flat=flat), n_active


class _LIF(_Threshold):
    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        p = layer.params
        self.a = (dt_s / p["tau_s"])[None, :]
        self.leak = p["v_leak"][None, :]
        self.r = p["r"][None, :]

    def step(self, msg):
        cur, rec = self.current(msg)
        self.v += self.a * (self.leak - self.v) + self.a * self.r * cur
        return self.fire(rec)


class _CubaLIF(_Threshold):
    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        p = layer.params
        self.a_syn = (dt_s / p["tau_syn_s"])[None, :]
        self.a_mem = (dt_s / p["tau_mem_s"])[None, :]
        self.leak = p["v_leak"][None, :]
        self.r = p["r"][None, :]
        self.w_in = p["w_in"][None, :]
        self.i_syn = np.zeros(self.shape)

    def step(self, msg):
        cur, rec = self.current(msg)
        self.i_syn += -self.a_syn * self.i_syn + self.w_in * cur
        self.v += self.a_mem * (self.leak - self.v) + self.a_mem * self.r * self.i_syn
        return self.fire(rec)


class _LI(_Stage):
    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        p = layer.params
        self.a = (dt_s / p["tau_s"])[None, :]
        self.leak = p["v_leak"][None, :]
        self.r = p["r"][None, :]
        self.v = np.array(np.broadcast_to(p["v_init"][None, :], self.shape), dtype=np.float64)
        self.v_sum = np.zeros(self.shape)

    def step(self, msg):
        cur, rec = self.current(msg)
        self.v += self.a * (self.leak - self.v) + self.a * self.r * cur
        self.v_sum += self.v
        return None, self.active_count(rec, None)

    def decode(self, window: int) -> np.ndarray:
        """Mean membrane over the layer's window."""
        return self.v_sum / window


class _SigmaDelta(_Stage):
    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        self.sigma = np.zeros(self.shape)
        self.a_sent = np.zeros(self.shape)
        self.v_th = layer.params["v_threshold"][None, :]
        self.step_size = float(layer.options.get("payload_step", 0.0) or 0.0)
        self.settled = False  # neither received nor emitted at the previous enabled step

    def step(self, msg):
        cur, rec = self.syn.receive(msg)
        if cur is None and self.settled:
            return None, 0  # same sigma and a_sent as the step before, which emitted nothing
        if cur is not None:
            self.sigma += cur
        delta = np.maximum(self.sigma + self.bias, 0.0) - self.a_sent
        payload = np.where(np.abs(delta) >= self.v_th, quantize(delta, self.step_size), 0.0)
        emitted = payload != 0
        any_emitted = bool(emitted.any())
        if any_emitted:
            self.a_sent += payload
        self.settled = cur is None and not any_emitted
        n_active = self.active_count(rec, emitted)
        return (_Message(payload, nonzero=emitted) if any_emitted else None), n_active


class _Readout(_Stage):
    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        self.msg_sum: np.ndarray | None = None  # sum over enabled steps of the messages received
        self.scale = layer.params["scale"][None, :]

    def step(self, msg):
        self.n_enabled += 1
        if msg is None or msg.nnz == 0:
            return None, 0
        # linear in its input: accumulate the messages, multiply by W once in decode()
        if self.msg_sum is None:
            self.msg_sum = np.zeros(msg.shape)
        if msg.flat is not None:  # binary spikes: += 1 where spiked, as adding the 0/1 values
            self.msg_sum.ravel()[msg.flat] += 1.0
        else:
            self.msg_sum += msg.values
        return None, self.syn.received_count(msg)

    def decode(self, window: int) -> np.ndarray:
        """``activation(scale * acc / T_l)`` ('mean') or ``activation(scale * (sigma + b))`` ('sum')."""
        sigma = np.zeros(self.shape) if self.msg_sum is None else self.syn.product(self.msg_sum)
        if self.layer.options.get("decode", "mean") == "sum":
            value = self.scale * (sigma + self.bias)
        else:
            value = self.scale * (sigma + self.n_enabled * self.bias) / window
        return activation(value, self.layer.options.get("activation", "identity"))


_BUILDERS = {"if": _IF, "lif": _LIF, "cuba_lif": _CubaLIF, "li": _LI, "sigma_delta": _SigmaDelta,
             "readout": _Readout}


def _build(layer: Layer, n_samples: int, mode: str, dt_s: float) -> _Stage:
    builder = _BUILDERS.get(layer.kind)
    if builder is None:
        raise ValidationError(f"cannot build layer {layer.name!r} of kind {layer.kind!r} on backend reference")
    return builder(layer, n_samples, mode, dt_s)


#: readout output nonlinearity: 'identity', 'sigmoid' (``1 / (1 + exp(-z))``) or 'relu'
activation = output_activation
