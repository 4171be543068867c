"""One suite for every registered simulator backend (reference, brian2, lava).

* Tiny networks with spike trains computed by hand from the semantics of
  :mod:`neurosim.network` (derivations in the comments; values are binary fractions, so
  every backend's float64 arithmetic is exact and ties such as ``v == v_threshold`` are
  real ties).
* Agreement of brian2 and lava with the reference engine on small random networks:
  >= 99% of (sample, neuron) spike counts identical, none off by more than 1, total synaptic
  operations within 1%.
* One-line errors for unknown backends, missing packages and bad options.

The ``backend`` and ``other_backend`` fixtures (``tests/conftest.py``) run each test on every
registered backend; a test that needs a capability (graded spikes, Bernoulli input, ...) carries
its marker and is skipped on backends that do not declare it. Tests of one backend's own options
carry that backend's marker (``brian2``, ``lava``).
"""
from __future__ import annotations

import dataclasses
import importlib
import re
import sys

import numpy as np
import pytest

from neurosim.backends import lava_shim
from neurosim.backends import BACKENDS, get_backend, simulate
from neurosim.errors import BackendUnavailableError, UnsupportedNodeError, ValidationError
from neurosim.network import Connection, Layer, SpikingNetwork

def _counts(record) -> list[list[list[int]]]:
    return [layer.spike_counts.tolist() for layer in record.layers]


def _active(record) -> list[int]:
    return [layer.active_neuron_updates for layer in record.layers]


# ----------------------------------------------------------------------------- rate coding
def rate_net(encoding: str = "regular", reset: str = "subtract") -> SpikingNetwork:
    """2 inputs -> 2 IF neurons (one absent synapse, a bias) -> 1 readout."""
    return SpikingNetwork([
        Layer("in", "input", 2, params={"gain": 1.0}, options={"encoding": encoding}),
        Layer("h", "if", 2, params={"v_threshold": 1.0, "v_init": 0.0}, options={"reset": reset},
              connection=Connection(np.array([[0.75, 0.5], [0.0, 0.5]]), np.array([0.0, 0.25]))),
        Layer("out", "readout", 1, params={"scale": 1.0},
              connection=Connection(np.array([[0.5, -1.0]]), np.array([0.25]))),
    ])


RATE_X = np.array([[0.5, 1.0], [1.0, 0.0]])
# Input 'regular', v starts at 0.5: x=0.5 -> v = 1.0 (no spike, strict >), 1.5 (spike), ...:
#   spikes at k = 1, 3, 5; x=1 -> every step; x=0 -> never.  T = 6.
# Hidden (enabled from k=1), I[k] = W m0[k-1] + b, reset by subtraction:
#   sample 0, neuron a: I = .5, 1.25, .5, 1.25, .5 -> v = .5, 1.75*, 1.25*, 1.5*, 1.0 -> 3 spikes (k=2,3,4)
#             neuron b: I = .75 each step     -> v = .75, 1.5*, 1.25*, 1.0, 1.75* -> 3 spikes (k=2,3,5)
#   sample 1, neuron a: I = .75 each step     -> 3 spikes (k=2,3,5)
#             neuron b: no synapse from input 0, bias .25 only -> v = .25 .. 1.0, 1.25* -> 1 spike (k=5)
# Readout (enabled from k=2): acc = sum_k W2 m1[k-1] + 4 * .25
#   sample 0: m1[1..4] = (0,0), (1,1), (1,1), (1,0) -> -.5 -.5 +.5 = -.5; acc = .5, output .5/4 = .125
#   sample 1: (0,0), (1,0), (1,0), (0,0) -> 1.0; acc = 2.0 -> .5
# Active updates: input: nonzero drive receives at all 6 steps -> 3 * 6 = 18;
#   hidden: s0 a, b receive at k=1..5 (input 1 spikes every step) -> 10; s1 a receives 5, b only spikes 1 -> 6;
#   readout: s0 receives at k=3,4,5, s1 at k=3,4 -> 5.
# Synaptic ops: fan-out input (1, 2), hidden (1, 1): 3*1 + 6*2 + 6*1 = 21, hidden 10 spikes -> 31.
RATE_EXPECTED = {
    "subtract": dict(counts=[[[3, 6], [6, 0]], [[3, 3], [3, 1]], [[0], [0]]], active=[18, 16, 5],
                     outputs=[0.125, 0.5], synops=31),
    # reset to zero: s0 a: .5, 1.75*->0, .5, 1.75*->0, .5 (2);  b: .75, 1.5*, .75, 1.5*, .75 (2)
    #   s1 a: .75, 1.5*, .75, 1.5*, .75 (2); b: 1 spike at k=5.  readout s0: m1 = (0,0),(1,1),(0,0),(1,1)
    #   -> -1 + 1 = 0 -> 0;  s1: (0,0),(1,0),(0,0),(1,0) -> 1 + 1 = 2 -> .5.  active readout: 2 + 2.
    "zero": dict(counts=[[[3, 6], [6, 0]], [[2, 2], [2, 1]], [[0], [0]]], active=[18, 16, 4],
                 outputs=[0.0, 0.5], synops=21 + 7),
}


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_rate_regular_hand_computed(backend, reset):
    exp = RATE_EXPECTED[reset]
    rec = simulate(rate_net("regular", reset), RATE_X, 6, backend=backend)
    assert _counts(rec) == exp["counts"]
    assert _active(rec) == exp["active"]
    assert rec.synaptic_ops == exp["synops"]
    np.testing.assert_allclose(rec.outputs.ravel(), exp["outputs"], atol=1e-12)
    assert rec.backend == backend and rec.backend_version == get_backend(backend).version()
    assert [layer.neuron_updates for layer in rec.layers] == [2 * 2 * 6, 2 * 2 * 5, 2 * 1 * 4]


@pytest.mark.bernoulli_input
def test_rate_bernoulli_uses_reference_stream(backend):
    """p = 1 and p = 0 inputs are deterministic; p = 0.5 follows default_rng(seed) draws exactly."""
    x = np.array([[1.0, 0.0], [0.5, 0.5]])
    T, seed = 6, 11
    rec = simulate(rate_net("bernoulli"), x, T, backend=backend, seed=seed)
    rng = np.random.default_rng(seed)
    expected_in = sum((rng.random(x.shape) < x).astype(int) for _ in range(T))
    assert rec.layers[0].spike_counts.tolist() == expected_in.tolist()
    # sample 0 sees exactly what sample 1 of the regular case saw (x = [1, 0] spikes every step / never)
    assert rec.layers[1].spike_counts[0].tolist() == [3, 1]
    assert rec.outputs[0, 0] == pytest.approx(0.5)
    other = simulate(rate_net("bernoulli"), x, T, backend=backend, seed=seed + 1)
    rng = np.random.default_rng(seed + 1)
    assert other.layers[0].spike_counts.tolist() == sum((rng.random(x.shape) < x).astype(int)
                                                        for _ in range(T)).tolist()


# ----------------------------------------------------------------------------- graded coding
def graded_net() -> SpikingNetwork:
    """2 graded inputs (payload step 1/4) -> 2 sigma-delta neurons -> 1 readout (decode 'sum')."""
    return SpikingNetwork([
        Layer("in", "input", 2, params={"gain": 1.0}, options={"encoding": "graded", "payload_step": 0.25}),
        Layer("sd", "sigma_delta", 2, params={"v_threshold": [0.1, 0.2]},
              connection=Connection(np.array([[1.0, 0.5], [0.0, -1.0]]), np.array([0.125, 0.875]))),
        Layer("out", "readout", 1, params={"scale": 1.0}, options={"decode": "sum"},
              connection=Connection(np.array([[1.0, 2.0]]), np.array([0.0]))),
    ])


@pytest.mark.graded_spikes
def test_graded_hand_computed(backend):
    # sample 0: x = (.3, .8) -> payloads round(1.2)/4 = .25, round(3.2)/4 = .75 at step 0.
    #   k=1: sigma = (.25 + .375, -.75); a = relu(sigma + b) = (.75, .125); delta = (.75, .125):
    #   neuron a emits .75; neuron b stays silent (|.125| < .2). Nothing changes afterwards.
    #   (Without the enable rule both would emit relu(b) at k=0.)  readout: .75 * 1 -> .75
    # sample 1: x = (.1, 0) -> payload round(.4)/4 = 0: no input spike, but input 0 received a value.
    #   k=1: sigma = 0, a = relu(b) = (.125, .875), both >= threshold: emit .125 and .875
    #   readout: .125 * 1 + .875 * 2 = 1.875
    x = np.array([[0.3, 0.8], [0.1, 0.0]])
    rec = simulate(graded_net(), x, 5, backend=backend)
    assert _counts(rec) == [[[1, 1], [0, 0]], [[1, 0], [1, 1]], [[0], [0]]]
    assert _active(rec) == [2 + 1, 2 + 2, 1 + 1]
    assert rec.synaptic_ops == (1 + 2) + (1 + 1 + 1)
    np.testing.assert_allclose(rec.outputs.ravel(), [0.75, 1.875], atol=1e-12)


@pytest.mark.graded_spikes
@pytest.mark.current_input
@pytest.mark.parametrize("step, v_th, spikes, total", [(0.0, 0.3, 3, 1.125), (0.25, 0.6, 2, 1.0)])
def test_sigma_delta_accumulates_and_quantizes(backend, step, v_th, spikes, total):
    # 'current' input .25 each step, W = .5: sigma grows by .125 per step from k=1.
    # step 0, threshold .3: delta reaches .375 at k=3, 6, 9 -> 3 payloads of .375 (a_sent = 1.125)
    # step .25, threshold .6: delta = .625 at k=5 -> round(2.5) = 2 (half to even) -> payload .5;
    #   again .625 at k=9 -> .5: 2 payloads, a_sent = 1.0 (round half up would give .75 and 1 payload)
    # The readout ('sum') receives every payload emitted up to k=9 (T=11).
    net = SpikingNetwork([
        Layer("in", "input", 1, params={"gain": 1.0}, options={"encoding": "current"}),
        Layer("sd", "sigma_delta", 1, params={"v_threshold": v_th}, options={"payload_step": step},
              connection=Connection([[0.5]], [0.0])),
        Layer("out", "readout", 1, params={"scale": 1.0}, options={"decode": "sum"},
              connection=Connection([[1.0]], [0.0])),
    ])
    rec = simulate(net, np.array([[0.25]]), 11, backend=backend)
    assert _counts(rec) == [[[11]], [[spikes]], [[0]]]
    assert rec.outputs[0, 0] == pytest.approx(total, abs=1e-12)
    assert _active(rec) == [11, 10, spikes]


# ----------------------------------------------------------------------------- NIR neuron kinds
def test_lif_then_li_hand_computed(backend):
    # dt/tau = 1e-3/2e-3 = .5 exactly. Input x=1 spikes every step; LIF I = 1.5:
    #   v = .75, 1.125* -> .125, .8125, 1.15625* -> .15625, .828125, 1.1640625*  -> spikes k=2,4,6
    # LI (enabled from k=2) gets 1 at k=3, 5: v = 0, .5, .25, .625, .3125 -> mean 1.6875 / 5
    net = SpikingNetwork([
        Layer("in", "input", 1, params={"gain": 1.0}),
        Layer("lif", "lif", 1, params={"tau_s": 2e-3, "r": 1.0, "v_leak": 0.0, "v_threshold": 1.0, "v_init": 0.0},
              connection=Connection([[1.5]], [0.0])),
        Layer("li", "li", 1, params={"tau_s": 2e-3, "r": 1.0, "v_leak": 0.0, "v_init": 0.0},
              connection=Connection([[1.0]], [0.0])),
    ], dt_s=1e-3)
    rec = simulate(net, np.array([[1.0]]), 7, backend=backend)
    assert _counts(rec) == [[[7]], [[3]], [[0]]]
    assert _active(rec) == [7, 6, 2]
    assert rec.outputs[0, 0] == pytest.approx(1.6875 / 5, abs=1e-12)


@pytest.mark.cuba_lif
@pytest.mark.parametrize("reset, spikes", [("subtract", 3), ("zero", 2)])
def test_cuba_lif_hand_computed(backend, reset, spikes):
    # alphas .5, I = 1 from k=1: i_syn = 1, 1.5, 1.75, 1.875, 1.9375
    #   v = .5, 1.0 (no spike: strict >), 1.375* , then subtract: .375 -> 1.125* -> .125 -> 1.03125*
    #   (3 spikes, k=3,4,5); zero reset: 0 -> .9375 -> 1.4375* (2 spikes, k=3,5)
    net = SpikingNetwork([
        Layer("in", "input", 1, params={"gain": 1.0}),
        Layer("c", "cuba_lif", 1, options={"reset": reset},
              params={"tau_syn_s": 2e-3, "tau_mem_s": 2e-3, "r": 1.0, "v_leak": 0.0, "v_threshold": 1.0,
                      "w_in": 1.0, "v_init": 0.0}, connection=Connection([[1.0]], [0.0])),
    ], dt_s=1e-3)
    rec = simulate(net, np.array([[1.0]]), 6, backend=backend)
    assert _counts(rec) == [[[6]], [[spikes]]]
    assert rec.outputs[0, 0] == pytest.approx(spikes / 5)


def test_edge_cases_v_init_spike_and_connection_without_synapses(backend):
    # input: x = 0 with v_init 1.5 spikes once (k=0); x = .7 from v_init .2: v = .9, 1.6*, 1.3*, 1.0,
    #   1.7*, 1.4*, 1.1*, .8 -> 5 spikes. Active: 8 steps receiving .7 + the v_init spike = 9.
    # hidden: an all-zero weight matrix (no synapse at all), bias .3 on neuron 0:
    #   v = .3, .6, .9, 1.2* -> .2, .5, .8, 1.1* (k=1..7) -> 2 spikes, active only when spiking.
    # readout (k=2..7): the k=4 spike arrives at k=5, the k=7 one after the end: sigma = 1 -> 1/6.
    net = SpikingNetwork([
        Layer("in", "input", 3, params={"v_init": [0.5, 1.5, 0.2]}),
        Layer("h", "if", 2, params={"v_threshold": 1.0, "v_init": 0.0},
              connection=Connection(np.zeros((2, 3)), [0.3, 0.0])),
        Layer("o", "readout", 2, params={"scale": 1.0}, connection=Connection([[1.0, 0.0], [0.0, 0.0]], [0.0, 0.0])),
    ])
    rec = simulate(net, np.array([[0.0, 0.0, 0.7]]), 8, backend=backend)
    assert _counts(rec) == [[[0, 1, 5]], [[2, 0]], [[0, 0]]]
    assert _active(rec) == [9, 2, 1]
    assert rec.synaptic_ops == 2  # input neurons have no outgoing synapse; hidden neuron 0 has one
    np.testing.assert_allclose(rec.outputs, [[1 / 6, 0.0]], atol=1e-12)


# ----------------------------------------------------------------------------- agreement
def random_net(kind: str, encoding: str, last: str, seed: int, step: float = 0.0, reset: str = "subtract",
               sizes=(10, 16, 12, 5), density: float = 0.4) -> SpikingNetwork:
    rng = np.random.default_rng(seed)
    layers = [Layer("in", "input", sizes[0], params={"gain": 1.0},
                    options={"encoding": encoding, "payload_step": step})]
    for l, (n_in, n) in enumerate(zip(sizes, sizes[1:]), start=1):
        w = rng.normal(0, 1 / np.sqrt(n_in * density), (n, n_in)) * (rng.random((n, n_in)) < density)
        k = last if l == len(sizes) - 1 else kind
        params = {
            "if": {"v_threshold": rng.uniform(0.5, 1.5, n), "v_init": rng.uniform(0, 0.5, n)},
            "lif": {"tau_s": rng.uniform(2e-3, 2e-2, n), "r": 3.0, "v_leak": 0.0, "v_threshold": 0.5, "v_init": 0.0},
            "cuba_lif": {"tau_syn_s": 5e-3, "tau_mem_s": rng.uniform(2e-3, 2e-2, n), "r": 3.0, "v_leak": 0.05,
                         "v_threshold": 0.5, "w_in": 1.0, "v_init": 0.0},
            "li": {"tau_s": 1e-2, "r": 1.0, "v_leak": 0.0, "v_init": 0.0},
            "sigma_delta": {"v_threshold": 0.05},
            "readout": {"scale": 1.0},
        }[k]
        options = {"payload_step": step} if k == "sigma_delta" else {}
        if k in ("if", "lif", "cuba_lif"):
            options["reset"] = reset
        if k == "readout":
            options.update(decode="sum" if kind == "sigma_delta" else "mean", activation="sigmoid")
        layers.append(Layer(f"l{l}", k, n, params=params, options=options,
                            connection=Connection(w, rng.normal(0, 0.05, n))))
    return SpikingNetwork(layers)


AGREEMENT_CASES = {  # name -> (random_net arguments, capabilities the case needs)
    "if-regular": (dict(kind="if", encoding="regular", last="readout"), []),
    "if-bernoulli-zero": (dict(kind="if", encoding="bernoulli", last="readout", reset="zero"),
                          [pytest.mark.bernoulli_input]),
    "lif-li": (dict(kind="lif", encoding="regular", last="li"), []),
    "cuba-current": (dict(kind="cuba_lif", encoding="current", last="cuba_lif", reset="zero"),
                     [pytest.mark.cuba_lif, pytest.mark.current_input]),
    "sigma-delta-graded": (dict(kind="sigma_delta", encoding="graded", last="readout", step=1 / 16),
                           [pytest.mark.graded_spikes]),
    "sigma-delta-current": (dict(kind="sigma_delta", encoding="current", last="sigma_delta", step=1 / 32),
                            [pytest.mark.graded_spikes, pytest.mark.current_input]),
}


@pytest.mark.parametrize("case", [pytest.param(name, marks=marks, id=name)
                                  for name, (_, marks) in AGREEMENT_CASES.items()])
def test_agrees_with_reference(other_backend, case):
    """Every backend computes in float64 with the reference's arithmetic, so on these networks
    the spike counts, active updates and outputs are those of the reference engine (the contract
    allows 1 % of counts off by one; none is)."""
    net = random_net(seed=len(case), **AGREEMENT_CASES[case][0])
    x = np.random.default_rng(7).random((6, net.input_size))
    ref = simulate(net, x, 16, backend="reference", seed=5)
    rec = simulate(net, x, 16, backend=other_backend, seed=5)
    c_ref = np.concatenate([layer.spike_counts.ravel() for layer in ref.layers])
    c = np.concatenate([layer.spike_counts.ravel() for layer in rec.layers])
    assert c_ref.sum() > 0.05 * c_ref.size  # the case exercises spikes
    np.testing.assert_array_equal(c, c_ref)
    assert rec.synaptic_ops == ref.synaptic_ops
    assert _active(rec) == _active(ref)
    np.testing.assert_allclose(rec.outputs, ref.outputs, rtol=0, atol=1e-9)


@pytest.mark.chunking
@pytest.mark.bernoulli_input
def test_chunking_does_not_change_results(backend):
    net = random_net("if", "bernoulli", "readout", seed=3)
    x = np.random.default_rng(8).random((5, net.input_size))
    whole = simulate(net, x, 12, backend=backend, seed=2)
    chunked = simulate(net, x, 12, backend=backend, seed=2, chunk_size=2)
    assert chunked.info["chunks"] == 3
    assert _counts(chunked) == _counts(whole)
    assert _active(chunked) == _active(whole)
    np.testing.assert_array_equal(chunked.outputs, whole.outputs)


@pytest.mark.lava
def test_lava_dense_synapses_match_sparse(require_backend):
    require_backend("lava")
    rec = simulate(rate_net(), RATE_X, 6, backend="lava", synapses="dense")
    assert _counts(rec) == RATE_EXPECTED["subtract"]["counts"]
    assert rec.info["lava_synapses"] == "dense"


@pytest.mark.lava
def test_lava_counters_export_matches_var_get(require_backend):
    """The counters the Lava models export at the last step equal what Lava's Var.get() reads."""
    require_backend("lava")
    rec = simulate(rate_net(), RATE_X, 6, backend="lava", check_vars=True)
    lava_vars = rec.info["lava_vars"]
    assert len(lava_vars) == 3
    for layer, read in zip(rec.layers, lava_vars):
        assert read["count"].astype(int).reshape(layer.spike_counts.shape).tolist() == layer.spike_counts.tolist()
        assert int(read["n_active"].sum()) == layer.active_neuron_updates


@pytest.mark.lava
def test_lava_model_failure_raises_instead_of_hanging(monkeypatch, require_backend):
    require_backend("lava")
    from neurosim.backends import lava_backend

    def boom(model, a, enabled):
        raise ValueError("boom")

    monkeypatch.setitem(lava_backend.STEPS, "if", boom)
    with pytest.raises(RuntimeError, match="lava process 'neurosim_h' failed: ValueError: boom"):
        simulate(rate_net(), RATE_X, 6, backend="lava")


@pytest.mark.brian2
@pytest.mark.slow
def test_brian2_cpp_standalone_hand_computed(require_backend):
    """Compiled once, rerun per chunk with new inputs (run_args); about 10 s of compiling."""
    require_backend("brian2")
    from neurosim.backends import brian2_backend

    if brian2_backend.target_problem("cpp_standalone"):
        pytest.skip(brian2_backend.target_problem("cpp_standalone"))
    rec = simulate(graded_net(), np.array([[0.3, 0.8], [0.1, 0.0], [0.3, 0.8]]), 5, backend="brian2",
                   target="cpp_standalone", chunk_size=2)
    assert _counts(rec) == [[[1, 1], [0, 0], [1, 1]], [[1, 0], [1, 1], [1, 0]], [[0], [0], [0]]]
    np.testing.assert_allclose(rec.outputs.ravel(), [0.75, 1.875, 0.75], atol=1e-12)
    assert rec.info["brian2_target"] == "cpp_standalone" and rec.info["chunks"] == 2


# ----------------------------------------------------------------------------- errors
def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and msg
    return msg


def test_unknown_backend_lists_the_known_ones():
    known = re.escape(", ".join(BACKENDS))
    with pytest.raises(BackendUnavailableError, match=f"unknown backend 'nest'; available: {known}$"):
        simulate(rate_net(), RATE_X, 6, backend="nest")


@pytest.mark.brian2
def test_missing_brian2_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "brian2", None)
    with pytest.raises(BackendUnavailableError, match=r"backend 'brian2' is not usable: .*pip install") as info:
        simulate(rate_net(), RATE_X, 6, backend="brian2")
    _one_line(info.value)


@pytest.mark.lava
def test_missing_lava_says_how_to_install(monkeypatch):
    monkeypatch.setattr(lava_shim, "_IMPORTED", False)
    monkeypatch.setitem(sys.modules, "lava", None)
    with pytest.raises(BackendUnavailableError,
                       match=r"backend 'lava' is not usable: .*--ignore-requires-python") as info:
        simulate(rate_net(), RATE_X, 6, backend="lava")
    _one_line(info.value)


@pytest.mark.parametrize("name, options, match", [
    pytest.param("brian2", {"targett": "numpy"}, r"unknown option\(s\) 'targett'", marks=pytest.mark.brian2),
    pytest.param("brian2", {"target": "gpu"}, "unknown brian2 target 'gpu'", marks=pytest.mark.brian2),
    pytest.param("brian2", {"chunk_size": 0}, "chunk_size must be a positive", marks=pytest.mark.brian2),
    pytest.param("lava", {"precision": "fixed"}, "precision 'fixed' is not supported", marks=pytest.mark.lava),
    pytest.param("lava", {"synapses": "conv"}, "synapses must be 'sparse' or 'dense'", marks=pytest.mark.lava),
])
def test_bad_options_are_one_line_errors(name, options, match, require_backend):
    require_backend(name)
    with pytest.raises(ValidationError, match=match) as info:
        simulate(rate_net(), RATE_X, 6, backend=name, **options)
    _one_line(info.value)


@pytest.mark.parametrize("name, module, table", [
    pytest.param("brian2", "neurosim.backends.brian2_backend", "BUILDERS", marks=pytest.mark.brian2),
    pytest.param("lava", "neurosim.backends.lava_backend", "STEPS", marks=pytest.mark.lava),
])
def test_unbuildable_kind_is_a_one_line_error(monkeypatch, name, module, table, require_backend):
    require_backend(name)
    mod = importlib.import_module(module)
    monkeypatch.delitem(getattr(mod, table), "cuba_lif")
    if name == "lava":
        monkeypatch.setattr(mod, "SUPPORTED_KINDS", tuple(k for k in mod.SUPPORTED_KINDS if k != "cuba_lif"))
    net = SpikingNetwork([
        Layer("in", "input", 1), Layer("syn", "cuba_lif", 1, connection=Connection([[1.0]], [0.0]), params={
            "tau_syn_s": 2e-3, "tau_mem_s": 2e-3, "r": 1.0, "v_leak": 0.0, "v_threshold": 1.0, "w_in": 1.0})])
    with pytest.raises(UnsupportedNodeError, match=f"cannot build layer 'syn' of kind cuba_lif on backend {name}"):
        simulate(net, np.ones((1, 1)), 4, backend=name)


@pytest.mark.lava
@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.10 accepts the default the shim allows")
def test_lava_shim_patch_is_undone(require_backend):
    """After lava's import, Python 3.11's check of mutable dataclass defaults is back in force."""
    require_backend("lava")
    assert "lava.magma.compiler.var_model" in sys.modules
    assert dataclasses._get_field.__module__ == "dataclasses"  # the original function is back

    @dataclasses.dataclass
    class Inner:
        a: int = 0

    with pytest.raises(ValueError, match="mutable default"):
        @dataclasses.dataclass
        class Outer:
            inner: Inner = Inner()
