"""The demo report: figure helpers against hand-computed cases, the figure bar (title,
labelled axes, caption), spike recording, stage skipping, and a tiny end-to-end run."""
from __future__ import annotations

import json
import re
import sys
import types

import numpy as np
import pytest

from _tiny_demo import tiny_demo
from neurosim.reporting import figures as F
from neurosim.reporting import demo as R
from neurosim.backends import BackendResult
from neurosim.network import Connection, Layer, SpikingNetwork


# --------------------------------------------------------------------------- helpers by hand


def test_jaccard_matrix_hand_computed():
    sets = [[0, 1, 2], [2, 3], [], [0, 1, 2]]
    m = F.jaccard_matrix(sets)
    assert m[0, 1] == pytest.approx(1 / 4)  # {2} / {0,1,2,3}
    assert m[0, 3] == 1.0
    assert m[0, 2] == 0.0 and m[2, 2] == 1.0  # empty set: 1 with itself, 0 with others
    assert np.allclose(m, m.T)
    assert F.mean_offdiag(np.array([[1, 0.2], [0.4, 1]])) == pytest.approx(0.3)


def test_unit_order_groups_units_by_preferred_class_and_puts_silent_last():
    # 3 classes, 6 units: unit 0 silent, units 1,4 prefer class 2, unit 2 prefers 0, units 3,5 prefer 1
    freq = np.array([[0, 0.1, 0.9, 0.0, 0.1, 0.0],
                     [0, 0.2, 0.0, 0.5, 0.0, 0.8],
                     [0, 0.6, 0.1, 0.1, 0.7, 0.1]])
    order, silent = F.unit_order(freq)
    assert silent == 1
    assert list(order) == [2, 5, 3, 4, 1, 0]  # class 0: 2; class 1: 5 (0.8) then 3 (0.5); class 2: 4 then 1


def test_firing_frequency_counts_fraction_of_class_inputs():
    active = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    labels = np.array([0, 0, 1, 1])
    assert F.firing_frequency(active, labels, [0, 1]).tolist() == [[1.0, 0.5], [0.0, 0.5]]


def test_format_helpers():
    assert F.format_si(2.5e-6, "J") == "2.5 µJ"
    assert F.format_si(3e-3, "s") == "3 ms"
    assert F.format_si(None, "J") == "–"
    assert F.format_count(32768) == "32.8 k"
    assert F.format_count(1684) == "1,684"


def test_model_view_forward_matches_the_checkpoint_contract():
    import torch

    payload = {"model": "sparse", "config": {"hidden": 2, "input_dim": 2}, "state_dict": {
        "encoder.weight": torch.tensor([[1.0, -1.0], [0.5, 0.5]]), "encoder.bias": torch.tensor([0.0, 0.1]),
        "decoder.weight": torch.tensor([[2.0, 0.0], [0.0, -1.0]]), "decoder.bias": torch.tensor([0.0, 1.0]),
        "gate.threshold": torch.tensor([0.5, 0.0])}}
    mv = R.ModelView.from_checkpoint(payload)
    x = np.array([[1.0, 0.0]])
    # h = relu([1 - 0 + 0 - 0.5, 0.5 + 0.1 - 0]) = [0.5, 0.6]; y = sigmoid([1.0, -0.6 + 1])
    assert mv.hidden_activations(x) == pytest.approx(np.array([[0.5, 0.6]]))
    assert mv.reconstruct(x) == pytest.approx(1 / (1 + np.exp(-np.array([[1.0, 0.4]]))))


# --------------------------------------------------------------------------- spike recording


def _tiny_network() -> SpikingNetwork:
    inp = Layer("input", "input", 1, params={"gain": 1.0})
    hid = Layer("hidden", "if", 1, params={"v_threshold": 0.5, "v_init": 0.0},
                connection=Connection(np.array([[1.0]]), np.array([0.0])))
    return SpikingNetwork([inp, hid])


def _fake_backend(supports_recording: bool):
    """A minimal backend implementing the contract's semantics for input(regular) -> if."""

    def trains(network, inputs, timesteps):
        n = inputs.shape[0]
        gain, v_in = network.layers[0].params["gain"], np.broadcast_to(network.layers[0].params["v_init"], (n, 1)).copy()
        hid = network.layers[1]
        w, b, th = hid.connection.weight, hid.connection.bias, hid.params["v_threshold"]
        v = np.zeros((n, hid.size))
        s_in = np.zeros((n, timesteps, 1), np.uint8)
        s_h = np.zeros((n, timesteps, hid.size), np.uint8)
        for k in range(timesteps):
            v_in += gain * inputs
            s_in[:, k] = v_in > 1
            v_in -= s_in[:, k]
            if k >= 1:
                v += s_in[:, k - 1] @ w.T + b
                s_h[:, k] = v > th
                v -= th * s_h[:, k]
        return [s_in, s_h]

    def run(network, inputs, timesteps, *, seed=0, **options):
        tr = trains(network, inputs, timesteps)
        info = {"spike_trains": tr} if options.get("record_spikes") else {}
        return BackendResult([t.sum(axis=1) for t in tr], [0, 0], tr[1].sum(axis=1) / (timesteps - 1), info)

    if supports_recording:
        def run_rec(network, inputs, timesteps, *, seed=0, record_spikes=False):
            return run(network, inputs, timesteps, seed=seed, record_spikes=record_spikes)
        runner = run_rec
    else:
        def runner(network, inputs, timesteps, *, seed=0):
            return run(network, inputs, timesteps, seed=seed)
    return types.SimpleNamespace(NAME="fake", available=lambda: None, version=lambda: "0", run=runner)


@pytest.mark.parametrize("supports_recording", [False, True])
def test_record_spikes_recovers_hand_computed_trains(monkeypatch, supports_recording):
    from neurosim import backends

    monkeypatch.setitem(sys.modules, "fake_backend_for_tests", _fake_backend(supports_recording))
    monkeypatch.setitem(backends.BACKENDS, "fake", "fake_backend_for_tests")
    trains = F.record_spikes(_tiny_network(), np.array([[0.5]]), 8, backend="fake")
    # input: v = 0.5 + 0.5 k+0.5 ... spikes when v > 1: steps 1, 3, 5, 7
    assert trains[0][0, :, 0].tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    # hidden (enabled from step 1): I = input spike of the previous step; threshold 0.5, subtract
    # k=2: v=1 -> spike, 0.5; k=3: 0.5 (not > 0.5); k=4: 1.5 -> spike, 1.0; k=5: spike, 0.5; k=6: 1.5 -> spike...
    assert trains[1][0, :, 0].tolist() == [0, 0, 1, 0, 1, 1, 1, 1]


# --------------------------------------------------------------------------- the figure bar


def _synthetic(rng=np.random.default_rng(0)):
    h = 40
    labels = np.repeat(np.arange(10), 6)
    x = rng.random((60, 64))
    ann = {"dense": rng.random((60, h)), "sparse": np.where(rng.random((60, h)) < 0.1, rng.random((60, h)), 0)}
    return h, labels, x, ann


def _all_figures():
    h, labels, x, ann = _synthetic()
    classes = list(range(10))
    freqs = {k: F.firing_frequency(a > 0, labels, classes) for k, a in ann.items()}
    orders = {k: F.unit_order(f) for k, f in freqs.items()}
    idx = np.arange(0, 60, 6)
    spikes = {k: (np.random.default_rng(1).random((10, 16, h)) < 0.2).astype(np.uint8) for k in ann}
    w_enc = np.random.default_rng(2).normal(size=(h, 64)) * (np.random.default_rng(3).random((h, 64)) < 0.1)
    w_dec = np.random.default_rng(4).normal(size=(64, h)) * (np.random.default_rng(5).random((64, h)) < 0.1)
    sets = {c: list(np.flatnonzero(freqs["sparse"][c] > 0)) for c in classes}
    rng_range = {"low": 1e-7, "typical": 2e-7, "high": 5e-7}
    return [
        F.training_curves({"dense": {"train_loss": [0.1, 0.05], "test_loss": [0.11, 0.06]},
                           "sparse": {"train_loss": [0.2, 0.1], "test_loss": [0.2, 0.12]}}),
        F.reconstructions(x[idx], {"dense": x[idx], "sparse": x[idx]}, (8, 8), labels[idx], {"dense": 0.01}),
        F.activity_rasters(x[idx], labels[idx], (8, 8), spikes, {k: a[idx] for k, a in ann.items()}, orders),
        F.class_unit_map(freqs, orders, classes),
        F.jaccard_figure({k: F.jaccard_matrix([list(np.flatnonzero(f[c] > 0.5)) for c in classes])
                          for k, f in freqs.items()}, classes),
        F.subnetwork_gallery(w_enc, w_dec, np.zeros(64), sets, {c: ann["sparse"][labels == c].mean(0) for c in classes},
                             {c: x[labels == c].mean(0) for c in classes}, (8, 8)),
        F.weight_masks({"encoder": {"mask": w_enc.T != 0}, "decoder": {"mask": w_dec != 0}},
                       {"dense": {"encoder": 1.0, "decoder": 1.0}, "sparse": {"encoder": 0.1, "decoder": 0.1}}),
        F.activation_density(classes, {"dense ANN": np.full(10, 0.8), "sparse SNN": np.full(10, 0.1)}, 0.1),
        F.fidelity_vs_timesteps([{"model": "sparse", "coding": "rate", "timesteps": t, "mse_vs_input": 0.01 / t,
                                  "synaptic_ops_per_inference": 100 * t} for t in (8, 16)], {"sparse": 0.001},
                                {"sparse": 500}),
        F.backend_agreement([{"backend": "brian2", "model": "sparse", "coding": "rate", "counts_reference": np.array([0, 2, 1]), "counts_backend": np.array([0, 2, 2]), "max_abs_diff": 1,
                              "identical_fraction": 2 / 3, "synops_rel_diff": 0.01},
                             {"backend": "lava", "model": "sparse", "coding": "rate", "diff": None, "note": "missing"}]),
        F.energy_latency([{"profile": p, "model": m, "energy": rng_range, "latency": rng_range, "ops": 1000,
                           "ops_kind": "synaptic ops"} for p in ("loihi2", "gpu") for m in ("dense", "sparse")]),
    ]


def test_every_figure_has_title_labelled_axes_and_a_one_line_caption():
    figs = _all_figures()
    try:
        assert len({f.key for f in figs}) == len(figs)
        for rf in figs:
            assert F.check_figure(rf) == [], rf.key
            png = rf.png(dpi=40)
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        for rf in figs:
            rf.close()


def test_check_figure_catches_missing_labels_and_captions():
    plt = F._plt()
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    rf = F.ReportFigure("bare", "", "two\nlines", fig)
    problems = F.check_figure(rf)
    plt.close(fig)
    assert any("no title" in p for p in problems)
    assert any("caption" in p for p in problems)
    assert any("no x label" in p for p in problems) and any("no y label" in p for p in problems)


# --------------------------------------------------------------------------- hardware text


def test_hardware_rows_prefer_graded_and_readings_state_the_ratio():
    est = []
    for coding, scale in (("rate", 10.0), ("graded", 1.0)):
        for model, e in (("dense", 2e-6), ("sparse", 1e-7)):
            est.append({"profile": "loihi2", "model": f"{model} SNN", "coding": coding, "kind": "neuromorphic",
                        "runs": "snn", "fits": True,
                        "energy_per_inference_j": {"low": e * scale / 2, "typical": e * scale, "high": e * scale * 2},
                        "latency_per_inference_s": {"low": 1e-4, "typical": 2e-4, "high": 3e-4},
                        "synaptic_ops_per_inference": 1000 * scale})
    rows = R.hardware_rows(est)
    assert len(rows) == 2 and {r["coding"] for r in rows} == {"graded"}
    ctx = R.DemoContext(out=None, options={})
    readings = R.hardware_readings(rows, ctx)
    assert readings[0]["energy_ratio_dense_over_sparse"] == pytest.approx(20.0)
    assert "uses 20x less energy" in readings[0]["reading"]
    assert "is about as fast" in readings[0]["reading"]  # latency equal
    # neuromorphic: the event decomposition needs the records; without them a generic sentence
    assert "both kinds of sparsity multiply" in readings[0]["reading"]


# --------------------------------------------------------------------------- the pipeline


def test_stages_whose_code_is_missing_are_skipped_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "_have", lambda module: False)
    ctx = R.run_demo(tmp_path, say=lambda line: None, samples=20, cross_check_samples=0)
    by_name = {s.name: s for s in ctx.stages}
    for name in ("train", "convert", "simulate", "estimate"):
        assert by_name[name].status == "skipped"
        assert "not in this install yet" in by_name[name].note and "\n" not in by_name[name].note
    assert by_name["report"].status == "ok"
    text = (tmp_path / "report.html").read_text()
    assert "not in this install yet" in text
    meta = json.loads((tmp_path / "report.json").read_text())
    assert meta["stages"][0]["name"] == "train" and meta["figures"] == []


def test_tiny_demo_writes_a_self_contained_report(tmp_path_factory):
    out, ctx = tiny_demo(tmp_path_factory)
    html_text = (out / "report.html").read_text()
    meta = json.loads((out / "report.json").read_text())
    assert (out / "report.html").stat().st_size < R.MAX_REPORT_BYTES
    # no stage whose code is present may fail
    failed = [s for s in meta["stages"] if s["status"] == "failed"]
    assert not failed, failed
    # self-contained: every image is a data: URI; no external script, stylesheet or link target
    srcs = re.findall(r"<img [^>]*src='([^']*)'", html_text)
    assert len(srcs) == len(meta["figures"])
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"(src|href)=['\"](https?:)?//", html_text)
    assert "<script" not in html_text
    # markdown references the PNGs written beside it
    md = (out / "report.md").read_text()
    for fig in meta["figures"]:
        assert (out / fig["file"]).is_file()
        assert f"]({fig['file']})" in md
        assert fig["title"] and fig["caption"] and "\n" not in fig["caption"]
    if ctx.ok("train"):
        keys = {f["key"] for f in meta["figures"]}
        assert {"training_curves", "reconstructions", "class_unit_map", "jaccard", "subnetworks",
                "weight_masks", "activation_density"} <= keys
        assert [r["model"] for r in meta["headline"]][:2] == ["dense", "sparse"]
    if ctx.ok("simulate"):
        assert {"activity_rasters", "fidelity_vs_timesteps"} <= {f["key"] for f in meta["figures"]}
        # the rasters are the reference engine's spikes: their totals are the record's counts
        rec = ctx.records[("sparse", "rate")]
        trains = ctx.spike_trains["sparse"]
        assert np.array_equal(trains.sum(axis=1), rec.layers[1].spike_counts[ctx.example_idx])
