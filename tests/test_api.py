"""The public Python API: the docs page's example runs as written, its figures agree with
computations made here straight from the checkpoint, and provenance flows between stages."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import neurosim
from networks import make_checkpoint

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown page, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def checkpoint_arrays(path: Path) -> dict[str, np.ndarray]:
    """Masked weights and the gate-folded encoder bias, read with torch alone."""
    obj = torch.load(path, weights_only=True)
    sd, masks = obj["state_dict"], obj.get("masks") or {}
    arr = {k: (v * masks[k] if k in masks else v).double().numpy() for k, v in sd.items()}
    arr["encoder.bias"] = arr["encoder.bias"] - arr.get("gate.threshold", 0.0)
    return arr


@pytest.fixture(scope="module")
def docs_example(tmp_path_factory):
    """Run every python block of docs/api.md in a fresh folder holding runs/digits/{dense,sparse}.pt."""
    root = tmp_path_factory.mktemp("api_docs")
    run = root / "runs" / "digits"
    run.mkdir(parents=True)
    make_checkpoint(run / "dense.pt", "dense")
    make_checkpoint(run / "sparse.pt", "sparse")
    blocks = python_blocks(DOCS.read_text())
    namespace: dict = {"__name__": "api_docs"}
    cwd = Path.cwd()
    try:
        os.chdir(root)
        for block in blocks:
            exec(compile(block, str(DOCS), "exec"), namespace)
    finally:
        os.chdir(cwd)
    return root, run, namespace, blocks


def test_the_docs_example_uses_only_the_public_api(docs_example):
    _, _, _, blocks = docs_example
    assert len(blocks) >= 4
    code = "\n".join(blocks)
    imported = set(re.findall(r"^\s*(?:import|from)\s+([\w.]+)", code, flags=re.M))
    assert imported <= {"neurosim", "matplotlib", "matplotlib.pyplot"}
    used = set(re.findall(r"\bneurosim\.(\w+)", code))
    assert used and used <= set(neurosim.__all__)


def test_the_docs_example_measures_what_the_checkpoint_implies(docs_example):
    _, run, ns, _ = docs_example
    sparse = ns["results"]["sparse"]
    assert (sparse.dataset, sparse.split, sparse.num_samples, sparse.timesteps) == ("digits", "test", 100, 32)
    x = neurosim.load_dataset("digits", "test").x[:100].astype(np.float64)
    np.testing.assert_array_equal(sparse.record.inputs, x)
    w = checkpoint_arrays(run / "sparse.pt")
    fan_in_layer = np.count_nonzero(w["encoder.weight"], axis=0)  # each pixel's surviving synapses
    fan_hidden = np.count_nonzero(w["decoder.weight"], axis=0)
    h = np.maximum(x @ w["encoder.weight"].T + w["encoder.bias"], 0.0)
    # effective MACs: nonzero weights fed by a nonzero pixel or hidden activation, per input
    macs = ((x != 0) @ fan_in_layer + (h != 0) @ fan_hidden).mean()
    assert sparse.macs_per_inference == pytest.approx(macs, rel=1e-12)
    counts = [layer.spike_counts for layer in sparse.layers]
    synops = (counts[0].sum(axis=0) @ fan_in_layer + counts[1].sum(axis=0) @ fan_hidden) / 100
    assert sparse.synaptic_ops_per_inference == pytest.approx(synops, rel=1e-12)
    assert sparse.synaptic_ops == round(synops * 100)
    assert sparse.record.synaptic_ops_per_inference == sparse.synaptic_ops_per_inference
    assert sparse.spikes_per_inference == sum(c.sum() for c in counts) / 100
    assert [layer.window for layer in sparse.layers] == [32, 31, 30]
    assert "synaptic_ops_per_inference=" in repr(sparse) and "dataset='digits'" in repr(sparse)


def test_the_docs_example_writes_what_the_loaders_read(docs_example):
    _, run, ns, _ = docs_example
    estimates = ns["estimates"]
    assert len(estimates) == 4 and estimates.profiles == ["loihi2", "spinnaker2"]
    assert [e["model"] for e in estimates.to_list()] == ["dense", "dense", "sparse", "sparse"]
    again = neurosim.load_estimates(run / "estimates.json")
    assert again.to_list() == json.loads(estimates.to_json())
    assert [e["profile"] for e in again] == ["loihi2", "spinnaker2", "loihi2", "spinnaker2"]
    net = neurosim.load_network(run / "sparse.nir")
    assert net.metadata["dataset"] == "digits" and net.metadata["split"] == "train"
    summary = json.loads((run / "sparse.json").read_text())
    assert summary["nonzero_synapses"] == sum(np.count_nonzero(v) for k, v in
                                              checkpoint_arrays(run / "sparse.pt").items() if k.endswith("weight"))
    import matplotlib.image

    png = matplotlib.image.imread(run / "api_example.png")
    assert png.shape[:2] == (350, 1000)


def test_import_is_lazy_and_every_public_name_resolves():
    code = ("import sys, neurosim; heavy = [m for m in ('torch', 'numpy', 'scipy', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    for name in neurosim.__all__:
        assert getattr(neurosim, name) is not None
    with pytest.raises(AttributeError):
        neurosim.no_such_function  # noqa: B018


def test_oversized_samples_warn_once_and_take_the_whole_split(tmp_path):
    make_checkpoint(tmp_path / "sparse.pt", "sparse")
    net = neurosim.convert(tmp_path / "sparse.pt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim = neurosim.simulate(net, samples=5000, timesteps=4)
    held_out = len(neurosim.load_dataset("digits", "test"))
    assert sim.num_samples == held_out
    assert [str(w.message) for w in caught if w.category is neurosim.PipelineWarning] == \
        [f"5000 samples requested but digits test holds {held_out}: simulating all {held_out}"]


def test_a_network_without_provenance_names_the_fix(tmp_path):
    from neurosim.network import Connection, Layer, SpikingNetwork

    net = SpikingNetwork([Layer("in", "input", 10),
                          Layer("out", "readout", 2, params={"scale": 1.0},
                                connection=Connection(np.ones((2, 10)), np.zeros(2)))])
    with pytest.raises(neurosim.NeurosimError, match=r"takes 10 inputs but digits samples have 64 features "
                                                     r"\(pick the --dataset .* or give --inputs X.npy"):
        neurosim.simulate(net, dataset="digits", timesteps=4)
    sim = neurosim.simulate(net, inputs=np.eye(10)[:3], timesteps=4)
    np.testing.assert_allclose(sim.record.outputs, np.ones((3, 2)))  # one unit pulse through ones, mean decode


def test_graded_payloads_are_widened_not_clipped(tmp_path, capsys):
    make_checkpoint(tmp_path / "sparse.pt", "sparse")
    # scales at the 50th percentile: half the activations exceed 2**4 - 1 steps
    conv = neurosim.convert(tmp_path / "sparse.pt", "graded", percentile=50, payload_bits=4)
    assert conv.payload_bits == 4 and conv.payload_bits_needed > 4
    sim = neurosim.simulate(conv, samples=50, timesteps=6)
    w = checkpoint_arrays(tmp_path / "sparse.pt")
    x = sim.record.inputs
    h = np.maximum(x @ w["encoder.weight"].T + w["encoder.bias"], 0.0)
    scale = conv.network.metadata["calibration"]["scales"][1]

    def decode(hidden):
        return 1 / (1 + np.exp(-(hidden @ w["decoder.weight"].T + w["decoder.bias"])))

    widened, clipped = decode(h), decode(np.minimum(h, scale))
    err_widened = np.mean((sim.record.outputs - widened) ** 2)
    err_clipped = np.mean((sim.record.outputs - clipped) ** 2)
    assert err_widened < err_clipped / 10
    from neurosim.cli import main

    assert main(["convert", str(tmp_path / "sparse.pt"), "-o", str(tmp_path / "g.nir"), "--coding", "graded",
                 "--percentile", "50", "--payload-bits", "4"]) == 0
    out = capsys.readouterr().out
    assert "widened, never clipped" in out and f"needs {conv.payload_bits_needed} bits" in out


def test_mnist_run_flows_to_simulate_without_repeating_dataset_flags(mnist_dir, tmp_path, monkeypatch, capsys):
    from neurosim.cli import main

    project = tmp_path / "project"
    project.mkdir()
    (project / "data").symlink_to(Path(mnist_dir).resolve(), target_is_directory=True)
    monkeypatch.chdir(project)  # trained with a relative data folder, converted from elsewhere
    run = project / "runs" / "mnist"
    trained = neurosim.train(dataset="mnist", data_dir="data", out="runs/mnist", epochs=1, hidden=16,
                             max_train_samples=200, max_test_samples=50, plots=False)
    assert repr(trained).startswith("TrainResult(mnist, 1 epochs; dense: H=16")
    # a dense model multiplies every weight: 2 x 784 x 16 MACs per input
    assert trained.macs_per_inference["dense"] == 2 * 784 * 16
    rerun = neurosim.load_config(run / "config.toml")
    assert replace(rerun, data_dir=None) == replace(trained.config, data_dir=None)
    assert Path(rerun.data_dir).resolve() == Path(mnist_dir).resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["convert", str(run / "sparse.pt"), "-o", "N.nir"]) == 0
    (run / "config.toml").unlink()  # a run folder from before config.toml: metrics.json holds "data"
    assert main(["convert", str(run / "sparse.pt"), "-o", "N2.nir"]) == 0
    assert neurosim.load_network("N2.nir").metadata["data_dir"] == str(Path(mnist_dir).resolve())
    assert main(["simulate", "N.nir", "-o", "ACT", "--samples", "20", "-T", "6"]) == 0
    rec = neurosim.load_record("ACT")
    assert (rec.dataset, rec.split, rec.num_samples) == ("mnist", "test", 20)
    assert Path(rec.data_dir) == Path(mnist_dir).resolve()
    np.testing.assert_array_equal(rec.record.inputs, neurosim.load_dataset("mnist", "test", mnist_dir).x[:20])
    capsys.readouterr()
    assert main(["simulate", "N.nir", "-o", "ACT2", "--dataset", "digits"]) == 2
    err = capsys.readouterr().err
    assert "the network takes 784 inputs but digits samples have 64 features" in err
    assert "--dataset mnist" in err


def test_records_written_before_the_window_name_still_load(tmp_path):
    make_checkpoint(tmp_path / "sparse.pt", "sparse")
    sim = neurosim.simulate(neurosim.convert(tmp_path / "sparse.pt"), samples=5, timesteps=7)
    json_path, _ = sim.save(tmp_path / "act")
    meta = json.loads(json_path.read_text())
    for layer in meta["layer_fields"]:  # the earlier spelling of a layer's enabled steps
        layer["timesteps"] = layer.pop("window")
    json_path.write_text(json.dumps(meta))
    old = neurosim.load_record(tmp_path / "act")
    assert [layer.window for layer in old.layers] == [7, 6, 5]
    assert old.timesteps == 7 and old.synaptic_ops == sim.synaptic_ops


@pytest.mark.parametrize("timesteps, message", [(2, "at least the network depth 3"),
                                                (2.5, "an integer number of steps, got 2.5")])
def test_timesteps_are_checked_before_any_data_is_read(tmp_path, timesteps, message):
    make_checkpoint(tmp_path / "sparse.pt", "sparse")
    net = neurosim.convert(tmp_path / "sparse.pt")
    with pytest.raises(neurosim.NeurosimError, match=message):
        neurosim.simulate(net, dataset="mnist", timesteps=timesteps)  # mnist without a folder: not reached
