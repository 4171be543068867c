"""Streaming samples through a backend in chunks whose size is set by a memory budget.

A backend simulates ``C`` samples at once; its working memory is about
``C * bytes_per_neuron * sum_l n_l`` bytes (state, input current, messages of every layer),
so the chunk size

    C = floor(budget / (threads * bytes_per_neuron * sum_l n_l))

keeps peak memory set by the budget and the network, not by the number of samples ``N``.
An engine that states the bytes of state it touches per neuron at every step (``cache_bytes``)
also gets chunks of at most ``CACHE_BUDGET_MB / (cache_bytes * sum_{l>=1} n_l)`` samples, but
never fewer than ``MIN_CACHE_CHUNK``: a chunk's state then stays in the core's caches from one
step to the next, and the per-step overhead is still paid on enough samples.
Samples are independent, so chunking does not change any spike: the per-chunk results are
concatenated (counts, outputs, recorded step spikes) or summed (active updates, per-step
counts). The one
stream shared by all samples, the ``bernoulli`` input encoding (one ``(N, n)`` draw per
step from ``numpy.random.default_rng(seed)``), is drawn once for all ``N`` and kept
bit-packed (``T * N * n / 8`` bytes), so every chunk sees the spikes a single batch would.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from neurosim.backends import BackendResult
from neurosim.errors import ValidationError
from neurosim.network import SpikingNetwork

#: default working-memory budget of the simulation state, MiB
DEFAULT_BUDGET_MB = 512.0
#: fewest samples worth a chunk of their own for another thread
MIN_THREAD_CHUNK = 256
#: per-step state of a chunk that stays in cache (about the L2 and a share of the L3 of a core), MiB
CACHE_BUDGET_MB = 4.0
#: fewest samples of a chunk capped for the cache: below it per-step overhead dominates
MIN_CACHE_CHUNK = 128


def count_dtype(timesteps: int) -> np.dtype:
    """Smallest signed integer dtype that holds a count of up to ``timesteps`` spikes."""
    for dtype in (np.int8, np.int16, np.int32):
        if timesteps <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def check_record(record: Sequence[int] | None, num_samples: int) -> np.ndarray | None:
    """``record`` as an int64 array of sample indices, checked against ``num_samples``."""
    if record is None:
        return None
    idx = np.asarray(list(record) if not isinstance(record, np.ndarray) else record)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise ValidationError(f"record must be a list of sample indices, got {record!r}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= num_samples):
        raise ValidationError(f"record: sample indices must lie in [0, {num_samples}), got {idx.min()}..{idx.max()}")
    return idx


@dataclass
class ChunkPlan:
    """The ``(start, stop)`` sample ranges, the recorded samples and the threads to use."""

    bounds: list[tuple[int, int]]
    record: np.ndarray | None
    threads: int
    num_samples: int

    def local_record(self, start: int, stop: int) -> np.ndarray | None:
        """Indices (relative to ``start``) of the recorded samples that lie in ``start:stop``."""
        if self.record is None:
            return None
        inside = (self.record >= start) & (self.record < stop)
        return self.record[inside] - start


def chunk_size_for(network: SpikingNetwork, memory_budget_mb: float | None, threads: int,
                   bytes_per_neuron: float) -> int:
    """Samples per chunk so that ``threads`` chunks fit ``memory_budget_mb`` MiB (at least 1)."""
    budget = DEFAULT_BUDGET_MB if memory_budget_mb is None else float(memory_budget_mb)
    if not budget > 0:
        raise ValidationError(f"memory_budget_mb must be positive, got {memory_budget_mb}")
    per_sample = bytes_per_neuron * sum(layer.size for layer in network.layers)
    return max(1, int(budget * 2 ** 20 / (max(1, threads) * per_sample)))


def plan(network: SpikingNetwork, num_samples: int, timesteps: int, *, chunk_size: int | None,
         memory_budget_mb: float | None, record: Sequence[int] | None, threads: int | None,
         bytes_per_neuron: float, cache_bytes: float | None = None) -> ChunkPlan:
    """Chunk ``range(num_samples)`` (see the module docstring)."""
    threads = (os.cpu_count() or 1) if threads is None else int(threads)
    if threads <= 0:
        raise ValidationError(f"threads must be a positive number, got {threads}")
    if chunk_size is None:
        chunk_size = chunk_size_for(network, memory_budget_mb, threads, bytes_per_neuron)
        # no more chunks than needed to keep every thread busy, none too small to pay for a thread
        chunk_size = min(chunk_size, max(MIN_THREAD_CHUNK, -(-num_samples // threads)))
        if cache_bytes:  # the per-step state of a chunk kept in cache
            per_sample = cache_bytes * sum(layer.size for layer in network.layers[1:])
            chunk_size = min(chunk_size, max(MIN_CACHE_CHUNK, int(CACHE_BUDGET_MB * 2 ** 20 / per_sample)))
        # as many chunks per thread for every thread: the last round keeps every core busy
        n_chunks = -(-num_samples // chunk_size)
        if n_chunks > threads:
            n_chunks = -(-n_chunks // threads) * threads
            chunk_size = -(-num_samples // n_chunks)
    chunk_size = int(chunk_size)
    if chunk_size <= 0:
        raise ValidationError(f"chunk_size must be a positive number of samples, got {chunk_size}")
    bounds = [(s, min(s + chunk_size, num_samples)) for s in range(0, num_samples, chunk_size)] or [(0, 0)]
    return ChunkPlan(bounds, check_record(record, num_samples), min(threads, len(bounds)), num_samples)


def input_stream(network: SpikingNetwork, x: np.ndarray, timesteps: int, seed: int, n_chunks: int,
                 bits: np.ndarray | None = None):
    """The pre-drawn ``bernoulli`` stream when there is more than one chunk, else None.

    ``bits`` (T, N, ceil(n/8)) uint8: the stream of these samples, bit-packed, as drawn for a
    larger set (a shard of :mod:`neurosim.sharding`); used instead of drawing.
    """
    if network.layers[0].options.get("encoding") != "bernoulli":
        return None
    from neurosim.backends._batch import BernoulliStream

    n = network.layers[0].size
    if bits is not None:
        bits = np.asarray(bits, dtype=np.uint8)
        if bits.shape != (timesteps, x.shape[0], (n + 7) // 8):
            raise ValidationError(f"bernoulli_bits must have shape {(timesteps, x.shape[0], (n + 7) // 8)}, "
                                  f"got {bits.shape}")
        stream = BernoulliStream.__new__(BernoulliStream)
        stream.n, stream.packed = n, bits
        return stream
    if n_chunks <= 1:
        return None
    return BernoulliStream(network.layers[0], x, timesteps, seed)


def run_chunks(one: Callable[[tuple[int, int]], BackendResult], chunk_plan: ChunkPlan, network: SpikingNetwork,
               timesteps: int, *, progress: bool = False, desc: str = "chunks") -> BackendResult:
    """Run ``one(bounds)`` on every chunk (``chunk_plan.threads`` at a time) and merge."""
    bounds = chunk_plan.bounds
    bar = None
    if progress and len(bounds) > 1:
        from tqdm import tqdm

        bar = tqdm(total=chunk_plan.num_samples, desc=desc, unit="sample", leave=False)
    results: list[BackendResult] = []

    def done(res: BackendResult, b: tuple[int, int]) -> BackendResult:
        if bar is not None:
            bar.update(b[1] - b[0])
        return res

    if chunk_plan.threads > 1:
        # one BLAS thread per chunk: the chunks themselves use the cores
        with blas_controller().limit(limits=1, user_api="blas"), ThreadPoolExecutor(chunk_plan.threads) as pool:
            futures = [(pool.submit(one, b), b) for b in bounds]
            results = [done(f.result(), b) for f, b in futures]
    else:
        results = [done(one(b), b) for b in bounds]
    if bar is not None:
        bar.close()
    return merge(results, chunk_plan, network, timesteps)


@functools.lru_cache(maxsize=1)
def blas_controller():
    """threadpoolctl's view of the BLAS libraries, built once per process (it inspects every loaded
    library: tens of ms with torch and scipy loaded)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def merge(results: list[BackendResult], chunk_plan: ChunkPlan, network: SpikingNetwork,
          timesteps: int) -> BackendResult:
    """One :class:`BackendResult` from the chunks' results, in sample order."""
    if len(results) == 1:
        res = results[0]
        res.info["chunks"] = 1
        res.info["chunk_size"] = chunk_plan.bounds[0][1] - chunk_plan.bounds[0][0]
        return res
    n_layers = len(network.layers)
    counts = [np.concatenate([r.spike_counts[l] for r in results]) for l in range(n_layers)]
    active = [int(sum(r.active_updates[l] for r in results)) for l in range(n_layers)]
    outputs = np.concatenate([r.outputs for r in results])
    step_spikes = None
    if chunk_plan.record is not None:
        step_spikes = {layer.name: np.zeros((len(chunk_plan.record), timesteps, layer.size), dtype=bool)
                       for layer in network.layers}
        for (start, stop), r in zip(chunk_plan.bounds, results):
            where = np.flatnonzero((chunk_plan.record >= start) & (chunk_plan.record < stop))
            for name, arr in (r.step_spikes or {}).items():
                step_spikes[name][where] = arr
    info = dict(results[0].info)
    if "products" in info:
        info["products"] = {name: {k: sum(r.info["products"][name][k] for r in results) for k in stats}
                            for name, stats in info["products"].items()}
    info["chunks"] = len(results)
    info["chunk_size"] = chunk_plan.bounds[0][1] - chunk_plan.bounds[0][0]
    step_counts = None  # summed over the chunks, when every chunk measured them
    if all(r.step_counts is not None for r in results):
        step_counts = [np.sum([r.step_counts[l] for r in results], axis=0, dtype=np.int32) for l in range(n_layers)]
    return BackendResult(spike_counts=counts, active_updates=active, outputs=outputs, info=info,
                         step_spikes=step_spikes, step_counts=step_counts)
