"""Neuron stages of the reference engine (:mod:`neurosim.backends.reference`).

Holds the input layer (:class:`_InputLayer`, layer 0: the input encodings), the payload
quantizer and one stage per layer kind (``if``, ``lif``, ``cuba_lif``, ``li``,
``sigma_delta``, ``readout``) with their per-step updates, and :func:`_build`, which picks
the stage of a layer.
"""
from __future__ import annotations

import numpy as np

from neurosim.backends import _kernels
from neurosim.backends.dynamics import cuba_step, leaky_step
from neurosim.backends.reference_synapses import _NO_MARKS, _Baseline, _Message, _Received, _Synapses
from neurosim.errors import ValidationError
from neurosim.mathutil import output_activation
from neurosim.network import Layer

#: integrate-and-fire layers scatter their input and update in one compiled pass per sample
FUSED_IF = True
#: how a layer run over all steps at once (:meth:`_IF.run_steps`) finds the neurons that received at a
#: baseline-plus-deviation step: None picks the cheaper, True the messages' packed fan-out sets, False
#: the count of synapses reaching each neuron
RECEIVED_BY_WORDS: bool | None = None
#: costs of the packed fan-out sets, relative to counting one synapse of a deviation (fitted to the
#: kernel's time on 64-1024-64, the trained MNIST 784-256-784 and 784-16384-784 networks, 2 cores):
#: per message, per 64-bit word OR-ed, per neuron and step (the marks unpacked)
WORDS_SPIKE_COST = 6.0
WORDS_COST = 0.27
WORDS_NEURON_COST = 0.14
#: the packed fan-out sets are read at random, one row per message: they beat counting only while
#: the whole table stays in a core's L1 data cache (measured: 8 KiB for 64 inputs x 1,024 neurons
#: wins; 25 KiB and more, the 784-input networks, lose)
WORDS_CACHE_BYTES = 32 * 1024


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
        self.v = np.array(np.broadcast_to(p["v_init"][None, :], self.shape), dtype=np.float64, order="C")
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
            # scratch rows of the compiled kernels, kept zero between samples
            self.cur_row = np.zeros(self.shape[1])
            self.marks_row = np.zeros(self.shape[1], dtype=np.uint8)
            self.fired_row = np.zeros(self.shape[1], dtype=np.uint8)
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
                self.flat_buf, self.cur_row, self.cnt_row, self.marks_row, self.fired_row)
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
                self.marks_row, self.fired_row)
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


    def run_steps(self, msgs: list, counts: np.ndarray, step_counts: np.ndarray, sender=None, unread=False):
        """Every step at once, sample by sample (:func:`neurosim.backends._kernels.if_steps`).

        ``msgs[k]``: the message this layer reads at step ``k`` (what the layer before emitted
        at ``k - 1``; ``Ellipsis`` before the layer is enabled). The strategy of each step is the
        one :meth:`step` picks for that message, so spikes, counts and statistics are those of
        calling :meth:`step` at every step; adds the spikes to ``counts`` (N, n) and
        ``step_counts`` (T, n). Returns ``(messages, active updates)`` per step, or None when a
        step needs a strategy that is not compiled (the caller then steps as usual). Keeps its
        spikes as packed bits (N, T, ceil(n / 64)) in ``step_words`` for the next layer.
        ``unread``: no one reads the messages' spikes (only whether a step sent any), so they are
        not built: each step with spikes gets an empty placeholder message.
        """
        syn = self.syn
        if not (self.fused and FUSED_IF):
            return None
        T = len(msgs)
        n_samples, n = self.shape
        modes = np.full(T, -1, dtype=np.int8)
        baseline = None
        for k, msg in enumerate(msgs):
            if msg is Ellipsis:
                continue
            if msg is None or not msg.nnz:
                modes[k] = 0
            elif msg.baseline is not None and syn.mode == "auto" and syn.deviation_is_cheaper(msg):
                if baseline is not None and msg.baseline is not baseline:
                    return None
                baseline, modes[k] = msg.baseline, 1
            elif not msg.constant and (syn.mode == "scatter" or syn._scatter_is_cheaper(msg, True)):
                modes[k] = 2
            else:
                return None
        ev_ptr = np.zeros((T, n_samples + 1), dtype=np.int64)
        any_rows = np.zeros((T, n_samples) if syn.full else (1, 1), dtype=np.uint8)
        parts_idx, parts_val, offset = [], [], 0
        for k, msg in enumerate(msgs):
            if modes[k] == 1:
                ptr, idx, val = msg.dev_events or _kernels.event_lists(msg.dev_flat, msg.dev_data, n_samples,
                                                                       syn.n_in)
                if syn.full:
                    any_rows[k, msg.rows] = 1
            elif modes[k] == 2:
                flat_in, values = (msg.flat, np.ones(msg.flat.size)) if msg.flat is not None else \
                    (np.flatnonzero(msg.nonzero), None)
                if values is None:
                    values = msg.values.ravel()[flat_in]
                ptr, idx, val = _kernels.event_lists(flat_in, values, n_samples, syn.n_in)
            else:
                continue
            ev_ptr[k] = ptr + offset
            parts_idx.append(idx)
            parts_val.append(val)
            offset += idx.size
        ev_idx = np.concatenate(parts_idx) if parts_idx else np.zeros(0, dtype=np.int64)
        ev_val = np.concatenate(parts_val) if parts_val else np.zeros(0)
        if baseline is not None:
            base_cur, base_cnt = syn.baseline_kernel_terms(msgs[int(np.argmax(modes == 1))])
        else:
            base_cur, base_cnt = np.zeros((1, 1)), np.zeros((1, 1), dtype=np.int32)
        # received marks of deviation steps: the messages' packed fan-out sets OR-ed (work ~ spikes x
        # n / 64) when that is less than counting the deviations' synapses (work ~ deviations x fan-out)
        sp_ptr, sp_idx = np.zeros((0, 0), dtype=np.int64), np.zeros(0, dtype=np.int64)
        fan_words, acc = np.zeros((1, 1), dtype=np.uint64), np.zeros(1, dtype=np.uint64)
        dev_steps = [k for k in range(T) if modes[k] == 1]
        n_words = (n + 63) // 64
        use_words = RECEIVED_BY_WORDS
        if use_words is None:
            use_words = syn.n_in * n_words * 8 <= WORDS_CACHE_BYTES and bool(dev_steps)
        if use_words:
            spikes = sum(msgs[k].nnz for k in dev_steps)
            words_work = (spikes * (WORDS_SPIKE_COST + WORDS_COST * n_words)
                          + WORDS_NEURON_COST * n * len(dev_steps) * n_samples)
            use_words = RECEIVED_BY_WORDS or words_work < sum(
                float(syn.fan_out[msgs[k].dev_flat % syn.n_in].sum()) for k in dev_steps)
        if use_words and dev_steps and not syn.full and all(msgs[k].flat is not None for k in dev_steps):
            counts_k = [msgs[k].nnz if modes[k] == 1 else 0 for k in range(T)]
            step_start = np.zeros(T + 1, dtype=np.int64)
            np.cumsum(counts_k, out=step_start[1:])
            flat = np.concatenate([msgs[k].flat for k in dev_steps])
            sp_ptr = np.zeros((T, n_samples + 1), dtype=np.int64)
            sp_idx = np.empty(flat.size, dtype=np.int64)
            _kernels.steps_events(flat, step_start, syn.n_in, sp_ptr, sp_idx)
            fan_words, acc = syn.fan_out_bits, np.zeros(n_words, dtype=np.uint64)
        syn.stats["skipped"] += int(np.count_nonzero(modes == 0))
        syn.stats["baseline"] += int(np.count_nonzero(modes == 1))
        syn.stats["scatter"] += int(np.count_nonzero(modes == 2))
        if self.cnt_row is None:
            self.cnt_row = np.zeros(n, dtype=np.int32)
        n_active = np.zeros(T, dtype=np.int64)
        n_spikes = np.zeros(T, dtype=np.int64)
        out_words = np.zeros((n_samples, T, (n + 63) // 64), dtype=np.uint64)
        _kernels.if_steps(modes, ev_ptr, ev_idx, ev_val, any_rows, syn.t_indptr, syn.t_indices, syn.t_data, syn.full,
                          self.has_input_u8, base_cur, base_cnt, self.v, self.bias_1d, self.v_th_1d, self.v_reset_1d,
                          self.subtract, counts, step_counts, n_active, n_spikes, out_words, self.cur_row,
                          self.cnt_row, self.marks_row, self.fired_row, sp_ptr, sp_idx, fan_words, acc)
        self.step_words = out_words
        if unread:
            sent = _Message(None, shape=self.shape, flat=np.zeros(0, dtype=np.int64))
            return [sent if n_spikes[k] else None for k in range(T)], [int(a) for a in n_active]
        step_start = np.zeros(T + 1, dtype=np.int64)
        np.cumsum(n_spikes, out=step_start[1:])
        flat = np.empty(int(step_start[-1]), dtype=np.int64)
        _kernels.steps_flat(out_words, n, step_start, flat)
        messages = [_Message(None, shape=self.shape, flat=flat[step_start[k]:step_start[k + 1]])
                    if n_spikes[k] else None for k in range(T)]
        return messages, [int(a) for a in n_active]


def _leaky(p: dict, dt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dt / tau, v_leak, r)`` of a leaky layer's parameters, as (1, n) rows."""
    return (dt_s / p["tau_s"])[None, :], p["v_leak"][None, :], p["r"][None, :]


class _LIF(_Threshold):
    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        p = layer.params
        self.a, self.leak, self.r = _leaky(p, dt_s)

    def step(self, msg):
        cur, rec = self.current(msg)
        leaky_step(self.v, cur, self.a, self.leak, self.r)
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
        cuba_step(self.v, self.i_syn, cur, self.a_syn, self.a_mem, self.leak, self.r, self.w_in)
        return self.fire(rec)


class _LI(_Stage):
    def __init__(self, layer, n_samples, mode, dt_s):
        super().__init__(layer, n_samples, mode, dt_s)
        p = layer.params
        self.a, self.leak, self.r = _leaky(p, dt_s)
        self.v = np.array(np.broadcast_to(p["v_init"][None, :], self.shape), dtype=np.float64, order="C")
        self.v_sum = np.zeros(self.shape)

    def step(self, msg):
        cur, rec = self.current(msg)
        leaky_step(self.v, cur, self.a, self.leak, self.r)
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
            msg.add_counts(self.msg_sum)
        else:
            self.msg_sum += msg.values
        return None, self.syn.received_count(msg)

    @property
    def reads_bits(self) -> bool:
        """Whether :meth:`run_steps` reads a sender's spike bits rather than its messages."""
        return not self.syn.full

    def run_steps(self, msgs: list, counts: np.ndarray, step_counts: np.ndarray, sender=None, unread=False):
        """:meth:`step` for every step at once (``msgs`` as :meth:`_IF.run_steps`); None unless every
        message is binary spikes by flat index. Emits nothing, so ``counts`` are untouched.

        ``sender``: ``(spikes as packed bits (N, T, w), spike counts (N, n_in))`` of the layer
        before when it ran all its steps at once from the step before this one's first: the
        received pairs are then counted one sample at a time from the bits, and the sums of
        the messages are its counts less its last step's spikes (this layer reads its steps
        up to ``T - 2``).
        """
        if any(m is not Ellipsis and m is not None and m.nnz and m.flat is None for m in msgs):
            return None
        T = len(msgs)
        first = next((k for k, m in enumerate(msgs) if m is not Ellipsis), T)
        if sender is not None and 0 < first < T and self.reads_bits:
            words, sent = sender
            self.n_enabled += T - first
            received = np.zeros(T, dtype=np.int64)  # by the sender's step
            fan = self.syn.fan_out_bits
            _kernels.received_steps(words, fan, first - 1, T - 1, received, np.zeros(fan.shape[1], dtype=np.uint64))
            if any(m is not None for m in msgs[first:]):  # the sender sent spikes at one of these steps
                last = np.unpackbits(words[:, T - 1].view(np.uint8), axis=1, bitorder="little")[:, :sent.shape[1]]
                self.msg_sum = sent.astype(np.float64) - last
            return [None] * T, [0] * first + [int(r) for r in received[first - 1:T - 1]]
        active = [0] * len(msgs)
        received = []
        for k, msg in enumerate(msgs):
            if msg is Ellipsis:
                continue
            self.n_enabled += 1
            if msg is None or msg.nnz == 0:
                continue
            received.append(msg.flat)
            active[k] = self.syn.received_count(msg)
        if received:  # += 1 where spiked, step after step: the sums of step()
            self.msg_sum = np.zeros(self.shape[:1] + (self.syn.n_in,))
            _kernels.add_counts(self.msg_sum.reshape(-1), np.concatenate(received))
        return [None] * len(msgs), active

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
