"""Messages and synaptic input of the reference engine (:mod:`neurosim.backends.reference`).

Holds the batch message (:class:`_Message`, with its constant :class:`_Baseline`), the
received-pair sets (:class:`_Received`) and the synapses with their product strategies and
cost model (:class:`_Synapses`); the strategies are described in the docstring of
:mod:`neurosim.backends.reference`.
"""
from __future__ import annotations

import copy

import numpy as np

from neurosim.backends import _kernels
from neurosim.network import Layer

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
        conn = layer.connection
        self.n_out, self.n_in = conn.shape
        #: a sparse connection is used through its CSR only: no dense W, W^T or mask is built
        self.sparse_weights = conn.is_sparse
        self._w = None if self.sparse_weights else conn.dense()
        fan_in = conn.fan_in()
        self.has_input = fan_in > 0  # neurons with at least one synapse
        # fully connected (every neuron with a synapse sees every input): O(N) active counting
        self.full = bool((fan_in[self.has_input] == self.n_in).all())
        self.fan_out = conn.fan_out()  # per presynaptic neuron
        self._lazy: dict[str, np.ndarray] = {}  # built on first use, shared by the chunks' copies
        self.mode = mode
        self._csr = None
        # W^T as CSR (n_in rows): the synapses of each presynaptic neuron, for the compiled kernels
        # and the sparse products
        self.kernel = _kernels.AVAILABLE and mode in ("auto", "scatter")
        if self.kernel or self.sparse_weights:
            from scipy import sparse

            # the columns of W in CSC are the rows of W^T: no dense transpose
            csc = conn.csr().tocsc() if self.sparse_weights else sparse.csc_matrix(self._w)
            csc.sort_indices()
            self.t_indptr = csc.indptr.astype(np.int64)
            self.t_indices = csc.indices.astype(np.int32)
            self.t_data = csc.data.astype(np.float64)
            if self.sparse_weights:
                self._csr = sparse.csr_matrix((self.t_data, self.t_indices, self.t_indptr),
                                              shape=(self.n_in, self.n_out))
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
    def wt(self):
        """``W^T`` (n_in, n_out): dense and C-contiguous, built on first use, for dense weights; the
        CSR matrix of ``W^T`` for sparse weights (every product with it is then sparse)."""
        if self.sparse_weights:
            return self._csr
        if "wt" not in self._lazy:
            self._lazy["wt"] = np.ascontiguousarray(self._w.T)
        return self._lazy["wt"]

    def times_wt(self, events) -> np.ndarray:
        """``events @ W^T`` as a dense (N, n_out) array for a sparse (N, n_in) ``events`` matrix.

        With sparse weights it is CSR x CSR: the same additions in the same order (increasing
        presynaptic index) as CSR x dense weights.
        """
        if self.sparse_weights:
            return (events @ self._csr).toarray()
        return np.asarray(events @ self.wt)

    @property
    def fan_out_bits(self) -> np.ndarray:
        """Fan-out set of each presynaptic neuron as packed bits: (n_in, n_words) uint64."""
        if "bits" not in self._lazy:
            n_words = (self.n_out + 63) // 64
            if self.sparse_weights:  # straight from the CSR of W^T
                bits = np.zeros((self.n_in, n_words), dtype=np.uint64)
                rows = np.repeat(np.arange(self.n_in), np.diff(self.t_indptr))
                j = self.t_indices.astype(np.int64)
                np.bitwise_or.at(bits, (rows, j >> 6), np.left_shift(np.uint64(1), (j & 63).astype(np.uint64)))
                self._lazy["bits"] = bits
            else:
                padded = np.zeros((self.n_in, n_words * 64), dtype=bool)
                padded[:, :self.n_out] = self.wt != 0
                self._lazy["bits"] = np.packbits(padded, axis=1, bitorder="little").view(np.uint64)
        return self._lazy["bits"]

    @property
    def mask_t32(self):
        """The synapse mask, transposed (n_in, n_out), as float32 (exact small-integer counts); a CSR
        matrix for sparse weights."""
        if "mask32" not in self._lazy:
            if self.sparse_weights:
                from scipy import sparse

                self._lazy["mask32"] = sparse.csr_matrix(
                    (np.ones(self.t_indices.size, dtype=np.float32), self.t_indices, self.t_indptr),
                    shape=(self.n_in, self.n_out))
            else:
                self._lazy["mask32"] = (self.wt != 0).astype(np.float32)
        return self._lazy["mask32"]

    def counts_through_mask(self, events) -> np.ndarray:
        """``events (float32) @ mask^T`` as a dense float32 array: synapses reaching each pair."""
        out = events.astype(np.float32) @ self.mask_t32
        return out.toarray() if self.sparse_weights else np.asarray(out)

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
        if self.kernel:
            n_events = float(np.count_nonzero(values, axis=0) @ self.fan_out)
            if SCATTER_COST * n_events < values.shape[0] * self.n_in * self.n_out:
                out = np.zeros((values.shape[0], self.n_out))
                _kernels.scatter_rows(np.ascontiguousarray(values, dtype=np.float64), self.t_indptr, self.t_indices,
                                      self.t_data, out)
                return out
        if self.sparse_weights:
            from scipy import sparse

            return self.times_wt(sparse.csr_matrix(values))
        return values @ self.wt

    def _receive_deviation(self, msg: _Message, want_current: bool) -> tuple[np.ndarray | None, _Received]:
        """``W m = W c + W (m - c)`` with ``W c`` computed once; received from spike counts alike."""
        shape = (msg.shape[0], self.n_in)
        if self._base is None or self._base[0] is not msg.baseline:
            ones = _events(msg.baseline.flat, np.ones(msg.baseline.flat.size), shape)
            base_cnt = None if self.full else self.counts_through_mask(ones)
            self._base = (msg.baseline, self.times_wt(ones), base_cnt)
        _, base_cur, base_cnt = self._base
        self.stats["baseline"] += 1
        dev = _events(msg.dev_flat, msg.dev_data, shape)
        cur = (base_cur + self.times_wt(dev)) if want_current else None
        if self.full:
            return cur, _Received(shape[0], self.n_out, msg.rows, None, self.has_input)
        counts = base_cnt + self.counts_through_mask(dev)  # exact small integers in float32
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
        if self.sparse_weights:  # no dense weights to multiply: events x the CSR of W^T
            strategy = "sparse"
        if strategy != "dense":
            from scipy import sparse

            self.stats[strategy] += 1
            flat = msg.flat if msg.flat is not None else np.flatnonzero(msg.nonzero)
            r, c = np.divmod(flat, self.n_in)
            indptr = np.searchsorted(r, np.arange(n_samples + 1))
            events = sparse.csr_matrix((msg.values.ravel()[flat], c, indptr), shape=(n_samples, self.n_in))
            if strategy == "events" or self.sparse_weights:
                return self.times_wt(events)
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
        """Number of (sample, neuron) pairs with a nonzero message on an existing synapse.

        Counted directly, no product: ``rows x neurons with a synapse`` for a fully connected
        layer; for spikes, unless a fan-out set packs in many more 64-bit words than the scatter
        of its synapses costs, the OR of the packed fan-out sets per sample, counted (compiled);
        otherwise through :meth:`receive`.
        """
        if msg is None or msg.nnz == 0:
            return 0
        if self.full:
            return len(msg.rows) * int(np.count_nonzero(self.has_input))
        mean_fan_out = self.t_indices.size / max(self.n_in, 1) if self.kernel else 0.0
        if self.kernel and msg.flat is not None and (self.n_out + 63) // 64 <= SCATTER_COST * mean_fan_out:
            words = self.fan_out_bits
            return int(_kernels.received_bits(msg.flat, self.n_in, words, np.zeros(words.shape[1], dtype=np.uint64)))
        return self.receive(msg, want_current=False)[1].count()


def _scatter_rows(block: np.ndarray, rows: np.ndarray, n_samples: int) -> np.ndarray:
    if len(rows) == n_samples:
        return block
    out = np.zeros((n_samples, block.shape[1]))
    out[rows] = block
    return out
