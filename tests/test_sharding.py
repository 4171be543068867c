"""Chunked and sharded simulation: per-step recording, memory-budget chunks, Dask shards.

Expectations are hand-computed spike trains (from the semantics of :mod:`neurosim.network`)
and the single-batch run of the same engine, which chunks and shards must reproduce exactly
(per-step counts included: the chunks' and shards' ``step_counts`` add up to the single batch's).
"""
from __future__ import annotations

import numpy as np
import pytest

from neurosim.backends import simulate
from neurosim.backends.chunking import count_dtype
from neurosim.errors import ValidationError
from neurosim.network import Connection, Layer, SpikingNetwork


def rate_net(encoding: str = "regular") -> SpikingNetwork:
    """2 inputs -> 2 IF neurons (one absent synapse, a bias) -> 1 readout."""
    return SpikingNetwork([
        Layer("in", "input", 2, params={"gain": 1.0}, options={"encoding": encoding}),
        Layer("h", "if", 2, params={"v_threshold": 1.0, "v_init": 0.0},
              connection=Connection(np.array([[0.75, 0.5], [0.0, 0.5]]), np.array([0.0, 0.25]))),
        Layer("out", "readout", 1, params={"scale": 1.0},
              connection=Connection(np.array([[0.5, -1.0]]), np.array([0.25]))),
    ])


RATE_X = np.array([[0.5, 1.0], [1.0, 0.0]])


def random_net(seed: int = 0, sizes=(20, 30, 10), density: float = 0.3, encoding: str = "regular"):
    rng = np.random.default_rng(seed)
    d, h, o = sizes

    def conn(n_out, n_in):
        w = rng.normal(0.1, 0.5, (n_out, n_in)) * (rng.random((n_out, n_in)) < density)
        return Connection(w, rng.normal(0, 0.05, n_out))

    return SpikingNetwork([
        Layer("in", "input", d, params={"gain": 1.0}, options={"encoding": encoding}),
        Layer("hid", "if", h, params={"v_threshold": 1.0, "v_init": 0.0}, connection=conn(h, d)),
        Layer("out", "readout", o, params={"scale": 0.5}, options={"activation": "sigmoid"}, connection=conn(o, h)),
    ])


def assert_same_record(a, b, exact_outputs: bool = True) -> None:
    for la, lb in zip(a.layers, b.layers):
        assert np.array_equal(la.spike_counts, lb.spike_counts), la.name
        assert la.synaptic_ops == lb.synaptic_ops
        assert la.active_neuron_updates == lb.active_neuron_updates
        assert la.neuron_updates == lb.neuron_updates
        assert la.step_counts is not None and la.step_counts.any() == la.spike_counts.any()
        assert np.array_equal(la.step_counts, lb.step_counts), la.name
    if exact_outputs:
        assert np.array_equal(a.outputs, b.outputs)
    else:  # a different batch shape may change BLAS's order of additions in the readout's W @ sum(m)
        np.testing.assert_allclose(a.outputs, b.outputs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", ["reference", "torch"])
def test_record_returns_hand_computed_step_spikes(backend):
    pytest.importorskip("torch")
    rec = simulate(rate_net(), RATE_X, 6, backend=backend, record=[1, 0])
    # regular input, v starts at 0.5: x = 0.5 spikes at k = 1, 3, 5; x = 1 at every step; x = 0 never
    steps = rec.step_spikes["in"]
    assert steps.shape == (2, 6, 2) and steps.dtype == bool
    assert steps[1, :, 0].nonzero()[0].tolist() == [1, 3, 5]    # sample 0 (second recorded)
    assert steps[1, :, 1].nonzero()[0].tolist() == [0, 1, 2, 3, 4, 5]
    assert steps[0, :, 1].tolist() == [False] * 6                # sample 1, x = 0
    # hidden, sample 0: neuron a spikes at k = 2, 3, 4; neuron b at k = 2, 3, 5 (derivation in test_backends)
    hid = rec.step_spikes["h"]
    assert hid[1, :, 0].nonzero()[0].tolist() == [2, 3, 4]
    assert hid[1, :, 1].nonzero()[0].tolist() == [2, 3, 5]
    # sample 1: neuron a gets 0.75 per step -> k = 2, 3, 5; neuron b only its bias 0.25 -> k = 5
    assert hid[0, :, 0].nonzero()[0].tolist() == [2, 3, 5]
    assert hid[0, :, 1].nonzero()[0].tolist() == [5]
    assert not rec.step_spikes["out"].any()                      # a readout emits nothing
    for layer in rec.layers:                                     # the steps add up to the counts
        assert rec.step_spikes[layer.name].sum(axis=1).tolist() == layer.spike_counts[[1, 0]].tolist()


def test_record_refuses_an_index_out_of_range():
    with pytest.raises(ValidationError, match=r"record: sample indices must lie in \[0, 2\)"):
        simulate(rate_net(), RATE_X, 6, record=[2])


@pytest.mark.parametrize("encoding", ["regular", "bernoulli"])
def test_chunks_give_the_single_batch_record(encoding):
    net = random_net(encoding=encoding)
    x = np.random.default_rng(3).random((23, 20)) * (np.random.default_rng(4).random((23, 20)) < 0.6)
    whole = simulate(net, x, 12, seed=7, chunk_size=23, threads=1, record=[0, 22, 5])
    for chunk_size, threads in ((1, 1), (5, 2), (10, 3)):
        part = simulate(net, x, 12, seed=7, chunk_size=chunk_size, threads=threads, record=[0, 22, 5])
        assert part.info["chunks"] == -(-23 // chunk_size)
        assert_same_record(whole, part, exact_outputs=False)
        for name, arr in whole.step_spikes.items():
            assert np.array_equal(arr, part.step_spikes[name])


def test_memory_budget_sets_the_chunk_not_the_sample_count():
    net = random_net(sizes=(20, 30, 10))
    x = np.random.default_rng(0).random((300, 20))
    # 96 bytes per neuron x 60 neurons = 5,760 bytes per sample: 0.05 MiB -> 9 samples per chunk
    rec = simulate(net, x, 8, memory_budget_mb=0.05, threads=1)
    assert rec.info["chunk_size"] == 9 and rec.info["chunks"] == 34


def test_counts_use_the_smallest_integer_type():
    assert count_dtype(127) == np.int8 and count_dtype(128) == np.int16 and count_dtype(40_000) == np.int32
    rec = simulate(rate_net(), RATE_X, 6)
    assert rec.layers[1].spike_counts.dtype == np.int8


@pytest.mark.parametrize("encoding", ["bernoulli"])
def test_two_worker_cluster_gives_the_single_process_record(encoding):
    """2,000 samples sharded over a 2-worker LocalCluster: the record of one process, exactly."""
    pytest.importorskip("dask.distributed")
    net = random_net(sizes=(20, 40, 10), encoding=encoding)
    x = np.random.default_rng(5).random((2000, 20))
    single = simulate(net, x, 10, seed=3, record=[0, 1999, 1000])
    sharded = simulate(net, x, 10, seed=3, record=[0, 1999, 1000], workers=2)
    assert sharded.info["shards"] >= 2 and sharded.info["workers"] == 2
    assert sharded.num_samples == 2000
    assert_same_record(single, sharded)
    for name, arr in single.step_spikes.items():
        assert np.array_equal(arr, sharded.step_spikes[name])


def test_a_failed_shard_is_retried(monkeypatch, tmp_path):
    """The first attempt of the first shard raises; the retry runs it and the record is complete."""
    distributed = pytest.importorskip("dask.distributed")
    from neurosim import sharding
    from neurosim.backends import reference

    net = random_net()
    x = np.random.default_rng(6).random((600, 20))
    log = tmp_path / "attempts.txt"  # tasks are serialised: count attempts in a file, not in a closure
    log.write_text("")
    real = sharding._run_shard

    def flaky(backend, network, xs, *args):
        with open(log, "a") as f:
            f.write(f"{len(xs)}\n")
        if len(log.read_text().split()) == 1:
            raise OSError("worker lost")
        return real(backend, network, xs, *args)

    def broken(*args):
        raise OSError("worker lost")

    def run(function, retries):
        monkeypatch.setattr(sharding, "_run_shard", function)
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                      dashboard_address=":0") as lc, distributed.Client(lc) as client:
            return sharding.run_sharded(client, net, x, 8, shards=3, chunk_size=200, progress=False,
                                        retries=retries)

    merged = run(flaky, 1)
    single = reference.run(net, x, 8, chunk_size=200, threads=1)
    assert len(log.read_text().split()) == 4  # 3 shards, one of them twice
    assert merged.info["shards"] == 3
    for a, b in zip(merged.spike_counts, single.spike_counts):
        assert np.array_equal(a, b)
    assert merged.active_updates == single.active_updates
    with pytest.raises(OSError, match="worker lost"):
        run(broken, 1)
