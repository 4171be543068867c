"""Models, pruning schedule, threshold gate, training loop, checkpoints and the train CLI."""
from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
import torch

from neurosim.checkpoint import load_checkpoint
from neurosim.cli import main
from neurosim.errors import ConfigError
from neurosim.training import metrics as training_metrics
from neurosim.training.config import TrainConfig, read_config, write_config
from neurosim.training.gating import HomeostaticController, ThresholdGate, activity_spread_penalty
from neurosim.training.loop import train
from neurosim.training.metrics import (firing_frequency, jaccard_matrix, mean_offdiag, per_class_active_units,
                                       unit_order)
from neurosim.training.models import (DenseAutoencoder, DenseAutoencoderStack, SparseAutoencoder, iso_compute_hidden,
                                      macs_per_input, weight_density)
from neurosim.training.pruning import GradualMagnitudePruner, cubic_schedule
from neurosim.training.run import save_run

TINY = dict(hidden=48, epochs=3, batch_size=64, max_train_samples=256, max_test_samples=120)


# ----------------------------------------------------------------------------- pruning schedule

def test_cubic_schedule_matches_zhu_gupta_by_hand():
    # s_i = 0, s_f = 0.9, t0 = 10, n * dt = 40 (end 50), dt = 10
    expected = {0: 0.0, 9: 0.0, 10: 0.0, 19: 0.0,
                20: 0.9 - 0.9 * 0.75 ** 3, 29: 0.9 - 0.9 * 0.75 ** 3,
                30: 0.9 - 0.9 * 0.5 ** 3, 40: 0.9 - 0.9 * 0.25 ** 3, 50: 0.9, 1000: 0.9}
    for t, s in expected.items():
        assert cubic_schedule(t, 0.0, 0.9, 10, 50, 10) == pytest.approx(s, abs=1e-12), t
    assert cubic_schedule(20, 0.5, 0.9, 10, 50, 10) == pytest.approx(0.9 - 0.4 * 0.75 ** 3)


@pytest.mark.parametrize("scope", ["layer", "global", "unit"])
def test_pruner_density_at_every_step_and_masks_fixed_after_end(scope):
    g = torch.Generator().manual_seed(0)
    weights = {"encoder.weight": torch.randn(30, 20, generator=g), "decoder.weight": torch.randn(20, 30, generator=g)}
    masks = {k: torch.ones_like(v, dtype=torch.bool) for k, v in weights.items()}
    pruner = GradualMagnitudePruner(weights, masks, 0.9, begin_step=5, end_step=45, frequency=10, scope=scope,
                                    unit_axes={"encoder.weight": 0, "decoder.weight": 1})
    previous = {k: m.clone() for k, m in masks.items()}
    for t in range(80):
        for k, w in weights.items():  # "training": weights move, pruned ones are held at zero
            w.add_(0.3 * torch.randn(w.shape, generator=g)).mul_(masks[k])
        changed = pruner.step(t)
        s = cubic_schedule(t, 0.0, 0.9, 5, 45, 10)
        assert changed == (t in (5, 15, 25, 35, 45))
        if scope == "unit":
            # every hidden unit keeps the same number of inputs (encoder rows) and outputs (decoder columns)
            for name, axis, n in (("encoder.weight", 1, 20), ("decoder.weight", 0, 20)):
                kept = masks[name].sum(dim=axis)
                assert torch.all(kept == n - math.ceil(s * n - 1e-9)), (t, name)
        elif scope == "layer":
            for m in masks.values():
                assert int(m.sum()) == 600 - math.ceil(s * 600 - 1e-9), t
        else:
            assert sum(int(m.sum()) for m in masks.values()) == 1200 - math.ceil(s * 1200 - 1e-9), t
        for k, m in masks.items():
            assert not torch.any(m & ~previous[k]), "a pruned weight came back"
            assert torch.all(weights[k][~m] == 0)
            if t > 45:
                assert torch.equal(m, previous[k]), "masks changed after the schedule ended"
            previous[k] = m.clone()
    assert pruner.density() <= 0.1 + 1e-12


def test_pruner_keeps_the_largest_magnitudes():
    w = torch.tensor([[0.1, -3.0, 0.5, 2.0], [-0.2, 0.05, 4.0, -1.0]])
    masks = {"w": torch.ones_like(w, dtype=torch.bool)}
    GradualMagnitudePruner({"w": w}, masks, 0.5, 0, 0).prune_to(0.5)
    assert masks["w"].tolist() == [[False, True, False, True], [False, False, True, True]]
    assert w.tolist() == [[0.0, -3.0, 0.0, 2.0], [0.0, 0.0, 4.0, -1.0]]


# ----------------------------------------------------------------------------- gate

def test_gate_forward_and_gradient_flow_by_hand():
    gate = ThresholdGate(3)
    with torch.no_grad():
        gate.threshold.copy_(torch.tensor([0.5, -1.0, 2.0]))
    z = torch.tensor([[1.0, 0.0, 1.0], [0.2, -2.0, 3.5]], requires_grad=True)
    h = gate(z)
    assert h.tolist() == [[0.5, 1.0, 0.0], [0.0, 0.0, 1.5]]
    (h * torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    # active units pass the gradient, silent ones pass none; dL/dtheta = -(sum over active inputs)
    assert z.grad.tolist() == [[1.0, 2.0, 0.0], [0.0, 0.0, 6.0]]
    assert gate.threshold.grad.tolist() == [-1.0, -2.0, -6.0]


def test_gate_gradient_reaches_weights_and_equals_minus_bias_gradient():
    torch.manual_seed(0)
    model = SparseAutoencoder(8, 6)
    with torch.no_grad():
        # |z| <= 8 max|W| + |b| < 3.2 for x in [0, 1) (weights and biases start in +-1/sqrt(8)): with these
        # thresholds units 0-4 are active for every input and unit 5 is silent for every input
        model.gate.threshold.copy_(torch.tensor([-10.0, -5.0, -4.0, -5.0, -10.0, 100.0]))
    x = torch.rand(5, 8)
    y, h = model(x)
    ((y - x) ** 2).mean().backward()
    assert model.encoder.weight.grad.abs().sum() > 0 and model.gate.threshold.grad.abs().sum() > 0
    torch.testing.assert_close(model.gate.threshold.grad, -model.encoder.bias.grad)
    silent = (h > 0).sum(dim=0) == 0
    assert silent.tolist() == [False, False, False, False, False, True]
    # a silent unit passes no gradient to its input weights; the active ones do
    assert torch.all(model.encoder.weight.grad[5] == 0) and model.gate.threshold.grad[5] == 0
    assert torch.all(model.encoder.weight.grad[:5].abs().sum(dim=1) > 0)


def test_spread_penalty_reaches_silent_units():
    theta = torch.tensor([5.0, 5.0], requires_grad=True)
    w = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    x = torch.tensor([[1.0, 0.0], [3.0, 3.0]])
    z = x @ w.T
    assert torch.all(torch.relu(z - theta) == 0)  # every unit silent for every input
    activity_spread_penalty(z, theta, torch.ones(2), 1.0).backward()
    assert theta.grad.abs().sum() > 0 and w.grad.abs().sum() > 0


def test_homeostatic_controller_reaches_the_target_per_unit():
    g = torch.Generator().manual_seed(1)
    mean = torch.tensor([-2.0, 0.0, 1.0, 5.0])
    std = torch.tensor([0.5, 1.0, 3.0, 10.0])
    gate = ThresholdGate(4)
    ctrl = HomeostaticController(gate, target=0.1, gain=0.3)
    for _ in range(3000):
        z = mean + std * torch.randn(256, 4, generator=g)
        ctrl.observe(z)
        ctrl.update(z)
    z = mean + std * torch.randn(100_000, 4, generator=g)
    rate = (gate(z) > 0).float().mean(dim=0)
    torch.testing.assert_close(rate, torch.full((4,), 0.1), atol=0.01, rtol=0)
    # the thresholds sit near the normal 90th percentile of each unit's input
    torch.testing.assert_close(gate.threshold, mean + 1.2816 * std, atol=0.06 * float(std.max()), rtol=0.05)


# ----------------------------------------------------------------------------- models and metrics

def test_effective_macs_by_hand():
    model = SparseAutoencoder(3, 2)
    with torch.no_grad():
        model.encoder.weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0]]))   # fan-out: 1, 0, 2
        model.decoder.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))  # fan-out: 2, 1
        model.encoder.bias.zero_()
    x = torch.tensor([[1.0, 1.0, 0.0],    # layer 1: 1 + 0 = 1; h = (1, 0) -> layer 2: 2
                      [0.0, 0.0, 1.0]])   # layer 1: 2;         h = (2, 1) -> layer 2: 3
    assert macs_per_input(model, x).tolist() == [3.0, 5.0]
    dense = DenseAutoencoder(3, 2)
    assert macs_per_input(dense, x).tolist() == [12.0, 12.0]
    assert weight_density(model) == pytest.approx(6 / 12)
    assert iso_compute_hidden(4.0, 3) == 1 and iso_compute_hidden(6.0, 3) == 1 and iso_compute_hidden(6.5, 3) == 2


def test_per_class_sets_and_jaccard_by_hand():
    active = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0],   # class 0: units 0 (3/3), 1 (2/3)
                       [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool)    # class 1: unit 2 (2/2); 1 and 3 only half
    sets = per_class_active_units(active, np.array([0, 0, 0, 1, 1]))
    assert sets == {0: [0, 1], 1: [2]}
    assert jaccard_matrix({0: [0, 1], 1: [1, 2]}).tolist() == [[1.0, 1 / 3], [1 / 3, 1.0]]


def test_stack_trains_exactly_like_separate_models():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    stack = DenseAutoencoderStack(10, [3, 5], g1)
    from neurosim.training.models import _init_dense

    singles = [_init_dense(10, 3, g2), _init_dense(10, 5, g2)]
    opt_stack = torch.optim.Adam(stack.parameters(), lr=1e-2, foreach=True)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in singles]
    x = torch.rand(40, 10, generator=torch.Generator().manual_seed(0))
    for step in range(12):
        if step == 6:
            stack.narrow([1], opt_stack)  # drop the first candidate, keep training the second
            singles, opts = singles[1:], opts[1:]
        xb = x[(step * 8) % 40:(step * 8) % 40 + 8]
        opt_stack.zero_grad()
        y, _ = stack(xb)
        ((y - xb[None]) ** 2).mean(dim=(1, 2)).sum().backward()
        stack.mask_grads()
        opt_stack.step()
        for m, o in zip(singles, opts):
            o.zero_grad()
            ((m(xb)[0] - xb) ** 2).mean().backward()
            o.step()
    for i, m in enumerate(singles):
        got = stack.extract(i)
        for a, b in zip(got.parameters(), m.parameters()):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


# ----------------------------------------------------------------------------- training loop

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    result = train(TrainConfig(**TINY), progress=False)
    out = tmp_path_factory.mktemp("run")
    save_run(result, out, plots=False)
    return result, out


def test_short_training_run_both_losses_fall():
    # short for this method: pruning 90 % of the weights within ~400 steps costs the sparse model
    # most of its early progress (it needs the default 450 epochs to recover), but it still learns
    result = train(TrainConfig(hidden=256, epochs=40, max_test_samples=120), progress=False)
    for kind in ("dense", "sparse", "small_dense"):
        hist = result.metrics[kind]["history"]
        assert hist["train_loss"][-1] < 0.8 * hist["train_loss"][0], kind
        assert hist["test_mse"][-1] < 0.8 * hist["test_mse"][0], kind
    assert result.metrics["dense"]["history"]["test_mse"][-1] < 0.005
    sparse = result.metrics["sparse"]
    assert sparse["weight_density"] <= 0.1
    assert sparse["activation_density"] <= 0.1


def test_checkpoint_round_trip_weights_only(tiny_run):
    result, out = tiny_run
    for kind in ("dense", "sparse", "small_dense"):
        raw = torch.load(out / f"{kind}.pt", weights_only=True)
        assert raw["format"] == "neurosim.autoencoder" and raw["format_version"] == 1 and raw["model"] == kind
        assert load_checkpoint(out / f"{kind}.pt")["config"]["hidden"] == result.models[kind].hidden
        cal = raw["calibration"]
        assert list(cal["percentiles"].tolist()) == [50.0, 90.0, 99.0, 99.9, 99.99, 100.0]
        assert cal["num_samples"] == 256 and torch.all(torch.diff(cal["hidden"]) >= 0)
        # rebuild from the file alone and compare outputs with the in-memory model
        cls = SparseAutoencoder if raw["config"]["gate"] == "threshold" else DenseAutoencoder
        model = cls(raw["config"]["input_dim"], raw["config"]["hidden"])
        missing = model.load_state_dict(raw["state_dict"], strict=False)
        assert not missing.unexpected_keys and set(missing.missing_keys) <= {"mask_encoder", "mask_decoder"}
        x = torch.from_numpy(result.test.x)
        with torch.no_grad():
            torch.testing.assert_close(model(x)[0], result.models[kind](x)[0])
    sparse = torch.load(out / "sparse.pt", weights_only=True)
    assert sparse["config"]["gate"] == "threshold" and "gate.threshold" in sparse["state_dict"]
    for name, mask in sparse["masks"].items():
        assert mask.dtype == torch.bool
        assert torch.all(sparse["state_dict"][name][~mask] == 0)
    assert torch.all(sparse["state_dict"]["encoder.bias"] == 0)


def test_metrics_json_holds_the_measurements(tiny_run):
    _, out = tiny_run
    metrics = json.loads((out / "metrics.json").read_text())
    for kind in ("dense", "sparse", "small_dense"):
        m = metrics[kind]
        for key in ("test_mse", "weight_density", "activation_density", "macs_per_inference",
                    "per_class_active_units", "history", "mean_pairwise_jaccard"):
            assert key in m, (kind, key)
        assert len(m["history"]["train_loss"]) == TINY["epochs"]
        assert set(m["per_class_active_units"]) == {str(c) for c in range(10)}
    # measurements only: targets are compared by the experiment scripts (experiments/targets.toml)
    assert set(metrics) == {"dataset", "data_note", "num_train", "num_test", "input_dim", "config", "dense", "sparse",
                            "small_dense", "iso_compute", "comparisons", "train_time_s", "threads", "versions"}
    iso = metrics["iso_compute"]
    assert iso["matched"] is True  # this tiny run's ladder (H = 1, 2, 3) holds a big enough candidate
    # the baseline gets at least the sparse model's compute, and not one hidden unit more than needed:
    # dense MACs are 2 d h with d = 64
    h, sparse_macs = metrics["small_dense"]["hidden"], metrics["sparse"]["macs_per_inference"]
    assert metrics["small_dense"]["macs_per_inference"] == 2 * 64 * h >= sparse_macs > 2 * 64 * (h - 1)
    assert h == iso_compute_hidden(sparse_macs, 64) == iso["small_dense_hidden"]
    assert metrics["dense"]["macs_per_inference"] == 2 * 64 * TINY["hidden"]


def test_training_is_deterministic_for_a_seed(tiny_run):
    first, _ = tiny_run
    again = train(TrainConfig(**TINY), progress=False)
    for kind in ("dense", "sparse", "small_dense"):
        for (k, a), (_, b) in zip(first.checkpoints[kind]["state_dict"].items(),
                                  again.checkpoints[kind]["state_dict"].items()):
            assert torch.equal(a, b), (kind, k)
        assert first.metrics[kind]["history"] == again.metrics[kind]["history"]
    other = train(TrainConfig(**{**TINY, "seed": 1}), progress=False)
    assert not torch.equal(other.checkpoints["sparse"]["state_dict"]["decoder.weight"],
                           first.checkpoints["sparse"]["state_dict"]["decoder.weight"])


# ----------------------------------------------------------------------------- CLI

def test_cli_train_tiny_budget_writes_everything(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--dataset", "digits", "--out", str(out), "--epochs", "2", "--hidden", "32",
                 "--max-train-samples", "200", "--max-test-samples", "100", "--quiet"])
    stdout = capsys.readouterr().out
    assert code == 0
    for name in ("dense.pt", "sparse.pt", "small_dense.pt", "metrics.json", "training_curves.png",
                 "reconstructions.png", "hidden_activity.png", "class_overlap.png"):
        assert (out / name).is_file(), name
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob("*.tmp*"))
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"{metrics['sparse']['test_mse']:.5f}" in stdout and "iso-compute" in stdout


@pytest.mark.parametrize("argv, message", [
    (["--weight-sparsity", "1.5"], "--weight-sparsity must be in [0, 1), got 1.5"),
    (["--active-fraction", "0"], "--active-fraction must be in (0, 1], got 0.0"),
    (["--hidden", "0"], "--hidden must be a positive number of units, got 0"),
    (["--epochs", "-1"], "--epochs must be >= 1, got -1"),
])
def test_cli_train_bad_values_exit_2(tmp_path, capsys, argv, message):
    code = main(["train", "--out", str(tmp_path / "run"), "--quiet", *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"neurosim train: error: {message}"
    assert not (tmp_path / "run").exists()


def test_cli_train_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["train", "--out", str(f), "--quiet"]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


def test_cli_train_progress_bar_names_the_final_small_dense(capsys):
    # H=256 for 3 epochs: the iso-compute ladder runs 3..10 and the rule picks 6, not its middle size
    result = train(TrainConfig(**{**TINY, "hidden": 256}), progress=True)
    err = capsys.readouterr().err
    last = err.rsplit("small_dense H=", 1)[1]
    assert int(last[:len(last) - len(last.lstrip("0123456789"))]) == result.models["small_dense"].hidden == 6


# ----------------------------------------------------------------------------- class x unit analysis

def test_firing_frequency_and_unit_order_by_hand():
    active = np.array([[0, 1, 0, 1], [0, 1, 0, 0],     # class 0: unit 1 always, unit 3 half the time
                       [0, 0, 1, 1], [0, 1, 1, 1]])    # class 1: units 2 and 3 always, unit 1 half
    freq = firing_frequency(active, np.array([0, 0, 1, 1]))
    assert freq.tolist() == [[0.0, 1.0, 0.0, 0.5], [0.0, 0.5, 1.0, 1.0]]
    order, silent = unit_order(freq)
    # class 0 prefers unit 1; class 1 prefers units 2 and 3 (ties by peak keep index order); unit 0 never fires
    assert order.tolist() == [1, 2, 3, 0] and silent == 1
    assert mean_offdiag(jaccard_matrix([[1], [1, 2, 3]])) == pytest.approx(1 / 3)


def test_one_class_unit_analysis_for_training_plots_live_view_and_report():
    from neurosim.analysis import subnetworks
    from neurosim.reporting import gallery, subnetwork_section  # gather the demo report's figures
    from neurosim.training import live, plots

    for name in ("firing_frequency", "unit_order"):
        assert getattr(live, name) is getattr(training_metrics, name), name
    assert plots.firing_frequency is gallery.firing_frequency is training_metrics.firing_frequency
    for name in ("unit_order", "jaccard_matrix", "mean_offdiag"):  # the subnetworks' order and overlap
        assert getattr(subnetworks, name) is getattr(training_metrics, name), name
    assert plots.find_subnetworks is subnetwork_section.find_subnetworks is subnetworks.find_subnetworks
    assert plots.S is subnetwork_section.S  # the training plots draw the report's class map and overlap


# ----------------------------------------------------------------------------- run configuration

def test_config_toml_round_trip_is_the_resolved_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = TrainConfig(dataset="mnist", data_dir="idx", dense_lr=None, lr=0.015, epochs=7, prune_scope="layer",
                         max_train_samples=100, gate_margin=0.125)
    path = write_config(config, tmp_path / "config.toml")
    back = read_config(path)
    assert back == config.resolved()
    assert back.dense_lr == 0.015 and back.data_dir == str(tmp_path / "idx") and back.max_test_samples is None
    assert "# max_test_samples is not set" in path.read_text()
    assert read_config(path) == read_config(path, base=TrainConfig(seed=5))  # every set key comes from the file


@pytest.mark.parametrize("text, message", [
    ('hidden = 32\nepoch = 3\n', "unknown key 'epoch'"),
    ('hidden = "big"\n', "key 'hidden' must be int, got str 'big'"),
    ('epochs = true\n', "key 'epochs' must be int, got bool True"),
    ('hidden = 1.5\n', "key 'hidden' must be int, got float 1.5"),
    ('lr = "fast"\n', "key 'lr' must be float, got str 'fast'"),
    ('data_dir = 3\n', "key 'data_dir' must be str, got int 3"),
    ('hidden = [1, 2]\n', "key 'hidden' must be int, got list [1, 2]"),
    ('hidden = \n', "not a valid TOML file"),
])
def test_config_file_errors_name_the_file_and_key(tmp_path, capsys, text, message):
    path = tmp_path / "run.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        read_config(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
    code = main(["train", "--config", str(path), "--out", str(tmp_path / "run"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and lines == [f"neurosim train: error: {err.value}"]
    assert not (tmp_path / "run").exists()


def test_config_values_are_checked_like_flags(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text("weight_sparsity = 1.5\n")
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == "neurosim train: error: --weight-sparsity must be in [0, 1), got 1.5"


def _state(run: Path, kind: str) -> dict:
    return torch.load(run / f"{kind}.pt", weights_only=True)["state_dict"]


def test_cli_config_reproduces_a_run_and_flags_override_it(tmp_path, capsys):
    tiny = ["--quiet", "--no-plots", "--epochs", "2", "--hidden", "32", "--max-train-samples", "200",
            "--max-test-samples", "100", "--lr", "0.01"]
    first, again, seed1 = tmp_path / "first", tmp_path / "again", tmp_path / "seed1"
    assert main(["train", "--out", str(first), *tiny]) == 0
    assert main(["train", "--config", str(first / "config.toml"), "--out", str(again), "--quiet", "--no-plots"]) == 0
    assert main(["train", "--config", str(first / "config.toml"), "--seed", "1", "--out", str(seed1),
                 "--quiet", "--no-plots"]) == 0
    capsys.readouterr()
    assert (again / "config.toml").read_text() == (first / "config.toml").read_text()
    m1, m2 = (json.loads((r / "metrics.json").read_text()) for r in (first, again))
    assert m1["config"] == m2["config"] == asdict(replace(read_config(first / "config.toml")))
    assert m1["config"]["lr"] == 0.01 and m1["config"]["epochs"] == 2
    for kind in ("dense", "sparse", "small_dense"):
        assert m1[kind]["test_mse"] == m2[kind]["test_mse"] and m1[kind]["history"] == m2[kind]["history"]
        for name, tensor in _state(first, kind).items():
            assert torch.equal(tensor, _state(again, kind)[name]), (kind, name)
    # the explicit flag wins over the file; every other setting still comes from the file
    c1, c3 = read_config(first / "config.toml"), read_config(seed1 / "config.toml")
    assert c3 == replace(c1, seed=1)
    assert not torch.equal(_state(seed1, "sparse")["decoder.weight"], _state(first, "sparse")["decoder.weight"])


# ----------------------------------------------------------------------------- targets (experiments/targets.toml)

def _targets_module():
    path = Path(__file__).resolve().parents[1] / "experiments" / "targets.py"
    spec = importlib.util.spec_from_file_location("experiment_targets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_targets_compare_measurements_by_hand():
    targets = _targets_module()
    table = {"low": {"metric": "sparse.test_mse", "max": 0.006, "reason": "r1"},
             "high": {"metric": "comparisons.ratio", "min": 2.0, "reason": "r2"}}
    rows = targets.check({"sparse": {"test_mse": 0.0061}, "comparisons": {"ratio": 2.0}}, table)
    assert [(r["name"], r["op"], r["limit"], r["met"]) for r in rows] == [("low", "<=", 0.006, False),
                                                                         ("high", ">=", 2.0, True)]
    assert targets.format_rows(rows)[0] == "  [MISSED] sparse.test_mse = 0.0061 (target <= 0.006)"


@pytest.mark.parametrize("section", ["training.digits", "training.mnist"])
def test_every_training_target_names_a_measured_metric_and_a_reason(tiny_run, section):
    targets = _targets_module()
    _, out = tiny_run
    metrics = json.loads((out / "metrics.json").read_text())
    table = targets.load_section(section)
    assert len(table) >= 4
    for row in targets.check(metrics, table):  # raises KeyError if a metric path is not in metrics.json
        assert math.isfinite(row["value"]) and len(row["reason"]) > 40, row["name"]
