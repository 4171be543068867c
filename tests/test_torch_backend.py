"""The PyTorch backend beyond the shared backend suite: larger networks against the reference
engine, both product strategies, float32, devices and options.

The shared suite (tests/test_backends.py) runs the hand-computed cases and the agreement cases
on ``torch`` as on every backend; here the expectations are the reference engine's records on
networks large enough that the backend switches between its dense and events products.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurosim.backends import simulate  # noqa: E402
from neurosim.errors import BackendUnavailableError, ValidationError  # noqa: E402
from neurosim.network import Connection, Layer, SpikingNetwork  # noqa: E402


def autoencoder(d=48, h=120, density=0.25, seed=0, encoding="regular"):
    rng = np.random.default_rng(seed)

    def conn(n_out, n_in):
        w = rng.uniform(-0.6, 0.9, (n_out, n_in)) / np.sqrt(n_in * density) * (rng.random((n_out, n_in)) < density)
        return Connection(w, rng.normal(-0.02, 0.05, n_out))

    return SpikingNetwork([
        Layer("in", "input", d, params={"gain": 1.0}, options={"encoding": encoding}),
        Layer("hid", "if", h, params={"v_threshold": 1.0, "v_init": 0.5}, connection=conn(h, d)),
        Layer("out", "readout", d, params={"scale": 1.0}, options={"activation": "sigmoid"}, connection=conn(d, h)),
    ])


def inputs(n, d, seed=1, active=0.3):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)) * (rng.random((n, d)) < active)


@pytest.mark.parametrize("encoding", ["regular", "bernoulli"])
@pytest.mark.parametrize("product", ["dense", "events"])
def test_float64_record_is_the_reference_record(encoding, product):
    net = autoencoder(encoding=encoding)
    x = inputs(64, 48)
    ref = simulate(net, x, 24, seed=4)
    rec = simulate(net, x, 24, backend="torch", seed=4, product=product)
    assert rec.info["products"]["hid"][product] == 23  # every enabled step but the first, which has no input
    for a, b in zip(ref.layers, rec.layers):
        np.testing.assert_array_equal(a.spike_counts, b.spike_counts)
        assert a.active_neuron_updates == b.active_neuron_updates
    assert rec.synaptic_ops == ref.synaptic_ops
    np.testing.assert_allclose(rec.outputs, ref.outputs, rtol=0, atol=1e-12)


def test_float32_agrees_within_one_spike():
    """float32 rounds membrane sums differently: counts may differ by one near a threshold."""
    net = autoencoder(seed=2)
    x = inputs(64, 48, seed=3)
    ref = simulate(net, x, 24)
    rec = simulate(net, x, 24, backend="torch", dtype="float32")
    assert rec.info["dtype"] == "float32"
    diff = np.abs(ref.layers[1].spike_counts.astype(int) - rec.layers[1].spike_counts.astype(int))
    assert diff.max() <= 1
    assert (diff == 0).mean() >= 0.99
    np.testing.assert_allclose(rec.outputs, ref.outputs, atol=1e-3)


def test_record_and_chunks_on_torch():
    net = autoencoder()
    x = inputs(30, 48)
    whole = simulate(net, x, 16, backend="torch", record=[29, 3])
    chunked = simulate(net, x, 16, backend="torch", record=[29, 3], chunk_size=4)
    assert chunked.info["chunks"] == 8
    for name, arr in whole.step_spikes.items():
        np.testing.assert_array_equal(arr, chunked.step_spikes[name])
        counts = whole.layer(name).spike_counts[[29, 3]]
        np.testing.assert_array_equal(arr.sum(axis=1), counts)


def test_bad_options_are_one_line_errors():
    net = autoencoder()
    x = inputs(2, 48)
    with pytest.raises(ValidationError, match="dtype must be one of float64, float32, got 'float16'"):
        simulate(net, x, 8, backend="torch", dtype="float16")
    with pytest.raises(ValidationError, match="unknown device 'tpu'"):
        simulate(net, x, 8, backend="torch", device="tpu")
    with pytest.raises(ValidationError, match="unknown option"):
        simulate(net, x, 8, backend="torch", target="cython")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_device_says_so():
    with pytest.raises(BackendUnavailableError, match="torch sees no CUDA device"):
        simulate(autoencoder(), inputs(2, 48), 8, backend="torch", device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_record_is_the_reference_record():
    net = autoencoder(encoding="bernoulli")
    x = inputs(64, 48)
    ref = simulate(net, x, 24, seed=4)
    rec = simulate(net, x, 24, backend="torch", device="cuda", seed=4, record=[0, 63])
    assert rec.info["device"].startswith("cuda")
    for a, b in zip(ref.layers, rec.layers):
        np.testing.assert_array_equal(a.spike_counts, b.spike_counts)
        assert a.active_neuron_updates == b.active_neuron_updates
    np.testing.assert_allclose(rec.outputs, ref.outputs, rtol=0, atol=1e-12)
