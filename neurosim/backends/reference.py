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
* **Sparse storage.** A connection stored as CSR (:class:`neurosim.network.Connection`) is used
  through its CSR only: the engine builds the CSR of ``W^T`` from it (for the compiled kernels
  and the products) and never a dense ``W``, ``W^T`` or mask; its ``dense`` and ``events``
  products become CSR messages x CSR weights, with the additions in the same order as CSR
  messages x dense weights. A dense connection keeps every strategy.
* **Bounded memory, every core.** Samples stream through in chunks sized by a memory budget,
  several chunks at once on a thread pool (:mod:`neurosim.backends.chunking`); the weights
  and their sparse forms are built once per run and shared by the chunks.
* **Active-update counting** uses each presynaptic neuron's fan-out set as packed bits: the
  neurons reached in a sample are the OR of the sets of the neurons that spiked (work ~
  messages x n_out / 64); O(N) for a fully connected layer.
* **Per-step counts** (``step_counts``, summed over the samples) come from the indices or
  the nonzero pattern each step's messages already carry: a bincount of the flat indices
  modulo ``n`` or a column count, ``O(messages)`` or ``O(N n)`` per step.
* **Linear readout.** A ``readout`` is linear in its input, so the messages it receives are
  summed over the window and multiplied by ``W`` once: ``sum_k W m[k-1] = W sum_k m[k-1]``.
* **Layer by layer, sample by sample.** A layer reads only the layer before it, one step
  late, so with a ``regular`` input the engine computes the input's messages for every step
  first, then runs each integrate-and-fire layer over all its steps one sample at a time in
  one compiled call (the sample's membrane, current and marks stay in cache from step to
  step, its spike counts are added in the same pass), then the readout; each step keeps the
  strategy stepping would pick, so the record is the same. Other layers step as usual.

Determinism: the only randomness is the ``bernoulli`` input encoding, drawn from
``numpy.random.default_rng(seed)`` as an ``(N, n)`` array per step, as the contract says.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from neurosim.backends import BackendResult
from neurosim.backends import _kernels, chunking
from neurosim.backends.chunking import count_dtype
from neurosim.errors import ValidationError
from neurosim.network import SpikingNetwork
# the cost model, the messages and synapses (reference_synapses) and the neuron stages
# (reference_neurons), re-exported here under their historical names
from neurosim.backends.reference_synapses import (  # noqa: F401
    BITS_COST, EVENTS_COST, SCATTER_COST, SCATTER_FILL_COST, SPARSE_OP_COST, SPARSE_OUTPUT_COST, _NO_MARKS,
    _Baseline, _events, _Message, _POPCOUNT8, _Received, _scatter_rows, _Synapses)
from neurosim.backends.reference_neurons import (  # noqa: F401
    FUSED_IF, _BUILDERS, _build, _CubaLIF, _IF, _InputLayer, _LI, _LIF, _Readout, _SigmaDelta, _Stage,
    _Threshold, activation, quantize)

NAME = "reference"


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
        compiled event scatter through sparse weights. Same spikes. A connection stored sparse
        has no dense weights: 'never' and 'events' multiply by its CSR instead.
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
                         record=record, threads=threads, bytes_per_neuron=BYTES_PER_NEURON,
                         cache_bytes=CACHE_BYTES_PER_NEURON)
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
#: bytes per neuron and sample read or written at every step by the fused integrate-and-fire
#: kernels (membrane, baseline current and synapse count): sets the cache-sized chunks
CACHE_BYTES_PER_NEURON = 24


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
    step_counts = [np.zeros((T, layer.size), dtype=np.int32) for layer in layers]  # summed over the chunk's samples
    step_spikes = None if record is None else {
        layer.name: np.zeros((len(record), T, layer.size), dtype=bool) for layer in layers}

    steps = range(T)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="reference", unit="step", leave=False)
    # ahead[l]: layer l's messages and active updates at every step, computed before the loop
    ahead = _layers_ahead(source, stages, T, counts, step_counts, record is not None)
    # previous[l]: what layer l emitted at the previous step (None: nothing nonzero)
    previous: list[_Message | None] = [None] * L
    for k in steps:
        current: list[_Message | None] = [None] * L
        # each layer reads what the layer before it emitted at the previous step
        for l in range(min(k, L - 1), 0, -1):  # layer l is enabled from step l
            if l in ahead:
                current[l], n_active = ahead[l][0][k], ahead[l][1][k]
            else:
                current[l], n_active = stages[l - 1].step(previous[l - 1])
            active[l] += n_active
        current[0], n_active = (ahead[0][0][k], ahead[0][1][k]) if 0 in ahead else source.step(k)
        active[0] += n_active
        for l, msg in enumerate(current):
            if msg is None:
                continue
            if (l or not source.counts_itself) and not (l and l in ahead):  # ahead counted its own
                msg.add_counts(counts[l])
            if not (l and l in ahead):
                _add_step_counts(step_counts[l][k], msg)
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
                         step_spikes=step_spikes, step_counts=step_counts)


def _layers_ahead(source: _InputLayer, stages: list, T: int, counts: list[np.ndarray],
                  step_counts: list[np.ndarray], recording: bool = False) -> dict[int, tuple[list, list]]:
    """The first layers for every step at once, layer by layer, while each can run that way.

    A feed-forward layer reads only the layer before it, one step late, so layers can be run
    one after the other over all steps instead of all layers step by step. The ``regular``
    input's messages for every step are small (the spikes and deviations of bright pixels);
    an integrate-and-fire layer then runs all its steps one sample at a time, its state in
    cache, in one compiled call (:meth:`_IF.run_steps`, which adds its own spike counts), and
    a readout sums what it receives (:meth:`_Readout.run_steps`). Each step's strategy is
    the one stepping would pick, so the spikes are the same. Returns ``{layer: (messages,
    active updates)}`` per step; the step loop reads these layers from here and steps the rest.
    A layer's messages are only marked (not built) when no one reads them: no recorded spikes
    and a next layer that reads its spike bits.
    """
    if source.encoding != "regular" or not _kernels.AVAILABLE or T < 2:
        return {}
    inputs = [source.step(k) for k in range(T)]
    ahead = {0: ([m for m, _ in inputs], [a for _, a in inputs])}
    for l, stage in enumerate(stages, start=1):
        run_steps = getattr(stage, "run_steps", None)
        if run_steps is None:
            break
        # layer l reads layer l - 1 one step late, from step l on
        reads = [Ellipsis] * l + ahead[l - 1][0][l - 1:T - 1]
        # the layer before, when it ran ahead as integrate-and-fire: its spikes as bits, and counts
        words = getattr(stages[l - 2], "step_words", None) if l >= 2 else None
        after = stages[l] if l < len(stages) else None
        unread = not recording and (after is None or (isinstance(after, _Readout) and after.reads_bits))
        ran = run_steps(reads, counts[l], step_counts[l], sender=None if words is None else (words, counts[l - 1]),
                        unread=unread)
        if ran is None:
            break
        ahead[l] = ran
    return ahead


def _add_step_counts(row: np.ndarray, msg: _Message) -> None:
    """``row += (values != 0).sum(axis=0)``: this step's messages per neuron, summed over the samples."""
    if msg.flat is not None and _kernels.AVAILABLE:  # flat indices s * n + i of the nonzero messages
        _kernels.add_columns(row, msg.flat)
    elif msg.flat is not None:
        row += np.bincount(msg.flat % row.size, minlength=row.size).astype(np.int32, copy=False)
    else:
        row += np.count_nonzero(msg.nonzero, axis=0).astype(np.int32, copy=False)
