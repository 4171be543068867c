"""Helpers shared by the simulator backends that run a batch of samples as parallel copies.

The brian2 and lava backends simulate ``C`` samples at once as ``C`` side-by-side copies of
every layer (population index ``s * n + i`` for sample ``s`` and neuron ``i``) joined by
block-diagonal synapses, one chunk of samples after another. What both need besides the
simulator itself lives here, written once: option checking, the chunking, the exact input
random stream of the ``bernoulli`` encoding, payload quantisation, the block-diagonal
synapse indices and the decoding of outputs (all per :mod:`neurosim.network`).
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from neurosim.errors import UnsupportedNodeError, ValidationError
from neurosim.backends import reference
from neurosim.network import Connection, Layer, SpikingNetwork

#: memory budget (entries) of one chunk's (T, C, n_input) input raster; sets the default chunk
RASTER_BUDGET = 8_000_000


def check_options(backend: str, options: dict[str, Any], known: Iterable[str]) -> None:
    """Raise a one-line :class:`ValidationError` for an option ``backend`` does not know."""
    known = tuple(known)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValidationError(f"backend {backend!r}: unknown option(s) {', '.join(map(repr, unknown))} "
                              f"(known: {', '.join(known) or 'none'})")


def check_kinds(backend: str, network: SpikingNetwork, supported: Iterable[str]) -> None:
    """One-line :class:`UnsupportedNodeError` for the first layer ``backend`` cannot build."""
    supported = set(supported)
    for layer in network.layers:
        if layer.kind not in supported:
            raise UnsupportedNodeError(f"cannot build layer {layer.name!r} of kind {layer.kind} on backend {backend}")


def chunk_bounds(num_samples: int, chunk_size: int | None, network: SpikingNetwork,
                 timesteps: int) -> list[tuple[int, int]]:
    """Split ``range(num_samples)`` into ``(start, stop)`` chunks of at most ``chunk_size``.

    The default size keeps one chunk's input raster (T x C x n_input) under
    :data:`RASTER_BUDGET` entries.
    """
    if chunk_size is None:
        chunk_size = max(1, RASTER_BUDGET // max(1, timesteps * network.input_size))
    chunk_size = int(chunk_size)
    if chunk_size <= 0:
        raise ValidationError(f"chunk_size must be a positive number of samples, got {chunk_size}")
    return [(s, min(s + chunk_size, num_samples)) for s in range(0, num_samples, chunk_size)]


def quantize(values: np.ndarray, step: float) -> np.ndarray:
    """``round(p / step) * step`` (numpy's round half to even); ``step == 0`` -> ``values``.

    The reference engine's own function, so that every backend quantises the same way.
    """
    return reference.quantize(np.asarray(values, dtype=np.float64), step)


def payload_step(layer: Layer) -> float:
    return float(layer.options.get("payload_step", 0.0) or 0.0)


def input_drive(layer: Layer, inputs: np.ndarray) -> np.ndarray:
    """``gain * x`` per sample and input neuron, (N, n) float64."""
    return layer.params["gain"][None, :] * inputs


class BernoulliStream:
    """The ``bernoulli`` input spikes of all samples, from the reference engine's stream.

    ``numpy.random.default_rng(seed)`` draws one ``(N, n)`` array of uniforms per step
    ``k = 0 .. T-1`` for all ``N`` samples; neuron ``i`` of sample ``s`` spikes at step ``k``
    when its draw is below ``p = clip(gain * x, 0, 1)``. The spikes are kept bit-packed so a
    chunk of samples can be taken out without redrawing the stream.
    """

    def __init__(self, layer: Layer, inputs: np.ndarray, timesteps: int, seed: int) -> None:
        p = np.clip(input_drive(layer, inputs), 0.0, 1.0)
        rng = np.random.default_rng(seed)
        self.n = layer.size
        self.packed = np.empty((timesteps, inputs.shape[0], (layer.size + 7) // 8), dtype=np.uint8)
        for k in range(timesteps):
            self.packed[k] = np.packbits(rng.random(p.shape) < p, axis=-1)

    def chunk(self, start: int, stop: int) -> np.ndarray:
        """Spikes of samples ``start:stop`` as a bool array (T, stop - start, n)."""
        return np.unpackbits(self.packed[:, start:stop], axis=-1, count=self.n).astype(bool)


def block_diagonal_indices(connection: Connection, copies: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pre index, post index and weight of every existing synapse of ``copies`` copies.

    Synapse ``(j <- i)`` of copy ``s`` joins presynaptic ``s * n_in + i`` to postsynaptic
    ``s * n_out + j``; absent synapses (zero weights) stay absent. Read from the connection's
    CSR (row-major order, as ``np.nonzero`` of the dense weights), never densified.
    """
    n_out, n_in = connection.shape
    w = connection.csr()
    post = np.repeat(np.arange(n_out, dtype=np.int64), np.diff(w.indptr))
    pre = w.indices.astype(np.int64)
    offsets = np.arange(copies, dtype=np.int64)[:, None]
    pre_idx = (offsets * n_in + pre[None, :]).ravel()
    post_idx = (offsets * n_out + post[None, :]).ravel()
    return pre_idx, post_idx, np.tile(w.data, copies)


def decode_outputs(network: SpikingNetwork, timesteps: int, counts: np.ndarray,
                   state_sum: np.ndarray | None) -> np.ndarray:
    """Decoded outputs (N, d_out) of the last layer (see :mod:`neurosim.network`).

    ``counts`` are the last layer's spike counts. ``state_sum`` is, for a ``readout``, its
    ``sigma`` (the sum over its window of ``W @ m``, bias excluded) and, for ``li``, the
    membrane summed over the window.
    """
    last = network.layers[-1]
    window = timesteps - (len(network.layers) - 1)
    if last.kind == "readout":
        bias = last.connection.bias[None, :]
        if last.options.get("decode", "mean") == "sum":
            value = last.params["scale"][None, :] * (state_sum + bias)
        else:
            value = last.params["scale"][None, :] * (state_sum + window * bias) / window
        return reference.activation(value, last.options.get("activation", "identity"))
    if last.kind == "li":
        return state_sum / window
    return counts.astype(np.float64) / window

