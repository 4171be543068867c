"""PyTorch backend: the semantics of :mod:`neurosim.network` on CPU threads or a CUDA device.

Every sample of a chunk runs at once as a ``(C, n_l)`` tensor per layer and state variable;
the chunk size comes from a memory budget (:mod:`neurosim.backends.chunking`), so peak
memory is set by the chunk and the network, not by the number of samples. Synaptic input
``I[k] = W @ m[k-1] + b`` is computed per layer and step by the cheaper of two products,
chosen from the measured activity:

* ``dense``: ``m @ W^T`` over the samples that carry a message (BLAS / cuBLAS), work
  ``C_active x n_in x n_out``;
* ``events``: the weight rows of the ``E`` (sample, neuron) pairs that emitted, summed per
  sample (``embedding_bag``), work ``E x n_out``.

Active-update counting uses the same product on the synapse mask (``(m != 0) @ M^T > 0``:
a neuron *received* when a presynaptic neuron joined to it by a nonzero synapse emitted),
or, for a fully connected layer, whether the sample carried any message at all.

Weights are dense tensors: a connection stored as CSR (:class:`neurosim.network.Connection`)
is densified once per run, ``W^T`` built straight from its CSR, and its mask beside it.

``dtype`` is float64 by default: spike counts then match the reference engine (the only
difference is the order of floating-point additions inside a product, which decides a
threshold comparison only on exact ties). ``float32`` halves memory traffic; its
agreement with the reference engine is measured in ``experiments/bench_scale.py``. The
``bernoulli`` input stream is the reference engine's (numpy), copied to the device.

Options
-------
device : str
    ``'cpu'`` (default) or ``'cuda'`` / ``'cuda:N'`` where a GPU is present.
dtype : {'float64', 'float32'}
record : sequence of int
    Samples whose per-step spikes are returned (``BackendResult.step_spikes``). The per-step
    counts summed over all samples (``BackendResult.step_counts``) are always returned.
chunk_size, memory_budget_mb : int, float
    See :mod:`neurosim.backends.chunking`.
product : {'auto', 'dense', 'events'}
    Synaptic product: chosen per layer and step by the work model ('auto'), or forced.
threads : int
    Torch intra-op threads (default: every core).
progress : bool
    A tqdm bar over the chunks.
bernoulli_bits : ndarray (T, N, ceil(n/8)) uint8
    Pre-drawn ``bernoulli`` input spikes (a shard of :mod:`neurosim.sharding`).
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from neurosim.backends import BackendResult, chunking
from neurosim.backends._batch import check_kinds, decode_outputs
from neurosim.backends.dynamics import cuba_step, leaky_step
from neurosim.errors import BackendUnavailableError, ValidationError
from neurosim.network import Layer, SpikingNetwork

NAME = "torch"
KINDS = ("input", "if", "lif", "cuba_lif", "li", "sigma_delta", "readout")
DTYPES = ("float64", "float32")
PRODUCTS = ("auto", "dense", "events")
#: bytes of simulation state per neuron and sample of a chunk
BYTES_PER_NEURON = 96
#: cost of one gathered weight-row element relative to one dense multiply-add
EVENTS_COST = 4.0


def available() -> str | None:
    try:
        import torch  # noqa: F401
    except ImportError:
        return "pip install torch"
    return None


def version() -> str:
    import torch

    return torch.__version__


def resolve_device(device: str | None):
    """``torch.device`` for ``device``; a one-line error when CUDA is asked for and absent."""
    import torch

    name = device or "cpu"
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValidationError(f"torch backend: unknown device {name!r} (use 'cpu' or 'cuda')") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailableError(f"torch backend: device {name!r} asked for, but torch sees no CUDA device")
    return dev


def run(network: SpikingNetwork, inputs: np.ndarray, timesteps: int, *, seed: int = 0, device: str = "cpu",
        dtype: str = "float64", record: Sequence[int] | None = None, chunk_size: int | None = None,
        memory_budget_mb: float | None = None, threads: int | None = None, progress: bool = False,
        bernoulli_bits: np.ndarray | None = None, product: str = "auto", **options: Any) -> BackendResult:
    """Simulate ``inputs`` (N, d_in) for ``timesteps`` steps; see the module docstring."""
    import torch

    if options:
        raise ValidationError(f"torch backend: unknown option(s) {sorted(options)} (known: device, dtype, product, "
                              "record, chunk_size, memory_budget_mb, threads, progress)")
    if product not in PRODUCTS:
        raise ValidationError(f"torch backend: product must be one of {', '.join(PRODUCTS)}, got {product!r}")
    if dtype not in DTYPES:
        raise ValidationError(f"torch backend: dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    check_kinds(NAME, network, KINDS)
    dev = resolve_device(device)
    tdtype = getattr(torch, dtype)
    if threads is not None:
        if int(threads) <= 0:
            raise ValidationError(f"torch backend: threads must be positive, got {threads}")
        torch.set_num_threads(int(threads))
    elif dev.type == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    x = np.asarray(inputs, dtype=np.float64)
    T = int(timesteps)
    # one chunk at a time: torch's own threads (or the GPU) use the cores
    plan = chunking.plan(network, x.shape[0], T, chunk_size=chunk_size, memory_budget_mb=memory_budget_mb,
                         record=record, threads=1, bytes_per_neuron=BYTES_PER_NEURON)
    stream = chunking.input_stream(network, x, T, seed, len(plan.bounds), bernoulli_bits)
    model = _Model(network, dev, tdtype, product)

    def one(bounds: tuple[int, int]) -> BackendResult:
        start, stop = bounds
        raster = None if stream is None else stream.chunk(start, stop)
        with torch.no_grad():
            return model.run(x[start:stop], T, seed, raster, plan.local_record(start, stop))

    result = chunking.run_chunks(one, plan, network, T, progress=progress, desc="torch")
    result.info.update({"engine": "torch", "dtype": dtype, "device": str(dev), "torch_threads": torch.get_num_threads()})
    return result


class _Synapses:
    """``W`` (n_out, n_in) on the device, with the dense and events products."""

    def __init__(self, layer: Layer, dev, dtype, product: str = "auto"):
        import torch

        self.product = product
        conn = layer.connection
        self.n_out, self.n_in = conn.shape
        # dense W^T on the device; a sparse connection is densified once, transposed from its CSR
        wt = conn.csr().T.toarray(order="C") if conn.is_sparse else np.ascontiguousarray(conn.dense().T)
        self.wt = torch.as_tensor(wt, dtype=dtype, device=dev)  # (n_in, n_out)
        fan_in = conn.fan_in()
        self.has_input = torch.as_tensor(fan_in > 0, device=dev)
        self.full = bool((fan_in[fan_in > 0] == self.n_in).all())
        self.mask_t = None if self.full else torch.as_tensor(wt != 0, dtype=dtype, device=dev)
        del wt
        self.bias = torch.as_tensor(layer.connection.bias, dtype=dtype, device=dev)[None, :]
        self.stats = {"dense": 0, "events": 0, "skipped": 0}

    def receive(self, m, want_current: bool = True):
        """``(W @ m, received)`` (C, n_out) for messages ``m`` (C, n_in); ``(None, None)`` if none."""
        import torch

        nz = m != 0
        rows = nz.any(dim=1)
        n_rows = int(rows.sum())
        if n_rows == 0:
            self.stats["skipped"] += 1
            return None, None
        n_events = int(nz.sum())
        dense_work = n_rows * self.n_in * self.n_out
        events_work = EVENTS_COST * n_events * self.n_out
        if self.product == "events" or (self.product == "auto" and events_work < dense_work):
            self.stats["events"] += 1
            from torch.nn.functional import embedding_bag

            # events sorted by sample: one bag of weight rows per sample, summed in increasing i
            s, i = nz.nonzero(as_tuple=True)
            offsets = torch.searchsorted(s, torch.arange(m.shape[0], device=m.device))
            cur = embedding_bag(i, self.wt, offsets, mode="sum", per_sample_weights=m[s, i]) if want_current \
                else None
            if self.full:
                rec = rows[:, None] & self.has_input[None, :]
            else:
                rec = embedding_bag(i, self.mask_t, offsets, mode="sum") > 0.5
            return cur, rec
        self.stats["dense"] += 1
        cur = m @ self.wt if want_current else None
        if self.full:
            rec = rows[:, None] & self.has_input[None, :]
        else:
            rec = (nz.to(m.dtype) @ self.mask_t) > 0.5
        return cur, rec


class _Model:
    """The network lowered to tensors; :meth:`run` simulates one chunk."""

    def __init__(self, network: SpikingNetwork, dev, dtype, product: str = "auto"):
        self.network, self.dev, self.dtype = network, dev, dtype
        self.syn = [_Synapses(layer, dev, dtype, product) for layer in network.layers[1:]]

    def tensor(self, value) -> Any:
        import torch

        return torch.tensor(np.array(value, dtype=np.float64), dtype=self.dtype, device=self.dev)

    def run(self, x: np.ndarray, T: int, seed: int, raster: np.ndarray | None,
            record: np.ndarray | None) -> BackendResult:
        import torch

        net, dev, dt = self.network, self.dev, self.dtype
        layers = net.layers
        L = len(layers)
        C = x.shape[0]
        cdtype = torch.int16 if chunking.count_dtype(T).itemsize <= 2 else torch.int32
        counts = [torch.zeros((C, layer.size), dtype=cdtype, device=dev) for layer in layers]
        active = [torch.zeros((), dtype=torch.int64, device=dev) for _ in layers]
        step_counts = [torch.zeros((T, layer.size), dtype=torch.int32, device=dev) for layer in layers]
        rec_idx = None if record is None else torch.as_tensor(record, dtype=torch.int64, device=dev)
        step_spikes = None if record is None else [
            torch.zeros((len(record), T, layer.size), dtype=torch.bool, device=dev) for layer in layers]
        for s in self.syn:
            s.stats = {k: 0 for k in s.stats}

        source = _Input(layers[0], x, seed, raster, self)
        stages = [_STAGES[layer.kind](layer, syn, C, net.dt_s, self) for layer, syn in zip(layers[1:], self.syn)]
        previous: list[Any] = [None] * L
        for k in range(T):
            current: list[Any] = [None] * L
            for l in range(min(k, L - 1), 0, -1):  # layer l is enabled from step l
                current[l], n_active = stages[l - 1].step(previous[l - 1])
                active[l] += n_active
            current[0], n_active = source.step(k)
            active[0] += n_active
            for l, msg in enumerate(current):
                if msg is None:
                    continue
                nz = msg != 0
                counts[l] += nz
                step_counts[l][k] = nz.sum(dim=0, dtype=torch.int32)
                if step_spikes is not None:
                    step_spikes[l][:, k] = nz[rec_idx]
            previous = current
        window = T - (L - 1)
        np_counts = [c.cpu().numpy() for c in counts]
        last = layers[-1]
        if window <= 0:
            outputs = np.zeros((C, last.size))
        else:
            state_sum = stages[-1].state_sum()
            state_sum = None if state_sum is None else state_sum.to(torch.float64).cpu().numpy()
            outputs = decode_outputs(net, T, np_counts[-1], state_sum)
        info = {"products": {layer.name: dict(syn.stats) for layer, syn in zip(layers[1:], self.syn)}}
        return BackendResult(
            spike_counts=np_counts, active_updates=[int(a) for a in active], outputs=np.asarray(outputs),
            info=info, step_spikes=None if step_spikes is None else
            {layer.name: s.cpu().numpy() for layer, s in zip(layers, step_spikes)},
            step_counts=[s.cpu().numpy() for s in step_counts])


def _quantize(values, step: float):
    """``round(p / step) * step`` (round half to even, as numpy); ``step == 0`` -> ``values``."""
    import torch

    return torch.round(values / step) * step if step else values


class _Input:
    """Layer 0: the sample encodings of :mod:`neurosim.network`."""

    def __init__(self, layer: Layer, x: np.ndarray, seed: int, raster: np.ndarray | None, model: _Model):
        self.encoding = layer.options["encoding"]
        drive_np = layer.params["gain"][None, :] * x
        self.drive = model.tensor(drive_np)
        self.n_drive = int(np.count_nonzero(drive_np))
        self.model = model
        self.step_size = float(layer.options.get("payload_step", 0.0) or 0.0)
        if self.encoding == "regular":
            self.v = model.tensor(np.broadcast_to(layer.params["v_init"][None, :], x.shape))
            self.zero_drive = self.drive == 0
        elif self.encoding == "bernoulli":
            self.raster = raster
            self.p = np.clip(drive_np, 0.0, 1.0)
            self.rng = np.random.default_rng(seed)
            self.zero_drive = self.drive == 0

    def step(self, k: int):
        import torch

        enc = self.encoding
        if enc == "regular":
            self.v += self.drive
            spikes = self.v > 1.0
            self.v -= spikes.to(self.v.dtype)
            n_active = self.n_drive + torch.count_nonzero(spikes & self.zero_drive)
            return spikes.to(self.v.dtype), n_active
        if enc == "bernoulli":
            draw = self.raster[k] if self.raster is not None else self.rng.random(self.p.shape) < self.p
            spikes = torch.as_tensor(np.ascontiguousarray(draw), device=self.drive.device)
            n_active = self.n_drive + torch.count_nonzero(spikes & self.zero_drive)
            return spikes.to(self.drive.dtype), n_active
        if enc == "current":
            return (self.drive if self.n_drive else None), self.n_drive
        if k > 0:  # graded: delta encoding of a static input, once at step 0
            return None, 0
        payload = _quantize(self.drive, self.step_size)
        return payload, torch.count_nonzero((self.drive != 0) | (payload != 0))


class _Stage:
    """A layer ``l >= 1``: its synapses and neuron state."""

    def __init__(self, layer: Layer, syn: _Synapses, C: int, dt_s: float, model: _Model):
        self.layer, self.syn, self.model = layer, syn, model
        self.shape = (C, layer.size)
        self.dt_s = dt_s

    def param(self, name: str):
        return self.model.tensor(self.layer.params[name])[None, :]

    def current(self, msg):
        cur, rec = self.syn.receive(msg) if msg is not None else (None, None)
        return (self.syn.bias if cur is None else cur + self.syn.bias), rec

    @staticmethod
    def active(rec, emitted):
        import torch

        if rec is None:
            return torch.count_nonzero(emitted) if emitted is not None else 0
        return torch.count_nonzero(rec if emitted is None else rec | emitted)

    def state_sum(self):
        return None


class _Threshold(_Stage):
    def __init__(self, layer, syn, C, dt_s, model):
        import torch

        super().__init__(layer, syn, C, dt_s, model)
        self.v = torch.zeros(self.shape, dtype=model.dtype, device=model.dev) + self.param("v_init")
        self.v_th = self.param("v_threshold")
        self.subtract = layer.options["reset"] == "subtract"
        if not self.subtract:
            self.v_reset = self.param("v_reset")

    def fire(self, rec):
        import torch

        spikes = self.v > self.v_th
        n_active = self.active(rec, spikes)
        if self.subtract:
            self.v -= spikes * self.v_th
        else:
            self.v = torch.where(spikes, self.v_reset, self.v)
        return spikes.to(self.v.dtype), n_active


class _IF(_Threshold):
    def step(self, msg):
        cur, rec = self.current(msg)
        self.v += cur
        return self.fire(rec)


class _LIF(_Threshold):
    def __init__(self, layer, syn, C, dt_s, model):
        super().__init__(layer, syn, C, dt_s, model)
        self.a = self.model.tensor(dt_s / layer.params["tau_s"])[None, :]
        self.leak, self.r = self.param("v_leak"), self.param("r")

    def step(self, msg):
        cur, rec = self.current(msg)
        leaky_step(self.v, cur, self.a, self.leak, self.r)
        return self.fire(rec)


class _CubaLIF(_Threshold):
    def __init__(self, layer, syn, C, dt_s, model):
        import torch

        super().__init__(layer, syn, C, dt_s, model)
        p = layer.params
        self.a_syn = self.model.tensor(dt_s / p["tau_syn_s"])[None, :]
        self.a_mem = self.model.tensor(dt_s / p["tau_mem_s"])[None, :]
        self.leak, self.r, self.w_in = self.param("v_leak"), self.param("r"), self.param("w_in")
        self.i_syn = torch.zeros(self.shape, dtype=model.dtype, device=model.dev)

    def step(self, msg):
        cur, rec = self.current(msg)
        cuba_step(self.v, self.i_syn, cur, self.a_syn, self.a_mem, self.leak, self.r, self.w_in)
        return self.fire(rec)


class _LI(_Stage):
    def __init__(self, layer, syn, C, dt_s, model):
        import torch

        super().__init__(layer, syn, C, dt_s, model)
        self.a = self.model.tensor(dt_s / layer.params["tau_s"])[None, :]
        self.leak, self.r = self.param("v_leak"), self.param("r")
        self.v = torch.zeros(self.shape, dtype=model.dtype, device=model.dev) + self.param("v_init")
        self.v_sum = torch.zeros(self.shape, dtype=model.dtype, device=model.dev)

    def step(self, msg):
        cur, rec = self.current(msg)
        leaky_step(self.v, cur, self.a, self.leak, self.r)
        self.v_sum += self.v
        return None, self.active(rec, None)

    def state_sum(self):
        return self.v_sum


class _SigmaDelta(_Stage):
    def __init__(self, layer, syn, C, dt_s, model):
        import torch

        super().__init__(layer, syn, C, dt_s, model)
        self.sigma = torch.zeros(self.shape, dtype=model.dtype, device=model.dev)
        self.a_sent = torch.zeros(self.shape, dtype=model.dtype, device=model.dev)
        self.v_th = self.param("v_threshold")
        self.step_size = float(layer.options.get("payload_step", 0.0) or 0.0)
        self.settled = False

    def step(self, msg):
        import torch

        cur, rec = self.syn.receive(msg) if msg is not None else (None, None)
        if cur is None and self.settled:
            return None, 0
        if cur is not None:
            self.sigma += cur
        delta = torch.clamp(self.sigma + self.syn.bias, min=0.0) - self.a_sent
        payload = torch.where(delta.abs() >= self.v_th, _quantize(delta, self.step_size), torch.zeros_like(delta))
        emitted = payload != 0
        any_emitted = bool(emitted.any())
        if any_emitted:
            self.a_sent += payload
        self.settled = cur is None and not any_emitted
        return (payload if any_emitted else None), self.active(rec, emitted)


class _Readout(_Stage):
    """Linear in its input: the messages are summed over the window, multiplied by ``W`` once."""

    def __init__(self, layer, syn, C, dt_s, model):
        super().__init__(layer, syn, C, dt_s, model)
        self.msg_sum = None

    def step(self, msg):
        import torch

        if msg is None:
            return None, 0
        _, rec = self.syn.receive(msg, want_current=False)
        if rec is None:
            return None, 0
        self.msg_sum = msg.clone() if self.msg_sum is None else self.msg_sum + msg
        return None, torch.count_nonzero(rec)

    def state_sum(self):
        import torch

        if self.msg_sum is None:
            return torch.zeros(self.shape, dtype=self.model.dtype, device=self.model.dev)
        return self.msg_sum @ self.syn.wt


_STAGES = {"if": _IF, "lif": _LIF, "cuba_lif": _CubaLIF, "li": _LI, "sigma_delta": _SigmaDelta, "readout": _Readout}
