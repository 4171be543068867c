"""ANN-to-SNN conversion: checkpoints and plain state dicts, normalisation, codings, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from converters.ann_to_snn import (ann_forward_from_network, ann_macs, calibration_scales, convert, convert_file,
                                   load_ann)
from neurosim.activity import load_record
from neurosim.backends import simulate
from neurosim.cli import main
from neurosim.data import load_dataset
from neurosim.errors import CheckpointError, ConversionError, ValidationError

from networks import PERCENTILES, make_checkpoint


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpts")
    make_checkpoint(d / "sparse.pt", "sparse")
    make_checkpoint(d / "dense.pt", "dense")
    return d


@pytest.fixture(scope="module")
def x_test():
    return load_dataset("digits", "test").x[:120].astype(np.float64)


def sequential(*sizes, seed=0):
    torch.manual_seed(seed)
    mods = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(nn.Linear(a, b))
        mods.append(nn.ReLU() if i < len(sizes) - 2 else nn.Sigmoid())
    return nn.Sequential(*mods)


def test_plain_sequential_state_dict_converts(tmp_path, x_test):
    model = sequential(64, 24, 64)
    path = tmp_path / "ae.pt"
    torch.save(model.state_dict(), path)
    net, ann = convert_file(path, "rate", calibration=300)
    assert [l.kind for l in net.layers] == ["input", "if", "readout"]
    assert net.metadata["ann_layers"] == ["0", "2"] and net.metadata["source_format"] == "state_dict"
    with torch.no_grad():
        expected = model(torch.from_numpy(x_test).float()).double().numpy()
    # the network's weights reproduce the source ANN (float32 torch vs float64)
    _, y = ann_forward_from_network(net, x_test)
    np.testing.assert_allclose(y, expected, atol=1e-5)
    # the spiking network approaches the ANN as T grows
    errs = [float(np.mean((simulate(net, x_test, T).outputs - y) ** 2)) for T in (8, 32, 128)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 2e-4


def test_deeper_sequential_gets_one_if_layer_per_hidden_layer(tmp_path, x_test):
    model = sequential(64, 32, 16, 64)
    torch.save(model.state_dict(), tmp_path / "deep.pt")
    net, _ = convert_file(tmp_path / "deep.pt", "rate", calibration=200)
    assert [(l.name, l.kind, l.size) for l in net.layers] == [
        ("input", "input", 64), ("hidden1", "if", 32), ("hidden2", "if", 16), ("output", "readout", 64)]
    rec = simulate(net, x_test, 96)
    _, y = ann_forward_from_network(net, x_test)
    assert float(np.mean((rec.outputs - y) ** 2)) < 1e-3


class OutOfOrder(nn.Module):
    """Registers its middle layer first: the key order is not the forward order (64-32-16-64)."""

    def __init__(self):
        super().__init__()
        self.mid = nn.Linear(32, 16)
        self.enc = nn.Linear(64, 32)
        self.dec = nn.Linear(16, 64)


def test_layer_order_from_option_when_keys_are_out_of_order(tmp_path):
    path = tmp_path / "m.pt"
    torch.save(OutOfOrder().state_dict(), path)
    with pytest.raises(ConversionError, match="layer 'enc' takes 64 inputs but 'mid' gives 16: .*--layers"):
        load_ann(path)
    ann = load_ann(path, layers=["enc", "mid", "dec"])
    assert ann.names == ["enc", "mid", "dec"] and ann.weights[0].shape == (32, 64)
    with pytest.raises(ConversionError, match="'foo', which is not a layer"):
        load_ann(path, layers=["enc", "mid", "foo"])
    with pytest.raises(ConversionError, match="layer 'dec' is not in --layers"):
        load_ann(path, layers=["enc", "mid"])


@pytest.mark.parametrize("model,pattern", [
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Linear(4, 4)), r"unsupported layer '0' \(Conv2d"),
    (nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 8)),
     r"unsupported layer '1' \(BatchNorm"),
    (nn.Sequential(nn.Linear(8, 4), nn.LayerNorm(4), nn.Linear(4, 8)), r"unsupported layer '1' \(a per-feature"),
])
def test_unsupported_layers_are_named(tmp_path, model, pattern):
    path = tmp_path / "bad.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(ConversionError, match=pattern):
        load_ann(path)


def test_gate_threshold_becomes_negative_bias_and_masks_absent_synapses(ckpt_dir):
    raw = torch.load(ckpt_dir / "sparse.pt", weights_only=True)
    sd = raw["state_dict"]
    net = convert(load_ann(ckpt_dir / "sparse.pt"), "rate", percentile=99.0)
    lam = float(np.interp(99.0, PERCENTILES, raw["calibration"]["hidden"].numpy()))
    lam0 = float(np.interp(99.0, PERCENTILES, raw["calibration"]["input"].numpy()))
    hidden = net.layers[1]
    np.testing.assert_allclose(hidden.connection.bias,
                               (sd["encoder.bias"].double() - sd["gate.threshold"].double()).numpy() / lam,
                               rtol=1e-12)
    np.testing.assert_allclose(hidden.connection.dense(), sd["encoder.weight"].double().numpy() * lam0 / lam,
                               rtol=1e-12)
    np.testing.assert_allclose(net.layers[2].connection.dense(), sd["decoder.weight"].double().numpy() * lam,
                               rtol=1e-12)
    assert hidden.connection.nonzero_synapses == int(raw["masks"]["encoder.weight"].sum())
    assert net.layers[2].connection.nonzero_synapses == int(raw["masks"]["decoder.weight"].sum())
    assert net.metadata["gate"] == "threshold" and net.metadata["calibration"]["source"] == "checkpoint"
    np.testing.assert_array_equal(hidden.params["v_init"], 0.5)
    assert hidden.options["reset"] == "subtract"


def test_stored_calibration_outside_its_levels_needs_data(ckpt_dir):
    ann = load_ann(ckpt_dir / "sparse.pt")
    with pytest.raises(ConversionError, match="outside the stored calibration levels"):
        calibration_scales(ann, 10.0)
    with pytest.raises(ValidationError, match="percentile must be in"):
        calibration_scales(ann, 0.0)


def test_percentile_100_on_the_calibration_data_never_saturates(ckpt_dir, x_test):
    ann = load_ann(ckpt_dir / "dense.pt")
    net = convert(ann, "rate", percentile=100.0, calibration_samples=x_test)
    hidden, _ = ann_forward_from_network(net, x_test)
    assert hidden[0].max() == pytest.approx(1.0)  # the largest activation is exactly one threshold
    rec = simulate(net, x_test, 64)
    rates = rec.layers[1].spike_counts / rec.layers[1].window
    top = np.unravel_index(np.argmax(hidden[0]), hidden[0].shape)
    assert rates[top] >= 1.0 - 2.0 / rec.layers[1].window  # activation 1 = one spike per step, unclipped
    # rate code of the normalised activation: |rate - h| <= ~1/T_l (rounding) plus input-rate noise
    assert np.abs(rates - hidden[0]).max() < 0.1
    assert np.corrcoef(rates.ravel(), hidden[0].ravel())[0, 1] > 0.98


def test_sparse_rate_network_matches_ann_sparsity(ckpt_dir, x_test):
    net, _ = convert_file(ckpt_dir / "sparse.pt", "rate")
    rec = simulate(net, x_test, 128)
    hidden, y = ann_forward_from_network(net, x_test)
    snn_active = (rec.layers[1].spike_counts > 0).mean()
    ann_active = (hidden[0] > 0).mean()
    assert abs(snn_active - ann_active) <= 0.2 * ann_active
    assert float(np.mean((rec.outputs - x_test) ** 2)) <= 1.02 * float(np.mean((y - x_test) ** 2))


def test_graded_coding_sends_one_payload_per_active_neuron(ckpt_dir, x_test):
    net, _ = convert_file(ckpt_dir / "sparse.pt", "graded", payload_bits=8)
    step = 1 / 255
    assert net.layers[1].options["payload_step"] == pytest.approx(step)
    np.testing.assert_allclose(net.layers[1].params["v_threshold"], step / 2)
    rec = simulate(net, x_test, 10)
    hidden, y = ann_forward_from_network(net, x_test)
    counts = rec.layers[1].spike_counts
    assert counts.max() == 1  # static input: at most one graded spike per neuron
    # a neuron spikes when its activation rounds to at least one step (the input's own payload
    # rounding moves a few activations across that line)
    assert np.mean((counts == 1) != (hidden[0] >= step / 2)) < 0.005
    assert float(np.mean((rec.outputs - y) ** 2)) < 1e-5
    macs = ann_macs(net, x_test)
    ops = rec.synaptic_ops / rec.num_samples
    # synaptic operations = effective MACs, less the activations below half a payload step
    assert 0.97 * macs["effective"] <= ops <= macs["effective"]
    assert macs["dense"] == 2 * 64 * 32


def test_graded_readout_does_not_depend_on_t(ckpt_dir, x_test):
    net, _ = convert_file(ckpt_dir / "sparse.pt", "graded")
    a, b = simulate(net, x_test, 5).outputs, simulate(net, x_test, 50).outputs
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_codings_and_encodings_are_checked(ckpt_dir):
    ann = load_ann(ckpt_dir / "sparse.pt")
    assert convert(ann, "rate", input_encoding="bernoulli").layers[0].options["encoding"] == "bernoulli"
    with pytest.raises(ValidationError, match="does not fit coding 'rate'"):
        convert(ann, "rate", input_encoding="graded")
    with pytest.raises(ValidationError, match="coding must be one of"):
        convert(ann, "temporal")
    with pytest.raises(ValidationError, match="payload bits"):
        convert(ann, "graded", payload_bits=0)


def test_cli_convert_and_simulate_write_json_beside(tmp_path, ckpt_dir, capsys):
    nir_path, act = tmp_path / "net.nir", tmp_path / "act"
    assert main(["convert", str(ckpt_dir / "sparse.pt"), "-o", str(nir_path), "--coding", "graded",
                 "--payload-bits", "6"]) == 0
    out = capsys.readouterr().out
    assert "graded coding" in out and "6 bits" in out
    summary = json.loads((tmp_path / "net.json").read_text())
    assert summary["coding"] == "graded" and summary["metadata"]["payload_bits"] == 6
    assert summary["nonzero_synapses"] < summary["synapses"]
    assert main(["simulate", str(nir_path), "--samples", "30", "--timesteps", "8", "-o", str(act)]) == 0
    assert "MSE vs input" in capsys.readouterr().out
    rec = load_record(act)
    assert rec.num_samples == 30 and rec.timesteps == 8 and rec.backend == "reference"
    assert rec.ann_outputs is not None and rec.mse_vs_ann < 1e-3
    meta = json.loads((tmp_path / "act.json").read_text())
    assert meta["info"]["ann_source"].startswith("checkpoint")
    assert meta["info"]["fidelity"][0]["layer"] == "hidden"


def test_cli_errors_exit_2_with_one_line(tmp_path, ckpt_dir, capsys):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip archive")
    conv = tmp_path / "conv.pt"
    torch.save(nn.Sequential(nn.Conv2d(1, 2, 3)).state_dict(), conv)
    big = tmp_path / "big.pt"
    torch.save(sequential(784, 16, 784).state_dict(), big)
    cases = [
        (["convert", str(corrupt), "-o", str(tmp_path / "a.nir")], "corrupt.pt"),
        (["convert", str(tmp_path / "missing.pt"), "-o", str(tmp_path / "a.nir")], "does not exist"),
        (["convert", str(conv), "-o", str(tmp_path / "a.nir")], "unsupported layer '0'"),
        (["convert", str(big), "-o", str(tmp_path / "a.nir")], "784 inputs but dataset 'digits' has 64"),
        (["convert", str(ckpt_dir / "sparse.pt"), "-o", str(tmp_path / "a.nir"), "--percentile", "101"],
         "percentile"),
    ]
    for argv, fragment in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and fragment in err and "Traceback" not in err, err
    assert not list(tmp_path.glob("a.*"))


def test_corrupt_checkpoint_library_error(tmp_path):
    bad = tmp_path / "x.pt"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="x.pt"):
        load_ann(bad)
