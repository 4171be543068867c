"""Per-step spike counts (``step_counts``): a hand-computed 2-3-1 case on every backend that measures
them, identical counts across backends, consistency with the per-sample counts, and saving and
loading (records written before the field existed still load). Chunked and sharded runs are
checked in tests/test_sharding.py."""
from __future__ import annotations

import json

import numpy as np
import pytest

from neurosim.activity import load_record
from neurosim.backends import simulate
from neurosim.errors import RecordError
from neurosim.network import Connection, Layer, SpikingNetwork

W1 = np.array([[0.5, 0.0], [0.0, 1.0], [0.25, 0.5]])
W2 = np.array([[1.0, 0.0, 0.5]])


def hand_network() -> SpikingNetwork:
    """2 current inputs -> 3 IF neurons (v > 1 spikes, v -= 1) -> 1 readout; no biases."""
    return SpikingNetwork([
        Layer("in", "input", 2, options={"encoding": "current"}),
        Layer("hid", "if", 3, params={"v_threshold": 1.0, "v_init": 0.0}, connection=Connection(W1, np.zeros(3))),
        Layer("out", "readout", 1, params={"scale": 1.0}, connection=Connection(W2, np.zeros(1))),
    ])


HAND_X = np.array([[1.0, 1.0], [1.0, 0.0]])

#: hidden spikes per step, both samples summed (derivation in test_hand_computed_step_counts)
HAND_HIDDEN = [[0, 0, 0], [0, 0, 0], [0, 1, 1], [2, 1, 1], [0, 1, 0], [2, 1, 2], [0, 1, 1], [2, 1, 1], [0, 1, 0]]


@pytest.mark.step_counts
def test_hand_computed_step_counts(backend):
    """x = (1, 1) and (1, 0) as currents, T = 9.

    Input: a message wherever the drive is nonzero, every step: (2, 1) per step.
    Hidden (enabled k = 1..8, I = W1 @ x): sample 0, I = (0.5, 1, 0.75): n0 spikes at k = 3, 5, 7;
    n1 at 2..8; n2 at 2, 3, 5, 6, 7. Sample 1, I = (0.5, 0, 0.25): n0 at 3, 5, 7; n1 never;
    n2: v = .25, .5, .75, 1, 1.25* -> k = 5 only. Fan-outs (1, 0, 1): synaptic operations per
    step (0, 0, 1, 3, 0, 4, 1, 3, 0). The readout emits nothing.
    """
    rec = simulate(hand_network(), HAND_X, 9, backend=backend)
    inp, hid, out = rec.layers
    assert inp.step_counts.tolist() == [[2, 1]] * 9
    assert hid.step_counts.tolist() == HAND_HIDDEN
    assert out.step_counts.tolist() == [[0]] * 9
    assert hid.step_counts.dtype == np.int32
    assert hid.spikes_per_step.tolist() == [0, 0, 2, 4, 1, 5, 2, 4, 1]
    assert hid.synaptic_ops_per_step.tolist() == [0, 0, 1, 3, 0, 4, 1, 3, 0]
    assert inp.synaptic_ops_per_step.tolist() == [6] * 9  # fan-outs (2, 2): 2 x 2 + 1 x 2


def random_network(seed: int = 2) -> SpikingNetwork:
    """Bernoulli input -> IF -> sigma-delta (graded) -> readout, sparse random weights."""
    rng = np.random.default_rng(seed)

    def conn(n_out, n_in, density=0.3):
        w = rng.normal(0.15, 0.5, (n_out, n_in)) * (rng.random((n_out, n_in)) < density)
        return Connection(w, rng.normal(0.0, 0.05, n_out))

    return SpikingNetwork([
        Layer("in", "input", 24, params={"gain": 1.0}, options={"encoding": "bernoulli"}),
        Layer("h1", "if", 40, params={"v_threshold": 1.0, "v_init": 0.5}, connection=conn(40, 24)),
        Layer("h2", "sigma_delta", 20, params={"v_threshold": 0.05}, options={"payload_step": 1 / 64},
              connection=conn(20, 40)),
        Layer("out", "readout", 8, params={"scale": 1.0}, connection=conn(8, 20)),
    ])


RANDOM_X = np.random.default_rng(7).random((9, 24))


@pytest.mark.step_counts
def test_step_counts_add_up_to_the_spike_counts(backend):
    rec = simulate(random_network(), RANDOM_X, 14, backend=backend, seed=3)
    for l, layer in enumerate(rec.layers):
        assert layer.step_counts.shape == (14, layer.size)
        np.testing.assert_array_equal(layer.step_counts.sum(axis=0), layer.spike_counts.sum(axis=0, dtype=np.int64))
        assert not layer.step_counts[:l].any()  # layer l is enabled from step l
        assert int(layer.synaptic_ops_per_step.sum()) == layer.synaptic_ops
    assert rec.layers[2].step_counts.sum() > 0 and rec.layers[1].step_counts.sum() > 0


@pytest.mark.step_counts
def test_every_backend_gives_the_reference_step_counts(other_backend):
    ref = simulate(random_network(), RANDOM_X, 14, seed=3)
    rec = simulate(random_network(), RANDOM_X, 14, backend=other_backend, seed=3)
    for a, b in zip(ref.layers, rec.layers):
        np.testing.assert_array_equal(a.step_counts, b.step_counts, err_msg=a.name)


def test_lava_records_carry_no_step_counts(require_backend):
    """Lava keeps per-neuron totals only: its records say so with None, not with zeros."""
    require_backend("lava")
    rec = simulate(hand_network(), HAND_X, 9, backend="lava")
    assert all(layer.step_counts is None for layer in rec.layers)
    assert rec.layers[1].spikes_per_step is None and rec.layers[1].synaptic_ops_per_step is None


def test_step_counts_survive_save_and_load(tmp_path):
    rec = simulate(random_network(), RANDOM_X, 14, seed=3)
    rec.save(tmp_path / "r")
    back = load_record(tmp_path / "r.json")
    for a, b in zip(rec.layers, back.layers):
        assert b.step_counts.dtype == np.int32
        np.testing.assert_array_equal(a.step_counts, b.step_counts)


def test_a_record_without_step_counts_still_loads(tmp_path):
    """A record written before the field existed (no layer{i}_step_counts arrays) loads with None."""
    rec = simulate(random_network(), RANDOM_X, 14, seed=3)
    for layer in rec.layers:
        layer.step_counts = None
    rec.save(tmp_path / "old")
    with np.load(tmp_path / "old.npz") as npz:
        assert not any(k.endswith("_step_counts") for k in npz.files)
    assert json.loads((tmp_path / "old.json").read_text())["format_version"] == 1
    back = load_record(tmp_path / "old")
    assert all(layer.step_counts is None for layer in back.layers)
    np.testing.assert_array_equal(back.layers[1].spike_counts, rec.layers[1].spike_counts)


def one_more(s: np.ndarray) -> None:
    """One more spike at an enabled step (k >= 1) of a neuron that was silent there in some sample."""
    k, j = np.argwhere(s[1:] < 9)[0]
    s[k + 1, j] += 1


@pytest.mark.parametrize("change, message", [
    (one_more, "summed over the steps does not equal"),
    (lambda s: s.__setitem__((-1, 0), -1), r"must lie in \[0, 9\]"),
])
def test_inconsistent_step_counts_are_refused(tmp_path, change, message):
    rec = simulate(random_network(), RANDOM_X, 14, seed=3)
    change(rec.layers[1].step_counts)
    rec.save(tmp_path / "bad")
    with pytest.raises(RecordError, match="layer1_step_counts.*" + message):
        load_record(tmp_path / "bad")


def test_spikes_before_the_layer_is_enabled_are_refused(tmp_path):
    rec = simulate(random_network(), RANDOM_X, 14, seed=3)
    s = rec.layers[2].step_counts
    k = int(np.flatnonzero(s.sum(axis=1))[0])
    j = int(np.flatnonzero(s[k])[0])
    s[k, j] -= 1
    s[1, j] += 1  # moved to step 1: the same total, but layer 2 is enabled from step 2
    rec.save(tmp_path / "early")
    with pytest.raises(RecordError, match="layer2_step_counts has spikes before step 2"):
        load_record(tmp_path / "early")


def test_demo_records_carry_step_counts(tmp_path_factory):
    """The demo's saved records carry the per-step counts, so its estimates use the per-step model."""
    from factories import tiny_demo
    from neurosim.hardware import Workload

    out, _ = tiny_demo(tmp_path_factory)
    paths = sorted((out / "activity").glob("*.json"))
    assert len(paths) >= 4  # dense and sparse, rate and graded
    for path in paths:
        rec = load_record(path)
        assert all(layer.step_counts is not None for layer in rec.layers), path.name
        assert all(layer.has_steps for layer in Workload.from_record(rec).layers), path.name
