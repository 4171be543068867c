"""Graded coding of a static input completes in the network's depth in steps.

The expectation comes from the independent step-by-step simulator (:func:`networks.naive_run`)
run for many more steps: the outputs, spike counts and synaptic operations of ``T = depth`` are
those of ``T = 32``; only idle neuron updates are added by the longer run.
"""
from __future__ import annotations

import numpy as np

from neurosim import defaults
from neurosim.data import load_dataset
from networks import make_checkpoint, naive_run


def test_coding_timesteps_rule():
    assert defaults.coding_timesteps("graded", 32, 3) == 3
    assert defaults.coding_timesteps("rate", 32, 3) == 32


def test_a_graded_network_is_done_after_its_depth(tmp_path):
    import neurosim

    net = neurosim.convert(make_checkpoint(tmp_path / "s.pt"), coding="graded").network
    x = load_dataset("digits", "test").x[:20].astype(np.float64)
    depth = len(net.layers)
    T = defaults.coding_timesteps("graded", 32, depth)
    assert T == depth == 3
    short = neurosim.simulate(net, inputs=x, timesteps=T).record
    counts_long, _, out_long = naive_run(net, x, 32)
    for layer, long in zip(short.layers, counts_long):
        np.testing.assert_array_equal(layer.spike_counts, long)
    np.testing.assert_allclose(short.outputs, out_long, rtol=0, atol=1e-12)
    long_rec = neurosim.simulate(net, inputs=x, timesteps=32).record
    assert short.synaptic_ops == long_rec.synaptic_ops > 0
    assert sum(l.neuron_updates for l in short.layers) < sum(l.neuron_updates for l in long_rec.layers)
