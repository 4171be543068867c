"""Sharded simulation: samples split into shards, each simulated on a Dask worker, merged into one record.

The samples ``0 .. N-1`` are cut into contiguous shards on the chunk boundaries that a
single-process run of the same backend would use (:func:`neurosim.backends.chunking.plan`),
and every shard runs with that chunk size. Each chunk therefore sees exactly the samples,
and the ``bernoulli`` input spikes (drawn once here, for all ``N``, and shipped bit-packed
with the shard), that it would see in one process, so the merged record is identical:
same spike counts, same synaptic operations and active updates, same outputs, same per-step
counts (the shards' ``step_counts`` are summed).

A shard that fails is retried (``retries`` times, on any worker); a tqdm bar counts
finished samples. The cluster comes from :mod:`neurosim.cluster`.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Sequence

import numpy as np

from neurosim.errors import ValidationError
from neurosim.network import SpikingNetwork

#: backends whose chunks are independent of the process they run in
SHARDABLE = ("reference", "torch")


def shard_bounds(chunk_bounds: list[tuple[int, int]], shards: int) -> list[tuple[int, int]]:
    """Group consecutive chunks into at most ``shards`` contiguous ``(start, stop)`` ranges."""
    groups = np.array_split(np.arange(len(chunk_bounds)), max(1, min(int(shards), len(chunk_bounds))))
    return [(chunk_bounds[g[0]][0], chunk_bounds[g[-1]][1]) for g in groups if len(g)]


def run_sharded(client, network: SpikingNetwork, inputs: np.ndarray, timesteps: int, *, backend: str = "reference",
                seed: int = 0, shards: int | None = None, retries: int = 2, progress: bool = True,
                record: Sequence[int] | None = None, **options: Any):
    """Simulate ``inputs`` (N, d_in) on the workers of ``client``; one merged ``BackendResult``.

    Parameters
    ----------
    client : dask.distributed.Client
    network, inputs, timesteps, seed : as :func:`neurosim.backends.simulate`
    backend : {'reference', 'torch'}
    shards : int, optional
        Number of shards (default: two per worker, at most one per chunk).
    retries : int
        Times a failed shard is resubmitted before the run fails.
    progress : bool
        A tqdm bar over the samples of finished shards.
    record : sequence of int, optional
        Samples whose per-step spikes are returned (global indices).
    **options
        Backend options (``chunk_size``, ``memory_budget_mb``, ``dtype``, ``device``, ...).
    """
    from neurosim.backends import BACKENDS, chunking

    if backend not in SHARDABLE:
        raise ValidationError(f"sharding runs the {' or '.join(SHARDABLE)} backend, got {backend!r}")
    if int(retries) < 0:
        raise ValidationError(f"retries must be >= 0, got {retries}")
    options.pop("progress", None)
    options.pop("threads", None)
    module = importlib.import_module(BACKENDS[backend])
    x = np.asarray(inputs, dtype=np.float64)
    T = int(timesteps)
    # the chunks a single process would run: reference splits them over its cores, torch runs them in turn
    local_threads = (os.cpu_count() or 1) if backend == "reference" else 1
    plan = chunking.plan(network, x.shape[0], T, chunk_size=options.pop("chunk_size", None),
                         memory_budget_mb=options.pop("memory_budget_mb", None), record=record,
                         threads=local_threads, bytes_per_neuron=module.BYTES_PER_NEURON,
                         cache_bytes=getattr(module, "CACHE_BYTES_PER_NEURON", None))
    chunk_size = plan.bounds[0][1] - plan.bounds[0][0]
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    bounds = shard_bounds(plan.bounds, 2 * n_workers if shards is None else shards)
    stream = chunking.input_stream(network, x, T, seed, n_chunks=2)  # bernoulli: drawn once, for all N
    net_future = client.scatter(network, broadcast=True)
    futures = {}
    for start, stop in bounds:
        bits = None if stream is None else np.ascontiguousarray(stream.packed[:, start:stop])
        fut = client.submit(_run_shard, backend, net_future, x[start:stop], T, seed, chunk_size,
                            plan.local_record(start, stop), bits, options, retries=int(retries), pure=False)
        futures[fut] = (start, stop)
    results = _gather(futures, x.shape[0], progress)
    shard_plan = chunking.ChunkPlan([b for b in bounds], plan.record, 1, x.shape[0])
    merged = chunking.merge([results[b] for b in bounds], shard_plan, network, T)
    merged.info.update({"shards": len(bounds), "workers": n_workers, "chunk_size": chunk_size,
                        "chunks": len(plan.bounds)})
    return merged


def _gather(futures: dict, n_samples: int, progress: bool) -> dict:
    from dask.distributed import as_completed

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_samples, desc="shards", unit="sample", leave=False)
    out = {}
    try:
        for fut in as_completed(list(futures)):
            bounds = futures[fut]
            out[bounds] = fut.result()
            if bar is not None:
                bar.update(bounds[1] - bounds[0])
    finally:
        if bar is not None:
            bar.close()
    return out


def _run_shard(backend: str, network: SpikingNetwork, x: np.ndarray, timesteps: int, seed: int, chunk_size: int,
               record: np.ndarray | None, bernoulli_bits: np.ndarray | None, options: dict[str, Any]):
    """One shard on a worker: the backend's ``run`` with the single-process chunk size."""
    from neurosim.backends import get_backend

    module = get_backend(backend)
    return module.run(network, x, timesteps, seed=seed, chunk_size=chunk_size, threads=1,
                      record=None if record is None else record.tolist(), bernoulli_bits=bernoulli_bits, **options)
