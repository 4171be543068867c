"""Compiled inner loops of the reference engine (numba), with the arithmetic of the numpy code.

Each kernel works on one chunk of samples and releases the GIL, so chunks run on every core
(:mod:`neurosim.backends.chunking`). Each does exactly the floating-point operations of the
numpy code it replaces, in the same order, so results do not depend on whether numba is
installed (:data:`AVAILABLE`).

* :func:`scatter` -- synaptic input from events through sparse weights:
  ``out[s, j] += m[s, i] * W[j, i]`` for every message ``(s, i)`` in increasing ``i`` and
  every synapse of ``i`` in increasing ``j`` (the order of scipy's CSR-times-dense product),
  and, when asked, marks ``(s, j)`` as *received*. Work ~ synaptic events, not
  ``n_in x n_out``.
* :func:`scatter_rows` -- the same from a dense array of messages.
* :func:`reach` -- only the received marks and their number; :func:`received_bits` -- the
  number of received pairs from packed fan-out sets (64-bit words, counted with ``popcnt``).
* :func:`add_counts` -- spike counts from the flat indices of the spikes; :func:`add_columns`
  -- their totals per neuron.
* :func:`if_update` -- integrate-and-fire: ``v += I + b``, spike if ``v > v_th``, reset and
  the flat indices of the spikes, in one pass; :func:`scatter_if_update` fuses it with the
  scatter, :func:`deviation_if_update` with a constant baseline ``W c`` plus the scattered
  deviations ``W (m - c)`` (:func:`reach_count` counts the baseline's synapses per pair).
* :func:`regular_step` -- the ``regular`` input encoding, with its deviations from the
  baseline as event lists.
* :func:`if_steps` -- every step of an integrate-and-fire layer, one sample at a time, with the
  strategy of each step given (no input, baseline plus deviations, events), its spikes as
  packed bits; :func:`steps_flat` turns those into each step's sorted flat indices.
"""
from __future__ import annotations

import numpy as np

try:
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover - numba is a dependency; the numpy paths remain
    numba = None
    AVAILABLE = False


def _jit(fn):
    if not AVAILABLE:
        return fn
    return numba.njit(nogil=True, cache=True, fastmath=False)(fn)


@_jit
def scatter(ev_ptr, ev_idx, ev_val, indptr, indices, data, out, reached, mark):  # pragma: no cover - compiled
    """``out[s, indices[p]] += ev_val[e] * data[p]`` over events ``e`` of sample ``s``; see module doc.

    ``mark``: also set ``reached[s, j] = 1`` (without a branch: count the marks afterwards).
    """
    for s in range(ev_ptr.shape[0] - 1):
        for e in range(ev_ptr[s], ev_ptr[s + 1]):
            i = ev_idx[e]
            value = ev_val[e]
            if mark:
                for p in range(indptr[i], indptr[i + 1]):
                    j = indices[p]
                    out[s, j] += value * data[p]
                    reached[s, j] = 1
            else:
                for p in range(indptr[i], indptr[i + 1]):
                    out[s, indices[p]] += value * data[p]
    return 0


@_jit
def scatter_rows(values, indptr, indices, data, out):  # pragma: no cover - compiled
    """:func:`scatter` of every nonzero entry of a dense ``values`` (N, n_in), in row order.

    ``out[s, indices[p]] += values[s, i] * data[p]``: the arithmetic and order of :func:`scatter`
    on the event lists of ``values``, without building them.
    """
    for s in range(values.shape[0]):
        for i in range(values.shape[1]):
            value = values[s, i]
            if value != 0.0:
                for p in range(indptr[i], indptr[i + 1]):
                    out[s, indices[p]] += value * data[p]
    return 0


@_jit
def add_columns(row, flat):  # pragma: no cover - compiled
    """``row[f % n] += 1`` for every flat index ``f`` of ``flat`` (``n = row.size``): per-neuron totals."""
    n = row.shape[0]
    for f in flat:
        row[f % n] += 1


@_jit
def reach(ev_ptr, ev_idx, indptr, indices, reached):  # pragma: no cover - compiled
    """Set ``reached[s, j] = 1`` for every synapse ``i -> j`` of an event ``(s, i)``."""
    for s in range(ev_ptr.shape[0] - 1):
        for e in range(ev_ptr[s], ev_ptr[s + 1]):
            i = ev_idx[e]
            for p in range(indptr[i], indptr[i + 1]):
                reached[s, indices[p]] = 1
    return 0


@_jit
def fire_row(v, cur, received, bias, v_th, v_reset, subtract, fired):  # pragma: no cover - compiled
    """One integrate-and-fire update of one sample's row ``v`` (n), in place, without branches.

    ``x = v + (cur + bias)``; ``fired[j] = x > v_th[j]``; ``v = x - v_th`` (subtract) or
    ``v_reset`` where fired, else ``x``. Resets ``cur`` and ``received`` to 0 for the next
    sample. Returns ``(spikes, active)``: active counts the neurons that received
    (``received[j] != 0``) or fired. Straight-line code over ``j``: LLVM vectorises it.
    """
    n_spikes = 0
    n_active = 0
    if subtract:
        for j in range(v.shape[0]):
            x = v[j] + (cur[j] + bias[j])
            spiked = x > v_th[j]
            v[j] = x - v_th[j] if spiked else x
            cur[j] = 0.0
            fired[j] = spiked
            n_spikes += spiked
            n_active += spiked | (received[j] != 0)
            received[j] = 0
    else:
        for j in range(v.shape[0]):
            x = v[j] + (cur[j] + bias[j])
            spiked = x > v_th[j]
            v[j] = v_reset[j] if spiked else x
            cur[j] = 0.0
            fired[j] = spiked
            n_spikes += spiked
            n_active += spiked | (received[j] != 0)
            received[j] = 0
    return n_spikes, n_active


@_jit
def collect(fired, offset, flat_out, k):  # pragma: no cover - compiled
    """Append ``offset + j`` for every ``fired[j]`` to ``flat_out`` from position ``k``; returns the new end.

    Branch-free: every position is written, the end advances by ``fired[j]`` (0 or 1), so
    ``flat_out`` needs room for one index past the last spike (it holds one per neuron and sample).
    """
    for j in range(fired.shape[0]):
        flat_out[k] = offset + j
        k += fired[j]
    return k


@_jit
def if_update(v, cur, has_cur, bias, v_th, v_reset, subtract, flat_out):  # pragma: no cover - compiled
    """One integrate-and-fire step of a chunk, in place; returns the number of spikes.

    ``v[s, j] += cur[s, j] + bias[j]`` (``+= bias[j]`` without input); a spike when
    ``v > v_th[j]``, then ``v -= v_th[j]`` (subtract) or ``v = v_reset[j]``; the flat index
    ``s * n + j`` of each spike is appended to ``flat_out`` (sorted).
    """
    n_spikes = 0
    n_samples, n = v.shape
    for s in range(n_samples):
        for j in range(n):
            if has_cur:
                x = v[s, j] + (cur[s, j] + bias[j])
            else:
                x = v[s, j] + bias[j]
            if x > v_th[j]:
                if subtract:
                    x = x - v_th[j]
                else:
                    x = v_reset[j]
                flat_out[n_spikes] = s * n + j
                n_spikes += 1
            v[s, j] = x
    return n_spikes


@_jit
def scatter_into(start, stop, ev_idx, ev_val, indptr, indices, data, cur_row):  # pragma: no cover - compiled
    """``cur_row[j] += value * W[j, i]`` over one sample's events ``start:stop``, in event order."""
    for e in range(start, stop):
        i = ev_idx[e]
        value = ev_val[e]
        for p in range(indptr[i], indptr[i + 1]):
            cur_row[indices[p]] += value * data[p]
    return 0


@_jit
def scatter_fire(start, stop, ev_idx, ev_val, indptr, indices, data, full, has_input, v, cur_row, marks_row, bias,
                 v_th, v_reset, subtract, fired):  # pragma: no cover - compiled
    """One sample's events ``start:stop`` scattered into ``cur_row`` (summed from 0 in event order),
    its received marks, then :func:`fire_row` of its row ``v``; returns ``(spikes, active)``.

    Marks: each synapse's target, or, fully connected, every neuron with a synapse when the
    sample has any event.
    """
    for e in range(start, stop):
        i = ev_idx[e]
        value = ev_val[e]
        if full:
            for p in range(indptr[i], indptr[i + 1]):
                cur_row[indices[p]] += value * data[p]
        else:
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                cur_row[j] += value * data[p]
                marks_row[j] = 1
    if full and stop > start:
        marks_row[:] = has_input
    return fire_row(v, cur_row, marks_row, bias, v_th, v_reset, subtract, fired)


@_jit
def deviation_fire(start, stop, ev_idx, ev_val, indptr, indices, data, full, has_input, any_message, base, cnt, v,
                   dev_row, cnt_row, marks_row, bias, v_th, v_reset, subtract, fired):  # pragma: no cover - compiled
    """One sample's deviation events ``start:stop`` (+1/-1) scattered into ``dev_row`` (from 0, in
    event order), ``I = base + dev``, then the update of its row ``v``; returns ``(spikes, active)``.

    Received: ``cnt + (deviation count) > 0`` (``cnt`` the baseline's synapses per neuron), or,
    fully connected, every neuron with a synapse when ``any_message``.
    """
    for e in range(start, stop):
        i = ev_idx[e]
        value = ev_val[e]
        step = 1 if value > 0 else -1
        if full:
            for p in range(indptr[i], indptr[i + 1]):
                dev_row[indices[p]] += value * data[p]
        else:
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                dev_row[j] += value * data[p]
                cnt_row[j] += step
    if full:
        for j in range(v.shape[0]):
            dev_row[j] = base[j] + dev_row[j]
        if any_message:
            marks_row[:] = has_input
        return fire_row(v, dev_row, marks_row, bias, v_th, v_reset, subtract, fired)
    return fire_base_row(v, base, dev_row, cnt, cnt_row, bias, v_th, v_reset, subtract, fired)


@_jit
def scatter_if_update(ev_ptr, ev_idx, ev_val, indptr, indices, data, full, has_input, v, bias, v_th, v_reset,
                      subtract, flat_out, cur_row, marks_row, fired):  # pragma: no cover - compiled
    """:func:`scatter` then :func:`if_update`, one sample at a time (its row stays in cache).

    Same arithmetic as the two kernels in turn: ``cur`` summed from 0 in event order, then
    ``v += cur + bias`` (:func:`fire_row`). Returns ``(spikes, active)``: the number of spikes
    (flat indices in ``flat_out``) and of neuron updates that received a message or spiked (a
    fully connected layer: every neuron with a synapse receives when its sample carries any
    message). ``cur_row``, ``marks_row`` and ``fired`` are scratch rows of length ``n``, kept zero
    between samples.
    """
    n_samples, n = v.shape
    n_spikes = 0
    n_active = 0
    for s in range(n_samples):
        spikes, active = scatter_fire(ev_ptr[s], ev_ptr[s + 1], ev_idx, ev_val, indptr, indices, data, full,
                                      has_input, v[s], cur_row, marks_row, bias, v_th, v_reset, subtract, fired)
        n_active += active
        if spikes:
            n_spikes = collect(fired, s * n, flat_out, n_spikes)
    return n_spikes, n_active


@_jit
def deviation_if_update(ev_ptr, ev_idx, ev_val, indptr, indices, data, full, has_input, any_row, base_cur,
                        base_cnt, v, bias, v_th, v_reset, subtract, flat_out, dev_row, cnt_row, marks_row,
                        fired):  # pragma: no cover - compiled
    """:func:`scatter_if_update` for a message sent as a constant pattern ``c`` plus deviations.

    ``base_cur[s] = W c[s]`` and ``base_cnt[s, j]`` (synapses of ``c[s]`` reaching ``j``) are
    computed once; the events are the deviations ``m - c`` (values +1/-1). Per sample
    ``I = base_cur + W (m - c)`` (the deviation product summed from 0 in event order, then
    added: the arithmetic of the numpy baseline product), then ``v += I + b``
    (:func:`fire_row`). A pair received when ``base_cnt + (deviation count) > 0`` (fully
    connected: when its sample has any message, ``any_row[s]``, and the neuron a synapse).
    ``dev_row``, ``cnt_row``, ``marks_row`` and ``fired`` are scratch rows of length ``n``, kept
    zero between samples. Returns ``(spikes, active)``.
    """
    n_samples, n = v.shape
    n_spikes = 0
    n_active = 0
    for s in range(n_samples):
        spikes, active = deviation_fire(ev_ptr[s], ev_ptr[s + 1], ev_idx, ev_val, indptr, indices, data, full,
                                        has_input, any_row[s] != 0 if full else False, base_cur[s],
                                        base_cnt[0] if full else base_cnt[s], v[s], dev_row, cnt_row, marks_row,
                                        bias, v_th, v_reset, subtract, fired)
        n_active += active
        if spikes:
            n_spikes = collect(fired, s * n, flat_out, n_spikes)
    return n_spikes, n_active


if AVAILABLE:
    from llvmlite import ir as _ir
    from numba.core import types as _types
    from numba.extending import intrinsic as _intrinsic

    @_intrinsic
    def _ctpop64(typingctx, x):
        """The number of ones of a uint64, as int64 (LLVM's ``ctpop``: one ``popcnt`` instruction)."""
        sig = _types.int64(_types.uint64)

        def codegen(context, builder, signature, args):
            fn = builder.module.declare_intrinsic("llvm.ctpop", [_ir.IntType(64)])
            return builder.call(fn, args)

        return sig, codegen

    @_intrinsic
    def _cttz64(typingctx, x):
        """The number of trailing zeros of a nonzero uint64, as int64 (LLVM's ``cttz``)."""
        sig = _types.int64(_types.uint64)

        def codegen(context, builder, signature, args):
            fn = builder.module.declare_intrinsic("llvm.cttz", [_ir.IntType(64), _ir.IntType(1)])
            return builder.call(fn, [args[0], _ir.Constant(_ir.IntType(1), 0)])

        return sig, codegen
else:  # pragma: no cover - without numba the kernels are never called
    def _ctpop64(x):
        return bin(int(x)).count("1")

    def _cttz64(x):
        return (int(x) & -int(x)).bit_length() - 1


@_jit
def fire_base_row(v, base, dev, cnt, cnt_row, bias, v_th, v_reset, subtract, fired):  # pragma: no cover - compiled
    """:func:`fire_row` of the current ``base + dev`` and the received marks ``cnt + cnt_row > 0``, in one pass.

    ``x = v + ((base + dev) + bias)``: the arithmetic of adding the baseline first
    (:func:`deviation_if_update`). Resets ``dev`` and ``cnt_row`` to 0. Returns ``(spikes, active)``.
    """
    n_spikes = 0
    n_active = 0
    if subtract:
        for j in range(v.shape[0]):
            x = v[j] + ((base[j] + dev[j]) + bias[j])
            spiked = x > v_th[j]
            v[j] = x - v_th[j] if spiked else x
            dev[j] = 0.0
            fired[j] = spiked
            n_spikes += spiked
            n_active += spiked | (cnt[j] + cnt_row[j] > 0)
            cnt_row[j] = 0
    else:
        for j in range(v.shape[0]):
            x = v[j] + ((base[j] + dev[j]) + bias[j])
            spiked = x > v_th[j]
            v[j] = v_reset[j] if spiked else x
            dev[j] = 0.0
            fired[j] = spiked
            n_spikes += spiked
            n_active += spiked | (cnt[j] + cnt_row[j] > 0)
            cnt_row[j] = 0
    return n_spikes, n_active


@_jit
def unpack_bits(words, marks):  # pragma: no cover - compiled
    """``marks[j] = bit j % 64 of words[j // 64]`` (0/1) for ``j < marks.size``; resets ``words`` to 0."""
    n = marks.shape[0]
    for w in range(words.shape[0]):
        word = words[w]
        stop = min(64, n - w * 64)
        for b in range(stop):
            marks[w * 64 + b] = (word >> np.uint64(b)) & np.uint64(1)
        words[w] = 0


@_jit
def if_steps(modes, ev_ptr, ev_idx, ev_val, any_rows, indptr, indices, data, full, has_input, base_cur,
             base_cnt, v, bias, v_th, v_reset, subtract, counts, step_counts, n_active, n_spikes, out_words,
             cur_row, cnt_row, marks_row, fired, sp_ptr, sp_idx, fan_words, recv_words):  # pragma: no cover - compiled
    """Every step of an integrate-and-fire layer, one sample at a time (its rows stay in cache).

    Per sample ``s`` and step ``k`` exactly the arithmetic of the step-by-step kernels, chosen by
    ``modes[k]``: -1 the layer is not enabled yet; 0 no input (:func:`if_update`: ``v += b``);
    1 baseline plus deviations (:func:`deviation_if_update`); 2 the events themselves
    (:func:`scatter_if_update`). The events consumed at step ``k`` are those of sample ``s`` in
    ``ev_ptr[k, s]:ev_ptr[k, s + 1]`` of ``ev_idx``/``ev_val``; ``any_rows[k, s]``: the sample
    received any message (fully connected layers, mode 1). Adds each spike to ``counts[s, j]``
    and ``step_counts[k, j]``, the step's active updates and spikes to ``n_active[k]`` and
    ``n_spikes[k]``, and sets bit ``j % 64`` of ``out_words[s, k, j // 64]`` for each spike
    (``out_words`` zero on entry).

    In mode 1 a layer that is not fully connected counts the synapses reaching each neuron
    (``cnt_row``), unless ``sp_ptr`` has steps (``sp_ptr.shape[0] == T``): then the messages
    themselves (spikes ``sp_idx[sp_ptr[k, s]:sp_ptr[k, s + 1]]``) OR their fan-out sets
    ``fan_words`` (n_in, ceil(n / 64)) into ``recv_words``, the neurons that received.
    """
    n_samples, n = v.shape
    T = modes.shape[0]
    n_full = n // 64
    use_words = sp_ptr.shape[0] == T and not full
    n_words = recv_words.shape[0]
    for s in range(n_samples):
        vs = v[s]
        for k in range(T):
            mode = modes[k]
            if mode < 0:
                continue
            if mode == 0:
                spikes = 0
                for j in range(n):
                    x = vs[j] + bias[j]
                    spiked = x > v_th[j]
                    if subtract:
                        vs[j] = x - v_th[j] if spiked else x
                    else:
                        vs[j] = v_reset[j] if spiked else x
                    fired[j] = spiked
                    spikes += spiked
                active = spikes
            else:
                start, stop = ev_ptr[k, s], ev_ptr[k, s + 1]
                if mode == 1 and use_words:
                    scatter_into(start, stop, ev_idx, ev_val, indptr, indices, data, cur_row)
                    for e in range(sp_ptr[k, s], sp_ptr[k, s + 1]):
                        i = sp_idx[e]
                        for w in range(n_words):
                            recv_words[w] |= fan_words[i, w]
                    unpack_bits(recv_words, marks_row)
                    base = base_cur[s]
                    for j in range(n):
                        cur_row[j] = base[j] + cur_row[j]
                    spikes, active = fire_row(vs, cur_row, marks_row, bias, v_th, v_reset, subtract, fired)
                elif mode == 1:
                    spikes, active = deviation_fire(start, stop, ev_idx, ev_val, indptr, indices, data, full,
                                                    has_input, any_rows[k, s] != 0 if full else False, base_cur[s],
                                                    base_cnt[0] if full else base_cnt[s], vs, cur_row, cnt_row,
                                                    marks_row, bias, v_th, v_reset, subtract, fired)
                else:
                    spikes, active = scatter_fire(start, stop, ev_idx, ev_val, indptr, indices, data, full, has_input,
                                                  vs, cur_row, marks_row, bias, v_th, v_reset, subtract, fired)
            n_active[k] += active
            if spikes:
                n_spikes[k] += spikes
                cs = counts[s]
                sc = step_counts[k]
                for j in range(n):  # vectorised
                    cs[j] += fired[j]
                    sc[j] += fired[j]
                words = out_words[s, k]
                for w in range(n_full):
                    acc = np.uint64(0)
                    for b in range(64):
                        acc |= np.uint64(fired[w * 64 + b]) << np.uint64(b)
                    words[w] = acc
                if n_full * 64 < n:
                    acc = np.uint64(0)
                    for b in range(n - n_full * 64):
                        acc |= np.uint64(fired[n_full * 64 + b]) << np.uint64(b)
                    words[n_full] = acc
    return 0


@_jit
def received_steps(words_in, fan_words, first, stop, received, acc):  # pragma: no cover - compiled
    """Received pairs of the next layer from the spikes of :func:`if_steps`, one sample at a time.

    ``words_in`` (N, T, ceil(n_in / 64)): the sending layer's spikes as packed bits;
    ``fan_words`` (n_in, n_words): each sender's fan-out set, packed; for every step ``first <= k <
    stop`` adds to ``received[k]`` the number of ``(s, j)`` reached by step ``k``'s spikes (the OR of
    their sets, counted). ``acc`` (n_words) uint64 scratch, zero. Sample by sample, the sets of
    the neurons that keep spiking stay in cache from one step to the next.
    """
    n_samples, T, n_in_words = words_in.shape
    n_words = fan_words.shape[1]
    for s in range(n_samples):
        for k in range(first, stop):
            any_spike = False
            for w in range(n_in_words):
                word = words_in[s, k, w]
                while word != 0:
                    i = w * 64 + _cttz64(word)
                    for b in range(n_words):
                        acc[b] |= fan_words[i, b]
                    word &= word - np.uint64(1)
                    any_spike = True
            if any_spike:
                count = 0
                for b in range(n_words):
                    count += _ctpop64(acc[b])
                    acc[b] = 0
                received[k] += count
    return 0


@_jit
def steps_events(flat, step_start, n_in, ptr, idx):  # pragma: no cover - compiled
    """Per-step, per-sample event lists of messages at sorted flat indices, all steps in one pass.

    ``flat[step_start[k]:step_start[k + 1]]``: step ``k``'s flat indices ``s * n_in + i``; writes
    ``idx[e] = i`` and ``ptr[k, s]`` (T, N + 1), the start of sample ``s``'s events of step ``k``
    in ``idx``. Steps with no message get empty lists.
    """
    T, n_rows = ptr.shape
    for k in range(T):
        start, stop = step_start[k], step_start[k + 1]
        row = 0
        ptr[k, 0] = start
        for e in range(start, stop):
            s = flat[e] // n_in
            idx[e] = flat[e] - s * n_in
            while row < s:
                row += 1
                ptr[k, row] = e
        while row < n_rows - 1:
            row += 1
            ptr[k, row] = stop
    return 0


@_jit
def steps_flat(out_words, n, step_start, flat):  # pragma: no cover - compiled
    """The spikes of :func:`if_steps` by step: ``flat[step_start[k]:step_start[k + 1]]`` holds the flat
    indices ``s * n + j`` of step ``k``'s spikes, sorted."""
    n_samples, T, n_words = out_words.shape
    pos = step_start[:-1].copy()
    for s in range(n_samples):
        for k in range(T):
            p = pos[k]
            for w in range(n_words):
                word = out_words[s, k, w]
                while word != 0:
                    flat[p] = s * n + w * 64 + _cttz64(word)
                    p += 1
                    word &= word - np.uint64(1)
            pos[k] = p
    return 0


@_jit
def received_bits(flat, n_in, words, acc):  # pragma: no cover - compiled
    """Distinct ``(s, j)`` reached by the synapses of the messages at sorted flat indices ``flat``.

    ``flat = s * n_in + i``; ``words`` (n_in, n_words) uint64: the fan-out set of each ``i`` as
    packed bits; ``acc`` (n_words) uint64 scratch, zero. Per sample the OR of its messages'
    sets, counted: work ~ messages x n_out / 64, without branches in the inner loop.
    """
    count = 0
    prev = -1
    n_words = words.shape[1]
    for e in range(flat.shape[0]):
        s = flat[e] // n_in
        i = flat[e] - s * n_in
        if s != prev:
            for b in range(n_words):
                count += _ctpop64(acc[b])
                acc[b] = 0
            prev = s
        for b in range(n_words):
            acc[b] |= words[i, b]
    for b in range(n_words):
        count += _ctpop64(acc[b])
        acc[b] = 0
    return count


@_jit
def reach_count(ev_ptr, ev_idx, indptr, indices, counts):  # pragma: no cover - compiled
    """``counts[s, j] += 1`` for every synapse ``i -> j`` of an event ``(s, i)``."""
    for s in range(ev_ptr.shape[0] - 1):
        for e in range(ev_ptr[s], ev_ptr[s + 1]):
            i = ev_idx[e]
            for p in range(indptr[i], indptr[i + 1]):
                counts[s, indices[p]] += 1
    return 0


@_jit
def regular_step(v, d, high, zero_drive, idx, count_c, spike_flat, dev_flat, dev_val, n_in, dev_ptr,
                 dev_col):  # pragma: no cover - compiled
    """One step of the ``regular`` input encoding over its stepped entries, in place.

    ``v += d``; a spike when ``v > 1``, then ``v -= 1``; ``count_c += spike``. Writes the flat
    indices ``idx`` of the spikes to ``spike_flat`` and of the deviations from the baseline
    ``high`` (a spike where not ``high``: +1; no spike where ``high``: -1) to ``dev_flat`` /
    ``dev_val``, and the deviations as per-sample event lists (``dev_ptr`` (N+1), ``dev_col``:
    their neuron indices; ``idx`` sorted, rows of ``n_in`` neurons). Returns ``(spikes,
    deviations, spikes of zero-drive entries)``.
    """
    n_samples = dev_ptr.shape[0] - 1
    row = 0
    dev_ptr[0] = 0
    n_spikes = 0
    n_dev = 0
    n_zero = 0
    for e in range(v.shape[0]):
        x = v[e] + d[e]
        spiked = x > 1.0
        if spiked:
            x = x - 1.0
            count_c[e] += 1
            spike_flat[n_spikes] = idx[e]
            n_spikes += 1
            if zero_drive[e]:
                n_zero += 1
        v[e] = x
        if spiked != high[e]:
            f = idx[e]
            s = f // n_in
            while row < s:
                row += 1
                dev_ptr[row] = n_dev
            dev_flat[n_dev] = f
            dev_col[n_dev] = f - s * n_in
            dev_val[n_dev] = 1.0 if spiked else -1.0
            n_dev += 1
    while row < n_samples:
        row += 1
        dev_ptr[row] = n_dev
    return n_spikes, n_dev, n_zero


@_jit
def add_counts(counts, flat):  # pragma: no cover - compiled
    """``counts[f] += 1`` for every (unique) flat index ``f`` of ``flat``; ``counts`` 1-D."""
    for f in flat:
        counts[f] += 1


def warm_up() -> float:
    """Load (or compile) every kernel for the argument types the engine passes, and set up what else
    a process sets up once (the chunks' BLAS thread control); seconds taken.

    A process pays this once, at its first simulation (about 1-2 s with numba's on-disk cache,
    several seconds when it compiles); benchmarks call it first to time the simulation alone.
    """
    import time

    from neurosim.backends.chunking import blas_controller

    start = time.perf_counter()
    blas_controller()
    if AVAILABLE:
        idx = np.zeros(2, dtype=np.int64)
        idx32 = np.zeros(2, dtype=np.int32)
        ptr = np.zeros(2, dtype=np.int64)
        vals = np.zeros(2)
        out = np.zeros((1, 2))
        marks = np.zeros((1, 2), dtype=np.uint8)
        scatter(ptr, idx, vals, np.zeros(3, dtype=np.int64), idx32, vals, out, marks, True)
        reach(ptr, idx, np.zeros(3, dtype=np.int64), idx32, marks)
        scatter_rows(out, np.zeros(3, dtype=np.int64), idx32, vals, out.copy())
        add_columns(np.zeros(2, dtype=np.int32), idx)
        for subtract in (True, False):
            if_update(out, out, True, vals, vals, vals, subtract, idx)
        for full in (True, False):
            scatter_if_update(ptr, idx, vals, np.zeros(3, dtype=np.int64), idx32, vals, full, marks[0], out, vals,
                              vals, vals, True, idx, vals.copy(), marks[0].copy(), marks[0].copy())
            deviation_if_update(ptr, idx, vals, np.zeros(3, dtype=np.int64), idx32, vals, full, marks[0],
                                marks[0], out, np.zeros((1, 2), dtype=np.int32), out, vals, vals, vals, True, idx,
                                vals.copy(), np.zeros(2, dtype=np.int32), marks[0].copy(), marks[0].copy())
        reach_count(ptr, idx, np.zeros(3, dtype=np.int64), idx32, np.zeros((1, 2), dtype=np.int32))
        received_bits(idx, 2, np.zeros((2, 1), dtype=np.uint64), np.zeros(1, dtype=np.uint64))
        flags = np.zeros(2, dtype=np.bool_)
        regular_step(vals.copy(), vals, flags, flags, idx, idx.copy(), idx.copy(), idx.copy(), vals.copy(), 2,
                     ptr.copy(), idx.copy())
        for dtype in (np.int8, np.int16, np.int32, np.float64):
            add_counts(np.zeros(2, dtype=dtype), idx)
        modes = np.array([-1, 0], dtype=np.int8)
        words = np.zeros((1, 2, 1), dtype=np.uint64)
        for dtype in (np.int8, np.int16, np.int32):  # the spike counts' types (chunking.count_dtype)
            if_steps(modes, np.zeros((2, 2), dtype=np.int64), idx, vals, np.zeros((1, 1), dtype=np.uint8),
                     np.zeros(3, dtype=np.int64), idx32, vals, False, marks[0], out, np.zeros((1, 2), dtype=np.int32),
                     out.copy(), vals, vals, vals, True, np.zeros((1, 2), dtype=dtype),
                     np.zeros((2, 2), dtype=np.int32), idx.copy(), idx.copy(), words, vals.copy(),
                     np.zeros(2, dtype=np.int32), marks[0].copy(), marks[0].copy(), np.zeros((2, 2), dtype=np.int64),
                     idx, np.zeros((2, 1), dtype=np.uint64), np.zeros(1, dtype=np.uint64))
        steps_flat(words, 2, np.zeros(3, dtype=np.int64), idx.copy())
        received_steps(words, np.zeros((2, 1), dtype=np.uint64), 0, 2, idx.copy(), np.zeros(1, dtype=np.uint64))
        steps_events(idx, np.zeros(3, dtype=np.int64), 2, np.zeros((2, 2), dtype=np.int64), idx.copy())
    return time.perf_counter() - start


def event_lists(flat: np.ndarray, values: np.ndarray, n_samples: int, n_in: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ev_ptr, ev_idx, ev_val)``: the sorted flat message indices as per-sample event lists."""
    rows, cols = np.divmod(flat, n_in)
    ptr = np.searchsorted(rows, np.arange(n_samples + 1)).astype(np.int64)
    return ptr, cols.astype(np.int64), np.ascontiguousarray(values, dtype=np.float64)
