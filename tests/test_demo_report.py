"""The demo report: formatters, tables and readings against hand-computed cases, the figure
rules (title, labelled axes, caption), the ANN forward pass the report uses, failed stages,
and a tiny end-to-end run in which every stage must succeed."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from factories import tiny_demo
from neurosim.backends import simulate
from neurosim.errors import ValidationError
from neurosim.network import Connection, Layer, SpikingNetwork
from neurosim.reporting import figures as F
from neurosim.reporting import hidden_figures as H
from neurosim.reporting import subnetwork_figures as S
from neurosim.reporting import demo as R
from neurosim.reporting.ann import forward, model_from_checkpoint, surviving
from neurosim.reporting.document import SECTIONS
from neurosim.reporting.readings import hardware_readings
from neurosim.reporting.tables import hardware_rows, headline_table, text_table
from neurosim.reporting.units import format_count, format_si
from neurosim.reporting.writer import write_report
from neurosim.training.metrics import firing_frequency, jaccard_matrix, unit_order


# --------------------------------------------------------------------------- helpers by hand


def test_format_si_and_count():
    assert format_si(2.5e-6, "J") == "2.5 µJ"
    assert format_si(3e-3, "s") == "3 ms"
    assert format_si(0.0009999, "s") == "1 ms"  # rounds into the next prefix, not '1e+03 µs'
    assert format_si(799e-3, "J") == "799 mJ" and format_si(1.28, "J") == "1.28 J"
    assert format_si(0, "J") == "0 J" and format_si(None, "J") == "–" and format_si(float("nan"), "J") == "–"
    assert format_count(32768) == "32.8 k" and format_count(1684) == "1,684" and format_count(2.5e6) == "2.5 M"


def test_write_report_refuses_oversized_content_and_encodes_numpy(tmp_path):
    with pytest.raises(ValidationError, match="big.html: 0.0 MB exceeds"):
        write_report(tmp_path / "big.html", "x" * 101, max_bytes=100)
    assert not (tmp_path / "big.html").exists()
    write_report(tmp_path / "n.json", {"a": np.arange(3), "b": np.float32(0.5)})
    assert json.loads((tmp_path / "n.json").read_text()) == {"a": [0, 1, 2], "b": 0.5}


def test_model_forward_matches_the_checkpoint_contract():
    import torch

    payload = {"model": "sparse", "config": {"hidden": 2, "input_dim": 2, "gate": "threshold"}, "state_dict": {
        "encoder.weight": torch.tensor([[1.0, -1.0], [0.5, 0.5]]), "encoder.bias": torch.tensor([0.0, 0.1]),
        "decoder.weight": torch.tensor([[2.0, 0.0], [0.0, -1.0]]), "decoder.bias": torch.tensor([0.0, 1.0]),
        "gate.threshold": torch.tensor([0.5, 0.0])},
        "masks": {"encoder.weight": torch.tensor([[True, True], [True, False]]),
                  "decoder.weight": torch.tensor([[True, True], [True, True]])}}
    model = model_from_checkpoint(payload)
    y, h = forward(model, np.array([[1.0, 0.0]]))
    # h = relu([1 - 0 + 0 - 0.5, 0.5 + 0.1 - 0]) = [0.5, 0.6]; y = sigmoid([1.0, -0.6 + 1])
    assert h == pytest.approx(np.array([[0.5, 0.6]]))
    assert y == pytest.approx(1 / (1 + np.exp(-np.array([[1.0, 0.4]]))))
    enc, dec = surviving(model)  # the mask, and the decoder's two zero weights
    assert enc.tolist() == [[True, True], [True, False]]
    assert dec.tolist() == [[True, False], [False, True]]


def test_recorded_spikes_of_a_hand_computed_network():
    """What the rasters draw: per-step spikes from the simulation itself (one run)."""
    inp = Layer("input", "input", 1, params={"gain": 1.0})
    hid = Layer("hidden", "if", 1, params={"v_threshold": 0.5, "v_init": 0.0},
                connection=Connection(np.array([[1.0]]), np.array([0.0])))
    rec = simulate(SpikingNetwork([inp, hid]), np.array([[0.0], [0.5]]), 8, record=[1])
    # input: v = 0.5 k accumulates, spikes when v > 1 (then -1): steps 1, 3, 5, 7
    assert rec.step_spikes["input"][0, :, 0].astype(int).tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    # hidden, enabled from step 1, receives the previous step's input spike; threshold 0.5, subtract:
    # k=2: v=1 -> spike, 0.5; k=3: 0.5 (not > 0.5); k=4: 1.5 -> spike, 1.0; k=5..7: spike
    assert rec.step_spikes["hidden"][0, :, 0].astype(int).tolist() == [0, 0, 1, 0, 1, 1, 1, 1]


# --------------------------------------------------------------------------- the figure rules


def _synthetic(rng=np.random.default_rng(0)):
    h = 40
    labels = np.repeat(np.arange(10), 6)
    x = rng.random((60, 64))
    ann = {"dense": rng.random((60, h)), "sparse": np.where(rng.random((60, h)) < 0.1, rng.random((60, h)), 0)}
    return h, labels, x, ann


def _ablation():
    from neurosim.analysis.ablation import AblationResult

    return AblationResult("ANN", list(range(10)), [3] * 10, np.eye(10) + 0.1, np.full((10, 10), 0.1), np.ones(10), 60)


def _all_figures():
    h, labels, x, ann = _synthetic()
    classes = list(range(10))
    freqs = {k: firing_frequency(a > 0, labels, classes) for k, a in ann.items()}
    orders = {k: unit_order(f) for k, f in freqs.items()}
    idx = np.arange(0, 60, 6)
    spikes = {k: (np.random.default_rng(1).random((10, 16, h)) < 0.2).astype(np.uint8) for k in ann}
    w_enc = np.random.default_rng(2).normal(size=(h, 64)) * (np.random.default_rng(3).random((h, 64)) < 0.1)
    w_dec = np.random.default_rng(4).normal(size=(64, h)) * (np.random.default_rng(5).random((64, h)) < 0.1)
    sets = {c: list(np.flatnonzero(freqs["sparse"][c] > 0)) for c in classes}
    return [
        F.training_curves({"dense": {"train_loss": [0.1, 0.05], "test_loss": [0.11, 0.06]},
                           "sparse": {"train_loss": [0.2, 0.1], "test_loss": [0.2, 0.12]}}),
        F.reconstructions(x[idx], {"dense": x[idx], "sparse": x[idx]}, (8, 8), labels[idx], {"dense": 0.01}),
        S.activity_rasters(x[idx], labels[idx], (8, 8), spikes, {k: a[idx] for k, a in ann.items()}, orders),
        S.class_unit_map(freqs, orders, classes),
        S.overlap_figure({k: jaccard_matrix([list(np.flatnonzero(f[c] > 0.5)) for c in classes])
                          for k, f in freqs.items()}, {k: np.eye(10) for k in freqs}, {k: [1] * 10 for k in freqs},
                         {k: 0 for k in freqs}, classes, "a definition"),
        S.subnetwork_gallery(sets, {c: x[labels == c].mean(0) for c in classes},
                             {c: x[labels == c].mean(0) for c in classes}, w_enc,
                             {c: freqs["sparse"][c] for c in classes}, (8, 8)),
        S.ablation_figure({("sparse", "ANN"): _ablation(), ("dense", "SNN"): _ablation()}, classes),
        H.weight_masks({"encoder": {"mask": w_enc.T != 0}, "decoder": {"mask": w_dec != 0}},
                       {"dense": {"encoder": 1.0, "decoder": 1.0}, "sparse": {"encoder": 0.1, "decoder": 0.1}}),
        H.activation_density(classes, {"dense ANN": np.full(10, 0.8), "sparse SNN": np.full(10, 0.1)}, 0.1),
        F.fidelity_vs_timesteps([{"model": "sparse", "coding": "rate", "timesteps": t, "mse_vs_input": 0.01 / t,
                                  "synaptic_ops_per_inference": 100 * t} for t in (8, 16)], {"sparse": 0.001},
                                {"sparse": 500}),
        F.backend_agreement([{"backend": "brian2", "model": "sparse", "coding": "rate",
                              "counts_reference": np.array([0, 2, 1]), "counts_backend": np.array([0, 2, 2]),
                              "max_abs_diff": 1, "identical_fraction": 2 / 3, "synops_rel_diff": 0.01},
                             {"backend": "lava", "model": "sparse", "coding": "rate", "diff": None, "note": "missing"}]),
        F.energy_latency(hardware_rows(_estimates("loihi2", "neuromorphic") + _estimates("gpu", "gpu"))),
    ]


def test_every_figure_has_title_labelled_axes_and_a_one_line_caption():
    figs = _all_figures()
    try:
        assert len({f.key for f in figs}) == len(figs)
        for rf in figs:
            assert F.check_figure(rf) == [], rf.key
            assert rf.png(dpi=40)[:8] == b"\x89PNG\r\n\x1a\n"
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


# --------------------------------------------------------------------------- tables and readings


def _iv(median: float, p10: float | None = None, p90: float | None = None) -> dict:
    return {"median": median, "p10": median if p10 is None else p10, "p90": median if p90 is None else p90}


def _estimates(profile: str, kind: str) -> list[dict]:
    """Estimate dicts as ``Estimate.to_dict()`` writes them: dense 2 uJ, sparse 0.1 uJ (half static)."""
    est = []
    for coding, scale in (("rate", 10.0), ("graded", 1.0)):
        for model, e in (("dense", 2e-6), ("sparse", 1e-7)):
            mode = {"energy_dynamic_j": _iv(e * scale / 2), "energy_static_j": _iv(e * scale / 2),
                    "energy_total_j": _iv(e * scale, e * scale / 2, e * scale * 2),
                    "latency_s": _iv(2e-4, 1e-4, 3e-4), "inferences_per_s": _iv(5e3), "resources": {}}
            item = {"profile": profile, "model": f"{model} SNN", "coding": coding, "kind": kind,
                    "runs": "snn" if kind == "neuromorphic" else "ann", "fits": True,
                    "modes": {"latency": mode, "throughput": mode},
                    "work": {"label": "synaptic ops" if kind == "neuromorphic" else "MACs",
                             "per_inference": 1000 * scale}}
            if model == "sparse":
                saved = {"energy_total": _iv(20.0, 18.0, 22.0), "energy_dynamic": _iv(20.0),
                         "energy_static": _iv(20.0), "latency": _iv(1.0)}
                item["savings_vs_dense"] = {"latency": saved, "throughput": saved}
            est.append(item)
    return est


def test_hardware_rows_prefer_graded_and_readings_state_the_saving():
    rows = hardware_rows(_estimates("loihi2", "neuromorphic"))
    assert len(rows) == 2 and {r["coding"] for r in rows} == {"graded"}
    assert rows[1]["energy"] == {"low": 0.5e-7, "typical": 1e-7, "high": 2e-7}  # 10 %, median, 90 %
    readings = hardware_readings(rows)
    assert readings[0]["savings"]["latency"]["energy_total"]["median"] == pytest.approx(20.0)
    assert "energy per inference falls 20x (10-90 %: 18-22x)" in readings[0]["reading"]
    assert readings[0]["static_share"]["latency"] == pytest.approx(0.5)
    # neuromorphic: the event decomposition needs the records; without them a generic sentence
    assert "both kinds of sparsity multiply" in readings[0]["reading"]


def test_a_readings_kind_is_the_estimates_kind_not_the_profiles_name():
    # a GPU profile the user named after a neuromorphic chip reads as a GPU
    reading = hardware_readings(hardware_rows(_estimates("my_loihi_like_gpu", "gpu")))[0]
    assert reading["kind"] == "gpu" and "The GPU multiplies zeros" in reading["reading"]
    with pytest.raises(KeyError):
        hardware_rows([{k: v for k, v in _estimates("x", "gpu")[0].items() if k != "kind"}])


def test_headline_table_ratios_by_hand():
    rows = [{"model": "dense", "test_mse": 0.001, "macs_per_inference": 131072},
            {"model": "sparse", "test_mse": 0.004, "macs_per_inference": 2048}]
    head, body = headline_table(rows, timesteps=32)
    assert head == ["quantity", "dense", "sparse", "sparse vs dense"]
    assert body[0] == ["ANN test MSE (pixel²)", "0.0010", "0.0040", "4.00x the dense"]
    assert body[1] == ["ANN MACs per inference", "131 k", "2,048", "64x fewer"]
    assert text_table((head, body)).splitlines()[2] == "ANN test MSE (pixel²)   0.0010  0.0040  4.00x the dense"


# --------------------------------------------------------------------------- the pipeline


def test_a_failed_stage_is_reported_and_the_report_still_written(tmp_path):
    ctx = R.run_demo(tmp_path / "out", run=tmp_path / "no_such_run", say=lambda line: None, samples=20,
                     cross_check_samples=0)
    by_name = {s.name: s for s in ctx.stages}
    assert by_name["train"].status == "failed" and "no_such_run" in by_name["train"].note
    assert "\n" not in by_name["train"].note
    for name in ("convert", "simulate", "subnetworks", "cross-check", "estimate"):
        assert by_name[name].status == "skipped", name
    assert by_name["report"].status == "ok"
    text = (tmp_path / "out" / "report.html").read_text()
    assert "no_such_run" in text
    meta = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [s["name"] for s in meta["stages"]] == ["train", "convert", "simulate", "subnetworks", "cross-check",
                                                   "estimate", "report"]
    assert meta["figures"] == []


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out, ctx = tiny_demo(tmp_path_factory)
    return out, ctx, json.loads((out / "report.json").read_text())


def test_tiny_demo_every_stage_succeeds(tiny):
    _, ctx, meta = tiny
    assert [(s["name"], s["status"]) for s in meta["stages"]] == [
        (name, "ok") for name in ("train", "convert", "simulate", "subnetworks", "cross-check", "estimate", "report")]


def test_tiny_demo_training_and_conversion_stages(tiny):
    out, ctx, meta = tiny
    assert [r["model"] for r in meta["headline"]] == ["dense", "sparse", "small_dense"]
    assert {"training_curves", "reconstructions", "class_unit_map", "jaccard", "subnetworks",
            "weight_masks", "activation_density"} <= {f["key"] for f in meta["figures"]}
    assert sorted(p.name for p in (out / "nets").glob("*.nir")) == [
        "dense_graded.nir", "dense_rate.nir", "sparse_graded.nir", "sparse_rate.nir"]
    # the report's ANN (the trained torch models) is the ANN the converter reads from the checkpoints (numpy)
    for model in ("dense", "sparse"):
        y, _ = forward(ctx.models[model], ctx.test_x)
        assert np.allclose(y, ctx.records[(model, "graded")].ann_outputs, rtol=0, atol=1e-5)
        assert meta["numbers"]["ann_test_mse"][model] == pytest.approx(float(np.mean((y - ctx.test_x) ** 2)))


def test_tiny_demo_rasters_come_from_the_simulated_records(tiny):
    out, ctx, meta = tiny
    assert {"activity_rasters", "fidelity_vs_timesteps"} <= {f["key"] for f in meta["figures"]}
    for model in ("dense", "sparse"):
        rec = ctx.records[(model, "rate")]
        trains = ctx.spike_trains[model]
        assert trains.shape == (len(ctx.example_idx), 16, rec.layers[1].size)
        assert np.array_equal(trains.sum(axis=1), rec.layers[1].spike_counts[ctx.example_idx])
    assert sorted({(p["model"], p["coding"], p["timesteps"]) for p in meta["numbers"]["fidelity_sweep"]}) == sorted(
        (m, c, t) for m in ("dense", "sparse") for c in ("rate", "graded") for t in (8, 16))


def test_tiny_demo_backends_agree_with_the_reference(tiny):
    _, _, meta = tiny
    entries = meta["numbers"]["backend_agreement"]
    assert sorted((e["backend"], e["coding"]) for e in entries) == [
        ("brian2", "graded"), ("brian2", "rate"), ("lava", "graded"), ("lava", "rate")]
    for e in entries:
        assert e["identical_fraction"] == 1.0 and e["synops_rel_diff"] == 0.0, e


def test_tiny_demo_estimates_every_profile_with_a_reading(tiny):
    from neurosim.hardware.profile import available_profiles

    _, _, meta = tiny
    profiles = sorted(available_profiles())
    assert sorted({r["profile"] for r in meta["numbers"]["hardware"]}) == profiles
    assert sorted(r["profile"] for r in meta["hardware_readings"]) == profiles
    assert "energy_latency" in {f["key"] for f in meta["figures"]}


def test_tiny_demo_writes_a_self_contained_report(tiny):
    out, _, meta = tiny
    html_text = (out / "report.html").read_text()
    assert (out / "report.html").stat().st_size < R.MAX_REPORT_BYTES
    # self-contained: every image is a data: URI; no external script, stylesheet or link target
    srcs = re.findall(r"<img [^>]*src='([^']*)'", html_text)
    assert len(srcs) == len(meta["figures"]) == 12
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"(src|href)=['\"](https?:)?//", html_text)
    assert "<script" not in html_text
    md = (out / "report.md").read_text()
    for key, title, _ in SECTIONS:
        assert f"<h2 id='{key}'>{title}</h2>" in html_text and f"## {title}" in md
    for fig in meta["figures"]:
        assert (out / fig["file"]).is_file()
        assert f"]({fig['file']})" in md
        assert fig["title"] and fig["caption"] and "\n" not in fig["caption"]


def test_tiny_demo_report_speaks_of_the_project(tiny):
    out, _, _ = tiny
    for name in ("report.html", "report.md"):
        text = (out / name).read_text()
        assert not re.search(r"\bissue \d|not in this install", text, flags=re.I), name
