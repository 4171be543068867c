"""Brian2 backend: the network as NeuronGroups and Synapses, one chunk of samples at a time.

Lowering (one builder per neuron ``kind``, :data:`BUILDERS`)
-------------------------------------------------------------
* A chunk of ``C`` samples runs as ``C`` side-by-side copies of every layer in one Brian2
  ``Network``: layer ``l`` is a ``NeuronGroup`` of ``C * n_l`` neurons (index ``s * n_l + i``)
  and its connection one ``Synapses`` object holding, per copy, only the nonzero weights
  (block-diagonal, absent synapses stay absent).
* All objects share one ``Clock`` of ``dt = network.dt_s`` seconds. Brian2's schedule within a
  step is ``groups -> thresholds -> synapses -> resets``: a neuron's update (a
  ``run_regularly`` operation in the ``groups`` slot) consumes the input ``I_acc`` that the
  synapses accumulated in the previous step, so what layer ``l-1`` emits at step ``k``
  reaches layer ``l`` at ``k+1`` (the one-step delay). Layer ``l`` is enabled from
  ``t_in_timesteps >= l`` (integer step count, no float time comparisons).
* Messages: binary kinds (``if``, ``lif``, ``cuba_lif``, ``regular``/``bernoulli`` input)
  spike through Brian2's threshold/reset; graded kinds (``sigma_delta``, ``graded``/``current``
  input) set a ``payload`` and "spike" when ``payload != 0``; the synapse adds
  ``w * payload_pre``.
* Input encodings are computed inside Brian2 (``regular``: ``v += gain x``, spike if ``v > 1``,
  ``v -= 1``; ``graded``: payload at step 0; ``current``: payload every step) except
  ``bernoulli``, whose spikes come from the reference engine's random stream
  (:class:`~neurosim.backends._batch.BernoulliStream`) through a ``TimedArray`` so that counts
  match the reference engine exactly.
* Counting: ``count`` (spikes) and ``n_active`` (enabled steps with an incoming synaptic event
  or a spike; for input neurons, steps that receive a nonzero sample value or spike) are
  Brian2 variables, read after the run. A ``SpikeMonitor`` on every layer that emits gives
  the per-step counts (``step_counts``, summed over the samples): every message, binary or
  graded, is a threshold crossing, and ``count`` is incremented in the same reset.

Arithmetic is float64. Payload quantisation uses C ``rint`` / ``numpy.rint`` (round half to
even, like ``numpy.round``). For the compiled targets gcc runs without ``-ffast-math`` and
with ``-ffp-contract=off`` so that float results follow IEEE order like numpy's.

Options
-------
target : {'numpy', 'cython', 'cpp_standalone'}
    Brian2 code-generation target (default ``'numpy'``). The compiled targets need a C++
    compiler (and Cython for ``cython``). ``cpp_standalone`` compiles the network once and
    reruns the binary per chunk with new inputs (Brian2's ``run_args``).
chunk_size : int
    Samples simulated together (default: keeps the chunk's input raster under 8M entries).
build_dir : str
    Directory for the ``cpp_standalone`` project (default: a temporary directory, removed).
"""
from __future__ import annotations

import contextlib
import gc
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from neurosim.backends import BackendResult
from neurosim.backends._batch import (BernoulliStream, block_diagonal_indices, check_kinds, check_options,
                                      chunk_bounds, decode_outputs, input_drive, payload_step, quantize)
from neurosim.errors import BackendUnavailableError, ValidationError
from neurosim.network import Layer, SpikingNetwork

NAME = "brian2"
TARGETS = ("numpy", "cython", "cpp_standalone")
OPTIONS = ("target", "chunk_size", "build_dir")
INSTALL_HINT = "install it with: pip install 'brian2>=2.5'"
#: gcc flags for the compiled targets: Brian2's defaults minus -ffast-math, no FMA contraction
EXACT_GCC_ARGS = ["-w", "-O3", "-ffp-contract=off", "-march=native", "-std=c++11"]


def available() -> str | None:
    try:
        with _quiet_brian2():
            import brian2  # noqa: F401
    except ImportError:
        return f"brian2 is not installed; {INSTALL_HINT}"
    return None


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as _version

    try:
        return _version("brian2")
    except PackageNotFoundError:
        return "unknown"


def target_problem(target: str) -> str | None:
    """None when code-generation ``target`` can run here, else a one-line reason."""
    if target not in TARGETS:
        return f"unknown brian2 target {target!r} (known: {', '.join(TARGETS)})"
    if target == "numpy":
        return None
    compiler = os.environ.get("CXX", "g++").split()[0]
    if shutil.which(compiler) is None:
        return f"brian2 target {target!r} needs a C++ compiler ({compiler!r} not found)"
    if target == "cython":
        try:
            import Cython  # noqa: F401
        except ImportError:
            return "brian2 target 'cython' needs Cython: pip install cython"
    if target == "cpp_standalone" and shutil.which("make") is None:
        return "brian2 target 'cpp_standalone' needs 'make'"
    return None


# ----------------------------------------------------------------------------- model specs
@dataclass
class _PopSpec:
    """Everything Brian2 needs to build one layer, independent of the chunk's inputs."""

    equations: str
    update: str | None = None  # run_regularly code, 'groups' slot
    threshold: str | None = None
    reset: str | None = None
    values: dict[str, np.ndarray] = field(default_factory=dict)  # per-neuron (n,), tiled over copies
    graded: bool = False  # messages carry 'payload'
    state_sum: str | None = None  # variable decoded as the output ('sigma' | 'v_sum')
    uses_rint: bool = False
    bernoulli: bool = False


_HIDDEN_EQS = """
I_acc : 1
got : 1
recv : 1
b : 1 (constant)
count : integer
n_active : integer
"""


def _hidden_head(l: int) -> str:
    """Start of a hidden layer's step: take in last step's messages, gate by the enable rule."""
    return (f"recv = got\ngot = 0\nen = int(t_in_timesteps >= {l})\n"
            "I_in = I_acc + en * b\nI_acc = 0\n")


def _quantized(expr: str, step: float) -> str:
    return expr if not step else f"neurosim_rint(({expr}) / {step!r}) * {step!r}"


def _spiking_reset(layer: Layer) -> tuple[str, str, dict[str, np.ndarray]]:
    """Threshold/reset code of if/lif/cuba_lif layer (subtract or zero) and the extra values."""
    values = {"v_th": layer.params["v_threshold"]}
    if layer.options.get("reset", "subtract") == "zero":
        values["v_reset"] = layer.params["v_reset"]
        reset = "v = v_reset"
    else:
        reset = "v -= v_th"
    return reset + "\ncount += 1\nn_active += int(recv == 0)", "v_th : 1 (constant)\nv_reset : 1 (constant)\n", values


def _build_input(layer: Layer, l: int, dt_s: float) -> _PopSpec:
    """Input neurons; ``gx`` is the drive ``gain * x`` (set per chunk), ``q`` the graded payload.

    Active updates: the sample value is an input message at every step (at step 0 for
    ``graded``), so a neuron with nonzero drive is active whenever it receives it; a spike
    at zero drive (``regular`` with ``v_init > 1``) counts too.
    """
    enc = layer.options["encoding"]
    eqs = "gx : 1 (constant)\ncount : integer\nn_active : integer\n"
    reset = "count += 1\nn_active += int(gx == 0)"
    if enc == "regular":
        return _PopSpec(eqs + "v : 1\n", update="v += gx\nn_active += int(gx != 0)", threshold="v > 1.0",
                        reset="v -= 1.0\n" + reset, values={"v": layer.params["v_init"]})
    if enc == "graded":
        return _PopSpec(eqs + "payload : 1\nq : 1 (constant)\n",
                        update=("first = int(t_in_timesteps == 0)\npayload = q * first\n"
                                "n_active += first * int(gx != 0)"),
                        threshold="payload != 0", reset=reset, graded=True)
    if enc == "current":
        return _PopSpec(eqs + "payload : 1\n", update="payload = gx\nn_active += int(gx != 0)",
                        threshold="payload != 0", reset=reset, graded=True)
    return _PopSpec(eqs, update="n_active += int(gx != 0)", threshold="bernoulli_spikes(t, i) > 0.5",
                    reset=reset, bernoulli=True)


def _build_if(layer: Layer, l: int, dt_s: float) -> _PopSpec:
    reset, eqs, values = _spiking_reset(layer)
    return _PopSpec(_HIDDEN_EQS + "v : 1\n" + eqs, update=_hidden_head(l) + "v += I_in\nn_active += int(recv > 0)",
                    threshold=f"v > v_th and t_in_timesteps >= {l}", reset=reset,
                    values={"v": layer.params["v_init"], **values})


def _build_lif(layer: Layer, l: int, dt_s: float) -> _PopSpec:
    reset, eqs, values = _spiking_reset(layer)
    p = layer.params
    return _PopSpec(
        _HIDDEN_EQS + "v : 1\nalpha : 1 (constant)\nr : 1 (constant)\nv_leak : 1 (constant)\n" + eqs,
        update=_hidden_head(l) + "v += en * (alpha * (v_leak - v) + alpha * r * I_in)\nn_active += int(recv > 0)",
        threshold=f"v > v_th and t_in_timesteps >= {l}", reset=reset,
        values={"v": p["v_init"], "alpha": dt_s / p["tau_s"], "r": p["r"], "v_leak": p["v_leak"], **values})


def _build_cuba_lif(layer: Layer, l: int, dt_s: float) -> _PopSpec:
    reset, eqs, values = _spiking_reset(layer)
    p = layer.params
    return _PopSpec(
        _HIDDEN_EQS + ("v : 1\ni_syn : 1\nalpha_syn : 1 (constant)\nalpha_mem : 1 (constant)\n"
                       "r : 1 (constant)\nv_leak : 1 (constant)\nw_in : 1 (constant)\n") + eqs,
        update=_hidden_head(l) + ("i_syn += en * (-alpha_syn * i_syn + w_in * I_in)\n"
                                  "v += en * (alpha_mem * (v_leak - v) + alpha_mem * r * i_syn)\n"
                                  "n_active += int(recv > 0)"),
        threshold=f"v > v_th and t_in_timesteps >= {l}", reset=reset,
        values={"v": p["v_init"], "alpha_syn": dt_s / p["tau_syn_s"], "alpha_mem": dt_s / p["tau_mem_s"],
                "r": p["r"], "v_leak": p["v_leak"], "w_in": p["w_in"], **values})


def _build_li(layer: Layer, l: int, dt_s: float) -> _PopSpec:
    p = layer.params
    return _PopSpec(
        _HIDDEN_EQS + "v : 1\nv_sum : 1\nalpha : 1 (constant)\nr : 1 (constant)\nv_leak : 1 (constant)\n",
        update=_hidden_head(l) + ("v += en * (alpha * (v_leak - v) + alpha * r * I_in)\nv_sum += en * v\n"
                                  "n_active += int(recv > 0)"),
        values={"v": p["v_init"], "alpha": dt_s / p["tau_s"], "r": p["r"], "v_leak": p["v_leak"]},
        state_sum="v_sum")


def _build_sigma_delta(layer: Layer, l: int, dt_s: float) -> _PopSpec:
    step = payload_step(layer)
    code = (f"recv = got\ngot = 0\nen = int(t_in_timesteps >= {l})\n"
            "sigma += I_acc\nI_acc = 0\n"
            "act = clip(sigma + en * b, 0, inf)\n"
            "delta = act - a_sent\n"
            f"payload = en * int(abs(delta) >= v_th) * {_quantized('delta', step)}\n"
            "a_sent += payload\nn_active += int(recv > 0)")
    return _PopSpec(_HIDDEN_EQS + "sigma : 1\na_sent : 1\npayload : 1\nv_th : 1 (constant)\n", update=code,
                    threshold="payload != 0", reset="count += 1\nn_active += int(recv == 0)",
                    values={"v_th": layer.params["v_threshold"]}, graded=True, uses_rint=bool(step))


def _build_readout(layer: Layer, l: int, dt_s: float) -> _PopSpec:
    """Accumulates ``sigma += W @ m``; the bias term and the decoding are applied afterwards."""
    return _PopSpec(_HIDDEN_EQS + "sigma : 1\n",
                    update="recv = got\ngot = 0\nsigma += I_acc\nI_acc = 0\nn_active += int(recv > 0)",
                    state_sum="sigma")


#: neuron kind -> builder(layer, index, dt_s) -> _PopSpec
BUILDERS: dict[str, Callable[[Layer, int, float], _PopSpec]] = {
    "input": _build_input, "if": _build_if, "lif": _build_lif, "cuba_lif": _build_cuba_lif, "li": _build_li,
    "sigma_delta": _build_sigma_delta, "readout": _build_readout,
}


# ----------------------------------------------------------------------------- brian2 objects
def _rint_function(b2):
    """``neurosim_rint``: round half to even on every target (numpy.rint, C rint)."""
    from brian2.core.functions import Function

    fn = Function(np.rint, arg_units=[1], return_unit=1, arg_types=["float"], return_type="float")
    fn.implementations.add_implementation("cpp", code=None, name="rint")
    fn.implementations.add_implementation("cython", code=(
        'cdef extern from "math.h":\n'
        '    double _neurosim_c_rint "rint"(double) nogil\n'
        "cdef inline double neurosim_rint(double x) nogil:\n"
        "    return _neurosim_c_rint(x)\n"), name="neurosim_rint")
    return fn


@dataclass
class _Built:
    net: Any
    groups: list[Any]
    bernoulli: Any | None  # the TimedArray of input spikes, if any
    monitors: list[Any | None] = field(default_factory=list)  # SpikeMonitor per layer (None: emits nothing)


def _build_network(b2, network: SpikingNetwork, specs: list[_PopSpec], copies: int, timesteps: int,
                   chunk_inputs: dict[str, np.ndarray]) -> _Built:
    """Build (not run) one Brian2 Network of ``copies`` copies; ``chunk_inputs`` sets the input layer.

    Object names are fixed (``neurosim_l1``, ...) and the previous chunk's objects are
    collected first, so that the generated code, which contains the names, is the same for
    every chunk and run: Brian2's cython cache then compiles it once per machine.
    """
    gc.collect()
    dt = network.dt_s * b2.second
    clock = b2.Clock(dt=dt)
    namespace: dict[str, Any] = {}
    if any(s.uses_rint for s in specs):
        namespace["neurosim_rint"] = _rint_function(b2)
    bernoulli = None
    if specs[0].bernoulli:
        bernoulli = b2.TimedArray(chunk_inputs["bernoulli"], dt=dt)
        namespace["bernoulli_spikes"] = bernoulli
    objects, groups, monitors = [], [], []
    for l, (layer, spec) in enumerate(zip(network.layers, specs)):
        group = b2.NeuronGroup(copies * layer.size, spec.equations, threshold=spec.threshold, reset=spec.reset,
                               clock=clock, namespace=namespace, name=f"neurosim_l{l}")
        for var, value in spec.values.items():
            setattr(group, var, np.tile(np.asarray(value, dtype=np.float64), copies))
        if l > 0:
            group.b = np.tile(layer.connection.bias, copies)
        else:
            for var in ("gx", "q"):
                if var in chunk_inputs:
                    setattr(group, var, chunk_inputs[var])
        if spec.update:
            group.run_regularly(spec.update, when="groups", name=f"neurosim_l{l}_update")  # contained in the group
        objects.append(group)
        monitors.append(b2.SpikeMonitor(group, name=f"neurosim_mon{l}") if spec.threshold else None)
        if monitors[-1] is not None:
            objects.append(monitors[-1])
        if l > 0:
            pre_idx, post_idx, w = block_diagonal_indices(layer.connection, copies)
            on_pre = ("I_acc_post += w * payload_pre" if specs[l - 1].graded else "I_acc_post += w") + "\ngot_post = 1"
            if pre_idx.size:  # a connection without any synapse is no Synapses object at all
                syn = b2.Synapses(groups[-1], group, "w : 1 (constant)", on_pre=on_pre, clock=clock,
                                  namespace=namespace, name=f"neurosim_syn{l}")
                syn.connect(i=pre_idx, j=post_idx)
                syn.w = w
                objects.append(syn)
        groups.append(group)
    return _Built(b2.Network(*objects), groups, bernoulli, monitors)


def _chunk_inputs(layer: Layer, x: np.ndarray, copies: int, stream: BernoulliStream | None,
                  start: int, stop: int) -> dict[str, np.ndarray]:
    """Per-chunk values of the input layer (flat, copy-major), padded with zero samples to ``copies``."""
    pad = copies - (stop - start)
    gx = input_drive(layer, x[start:stop])
    if pad:
        gx = np.concatenate([gx, np.zeros((pad, layer.size))])
    values = {"gx": gx.ravel()}
    enc = layer.options["encoding"]
    if enc == "graded":
        values["q"] = quantize(gx, payload_step(layer)).ravel()
    if enc == "bernoulli":
        spikes = stream.chunk(start, stop)  # (T, c, n)
        if pad:
            spikes = np.concatenate([spikes, np.zeros((spikes.shape[0], pad, layer.size), bool)], axis=1)
        values["bernoulli"] = spikes.reshape(spikes.shape[0], -1).astype(np.float64)
    return values


@contextlib.contextmanager
def _brian_prefs(b2, target: str):
    """Set the code-generation target and exact gcc flags; restore Brian2's prefs afterwards."""
    keys = ["codegen.target", "codegen.cpp.extra_compile_args_gcc"]
    saved = {k: b2.prefs[k] for k in keys}
    try:
        b2.prefs["codegen.target"] = "numpy" if target == "cpp_standalone" else target
        b2.prefs["codegen.cpp.extra_compile_args_gcc"] = list(EXACT_GCC_ARGS)
        yield
    finally:
        for k, v in saved.items():
            b2.prefs[k] = v


def _collect(network: SpikingNetwork, built: _Built, specs: list[_PopSpec], n_real: int,
             counts: list[list[np.ndarray]], active: list[int], state_sums: list[np.ndarray],
             step_counts: list[np.ndarray]) -> None:
    for l, (layer, group, spec) in enumerate(zip(network.layers, built.groups, specs)):
        counts[l].append(np.asarray(group.count[:], dtype=np.int64).reshape(-1, layer.size)[:n_real])
        monitor = built.monitors[l]
        if monitor is not None:  # spikes of the real samples (not the padding copies), by step and neuron
            i = np.asarray(monitor.i[:], dtype=np.int64)
            k = np.rint(np.asarray(monitor.t_[:]) / network.dt_s).astype(np.int64)
            real = i < n_real * layer.size
            T = step_counts[l].shape[0]
            step_counts[l] += np.bincount(k[real] * layer.size + i[real] % layer.size,
                                          minlength=T * layer.size).reshape(T, layer.size).astype(np.int32)
        active[l] += int(np.asarray(group.n_active[:], dtype=np.int64).reshape(-1, layer.size)[:n_real].sum())
    last = specs[-1]
    if last.state_sum:
        value = getattr(built.groups[-1], last.state_sum)[:]
        state_sums.append(np.asarray(value, dtype=np.float64).reshape(-1, network.layers[-1].size)[:n_real])


def run(network: SpikingNetwork, inputs: np.ndarray, timesteps: int, *, seed: int = 0,
        **options: Any) -> BackendResult:
    """Simulate ``inputs`` (N, d_in) for ``timesteps`` steps with Brian2 (see module docstring)."""
    check_options(NAME, options, OPTIONS)
    target = options.get("target") or "numpy"
    problem = target_problem(target)
    if problem:
        raise (ValidationError if target not in TARGETS else BackendUnavailableError)(problem)
    check_kinds(NAME, network, BUILDERS)
    with _quiet_brian2():
        import brian2 as b2

        return _run(b2, network, inputs, timesteps, seed, target, options)


@contextlib.contextmanager
def _quiet_brian2():
    """Silence the deprecation warnings brian2 2.9 triggers inside pyparsing >= 3.3 (not ours to fix)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*deprecated.*(use|parse)", category=DeprecationWarning)
        yield


def _run(b2, network: SpikingNetwork, inputs: np.ndarray, timesteps: int, seed: int, target: str,
         options: dict[str, Any]) -> BackendResult:
    inputs = np.asarray(inputs, dtype=np.float64)
    n_samples = inputs.shape[0]
    bounds = chunk_bounds(n_samples, options.get("chunk_size"), network, timesteps)
    copies = max(stop - start for start, stop in bounds)
    specs = [BUILDERS[layer.kind](layer, l, network.dt_s) for l, layer in enumerate(network.layers)]
    in_layer = network.layers[0]
    stream = BernoulliStream(in_layer, inputs, timesteps, seed) if in_layer.options["encoding"] == "bernoulli" else None

    counts: list[list[np.ndarray]] = [[] for _ in network.layers]
    active = [0] * len(network.layers)
    state_sums: list[np.ndarray] = []
    step_counts = [np.zeros((timesteps, layer.size), dtype=np.int32) for layer in network.layers]
    timing = {"build_s": 0.0, "run_s": 0.0}
    level = b2.BrianLogger.console_handler.level if b2.BrianLogger.console_handler else None
    b2.BrianLogger.log_level_warn()
    try:
        with _brian_prefs(b2, target):
            if target == "cpp_standalone":
                _run_standalone(b2, network, specs, inputs, timesteps, stream, bounds, copies,
                                options.get("build_dir"), counts, active, state_sums, step_counts, timing)
            else:
                for start, stop in bounds:
                    built = None  # let the previous chunk's objects be collected
                    t0 = time.perf_counter()
                    chunk = _chunk_inputs(in_layer, inputs, stop - start, stream, start, stop)
                    built = _build_network(b2, network, specs, stop - start, timesteps, chunk)
                    t1 = time.perf_counter()
                    built.net.run(timesteps * network.dt_s * b2.second, namespace={})
                    timing["build_s"] += t1 - t0
                    timing["run_s"] += time.perf_counter() - t1
                    _collect(network, built, specs, stop - start, counts, active, state_sums, step_counts)
    finally:
        if level is not None:
            b2.BrianLogger.console_handler.setLevel(level)
    spike_counts = [np.concatenate(c) for c in counts]
    state_sum = np.concatenate(state_sums) if state_sums else None
    outputs = decode_outputs(network, timesteps, spike_counts[-1], state_sum)
    return BackendResult(spike_counts=spike_counts, active_updates=active, outputs=outputs, step_counts=step_counts,
                         info={"brian2_target": target, "chunks": len(bounds), "chunk_size": copies,
                               **{f"brian2_{k}": round(v, 4) for k, v in timing.items()}})


def _run_standalone(b2, network, specs, inputs, timesteps, stream, bounds, copies, build_dir,
                    counts, active, state_sums, step_counts, timing) -> None:
    """Compile once for ``copies`` copies; rerun the binary per chunk with new input values."""
    own_dir = build_dir is None
    directory = tempfile.mkdtemp(prefix="neurosim_brian2_") if own_dir else os.path.abspath(build_dir)
    in_layer = network.layers[0]
    try:
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        t0 = time.perf_counter()
        first = _chunk_inputs(in_layer, inputs, copies, stream, *bounds[0])
        built = _build_network(b2, network, specs, copies, timesteps, first)
        built.net.run(timesteps * network.dt_s * b2.second, namespace={})
        b2.device.build(directory=directory, run=False, with_output=False)
        timing["build_s"] += time.perf_counter() - t0
        for start, stop in bounds:
            t0 = time.perf_counter()
            chunk = _chunk_inputs(in_layer, inputs, copies, stream, start, stop)
            run_args = {getattr(built.groups[0], var): chunk[var] for var in ("gx", "q") if var in chunk}
            if built.bernoulli is not None:
                run_args[built.bernoulli] = chunk["bernoulli"]
            b2.device.run(run_args=run_args, with_output=False)
            timing["run_s"] += time.perf_counter() - t0
            _collect(network, built, specs, stop - start, counts, active, state_sums, step_counts)
    finally:
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("runtime")
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)
