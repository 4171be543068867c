"""Simulator backends: one interface, registered by name.

Each backend module exposes::

    NAME: str
    def available() -> str | None            # None when usable, else how to install it
    def version() -> str
    def run(network, inputs, timesteps, *, seed=0, **options) -> BackendResult

and follows the discrete-time semantics of :mod:`neurosim.network`. :func:`simulate`
turns a :class:`BackendResult` into the shared :class:`~neurosim.activity.ActivityRecord`
(synaptic operations and neuron updates are derived here, once, for every backend).
"""
from __future__ import annotations

import functools
import importlib
import platform
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurosim.activity import ActivityRecord, LayerActivity
from neurosim.defaults import check_timesteps
from neurosim.errors import BackendUnavailableError, ValidationError
from neurosim.network import SpikingNetwork

#: backend name -> module implementing it
BACKENDS = {
    "reference": "neurosim.backends.reference",
    "brian2": "neurosim.backends.brian2_backend",
    "lava": "neurosim.backends.lava_backend",
    "torch": "neurosim.backends.torch_backend",
}


@dataclass
class BackendResult:
    """What a backend measured; everything else in a record is derived from it.

    ``spike_counts[l]`` (N, n_l) int: nonzero messages emitted per sample and neuron.
    ``active_updates[l]`` int: neuron-steps of layer l with nonzero input or a spike (all samples).
    ``outputs`` (N, d_out): decoded outputs (see :mod:`neurosim.network`).
    ``step_spikes`` (only when the run was asked to ``record=[sample indices]``): layer name ->
    bool (len(record), T, n_l), True where the neuron emitted a nonzero message at that step.
    ``step_counts[l]`` (T, n_l) int32: nonzero messages of each neuron at each step, summed over
    all samples (zeros before the layer is enabled); None where the backend does not measure
    it. Chunks and shards add theirs (:func:`neurosim.backends.chunking.merge`).
    """

    spike_counts: list[np.ndarray]
    active_updates: list[int]
    outputs: np.ndarray
    info: dict[str, Any]
    step_spikes: dict[str, np.ndarray] | None = None
    step_counts: list[np.ndarray] | None = None


def get_backend(name: str):
    if name not in BACKENDS:
        raise BackendUnavailableError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
    module = importlib.import_module(BACKENDS[name])
    problem = module.available()
    if problem:
        raise BackendUnavailableError(f"backend {name!r} is not usable: {problem}")
    return module


def simulate(network: SpikingNetwork, inputs: np.ndarray, timesteps: int, *, backend: str = "reference",
             seed: int = 0, labels: np.ndarray | None = None, ann_outputs: np.ndarray | None = None,
             info: dict[str, Any] | None = None, workers: int | None = None, scheduler: str | None = None,
             shards: int | None = None, **options: Any) -> ActivityRecord:
    """Simulate ``inputs`` (N, d_in) for ``timesteps`` steps on ``backend``; return the record.

    ``options`` go to the backend, e.g. ``record=[0, 5]`` (reference, torch, brian2, lava):
    the per-step spikes of samples 0 and 5 in ``record.step_spikes`` (layer name -> bool
    (2, T, n_l)). Backends that measure it also fill each layer's ``step_counts`` (T, n_l):
    spikes per step, summed over the samples. Spike counts are stored in the smallest signed integer type that holds
    ``T`` (:func:`neurosim.backends.chunking.count_dtype`).

    ``workers=N`` shards the samples over a new Dask ``LocalCluster`` of ``N`` processes,
    ``scheduler='tcp://host:8786'`` over an existing cluster (:mod:`neurosim.sharding`;
    reference and torch backends); the record is the one a single process computes.
    """
    from neurosim.backends.chunking import count_dtype

    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 2 or inputs.shape[1] != network.input_size:
        raise ValidationError(f"inputs must have shape (N, {network.input_size}), got {inputs.shape}")
    timesteps = check_timesteps(timesteps, len(network.layers))
    module = get_backend(backend)
    start = time.perf_counter()
    if workers is not None or scheduler is not None:
        from neurosim.cluster import cluster
        from neurosim.sharding import run_sharded

        with cluster(workers=workers, scheduler=scheduler) as client:
            result = run_sharded(client, network, inputs, int(timesteps), backend=backend, seed=seed, shards=shards,
                                 **options)
    else:
        if shards is not None:
            raise ValidationError("shards needs a cluster: give workers or scheduler too")
        result = module.run(network, inputs, int(timesteps), seed=seed, **options)
    wall = time.perf_counter() - start
    n_samples = inputs.shape[0]
    layers = []
    for l, layer in enumerate(network.layers):
        counts = np.asarray(result.spike_counts[l], dtype=count_dtype(int(timesteps)))
        fan_out = network.fan_out(l)
        window = int(timesteps) - l
        layers.append(LayerActivity(
            name=layer.name, kind=layer.kind, size=layer.size, window=window, spike_counts=counts,
            synaptic_ops=int(counts.sum(axis=0, dtype=np.int64) @ fan_out), neuron_updates=n_samples * layer.size * window,
            active_neuron_updates=int(result.active_updates[l]), fan_out=fan_out,
            step_counts=None if result.step_counts is None else np.asarray(result.step_counts[l], dtype=np.int32)))
    return ActivityRecord(
        backend=backend, backend_version=module.version(), timesteps=int(timesteps), dt_s=network.dt_s,
        layers=layers, outputs=np.asarray(result.outputs, dtype=np.float64), inputs=inputs,
        connections=[layer.connection.mask for layer in network.layers[1:]], wall_time_s=wall,
        network=network.summary(), labels=labels, ann_outputs=ann_outputs, versions=package_versions(),
        info={**(info or {}), **result.info, "seed": seed}, step_spikes=result.step_spikes)


def package_versions() -> dict[str, str]:
    return dict(_installed_versions())


@functools.lru_cache(maxsize=1)
def _installed_versions() -> tuple[tuple[str, str], ...]:
    """Read once per process: the package metadata scan takes several ms per call."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("neurosim", "numpy", "torch", "nir", "brian2", "lava-nc"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return tuple(out.items())
