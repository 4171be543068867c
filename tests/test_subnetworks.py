"""Digit-specific subnetworks and their ablation: d' by hand, a planted structure the
definition must recover (and a shuffled one it must not), ablation matrices by hand, the
spiking network's silencing checked against the engine and its ablation against the ANN's,
and the demo's subnetwork stage and figures."""
from __future__ import annotations

import json

import numpy as np
import pytest

from factories import tiny_demo
from networks import make_checkpoint
from neurosim.analysis.ablation import (AblationResult, ablation_matrices, ann_errors, diagonal_ratio, ever_active,
                                        relative_increase, silence, snn_errors)
from neurosim.analysis.subnetworks import DEFINITION, find_subnetworks, selectivity


def test_selectivity_by_hand():
    h = np.array([[1.0, 2.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    y = np.array([0, 0, 1, 1])
    d = selectivity(h, y, [0, 1])
    # unit 1, class 0: means 1 vs 0, variances 1 and 0 -> 1 / sqrt(0.5); class 1 the mirror image
    assert d[:, 1] == pytest.approx([2 ** 0.5, -(2 ** 0.5)])
    # unit 0 separates the classes without any spread: a very large d' of the right sign
    assert d[0, 0] > 1e5 and d[1, 0] < -1e5
    assert selectivity(np.zeros((4, 1)), y, [0, 1]).tolist() == [[0.0], [0.0]]


def _planted(seed=0, n_per=40):
    """10 classes; units 3c..3c+2 fire only for class c, units 30-34 for classes 0-4, units 35-39 at random."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(10), n_per)
    h = np.zeros((len(y), 40))
    for c in range(10):
        rows = y == c
        h[np.ix_(rows, [3 * c, 3 * c + 1, 3 * c + 2])] = rng.uniform(0.5, 1.5, (rows.sum(), 3))
    h[:, 30:35] = (y[:, None] < 5) * rng.uniform(0.5, 1.5, (len(y), 5))
    h[:, 35:40] = rng.uniform(0, 1, (len(y), 5)) * (rng.random((len(y), 5)) < 0.3)
    return h, y


def test_planted_subnetworks_are_recovered_and_noise_units_are_not():
    h, y = _planted()
    s = find_subnetworks(h, y)
    for c in range(10):
        own = {3 * c, 3 * c + 1, 3 * c + 2}
        assert own <= set(s.members[c].tolist())
        assert not set(s.members[c].tolist()) & set(range(35, 40))  # class-blind units belong nowhere
        assert not set(s.members[c].tolist()) & (set(range(30)) - own)
    assert s.hubs.tolist() == [30, 31, 32, 33, 34]  # each shared by the five digits 0-4
    assert s.empty == {}
    # the unit order groups units by their digit: 0,1,2 first ... 27,28,29 for digit 9
    pref = s.dprime[:, s.order[:30]].argmax(axis=0)
    assert np.all(np.diff(pref) >= 0)
    assert s.jaccard[0, 9] == 0.0 and s.jaccard[0, 1] > 0  # 0 and 1 share the hubs, 0 and 9 nothing


def test_shuffled_labels_give_empty_subnetworks_that_say_why():
    h, y = _planted()
    s = find_subnetworks(h, np.random.default_rng(1).permutation(y))
    assert sum(s.sizes) <= 2  # the family-wise null admits a chance member in 1 of 20 label draws
    assert len(s.empty) >= 8 and all("exceeds" in why for why in s.empty.values())
    assert s.threshold == pytest.approx(np.quantile(s.null_maxima, 0.95))


def test_relative_increase_and_diagonal_ratio_by_hand():
    y = np.array([0, 0, 1])
    assert relative_increase(np.array([2.0, 4.0, 1.0]), np.array([1.0, 1.0, 1.0]), y, [0, 1]).tolist() == [2.0, 0.0]
    m = np.array([[4.0, 1.0], [1.0, 2.0]])
    assert diagonal_ratio(m) == pytest.approx(3.0)


def test_ablation_matrices_of_a_known_damage_model():
    """errors(units) = 1 + sum of each silenced unit's damage to its own class (2) and the other class (0.5)."""
    y = np.array([0, 0, 1, 1])
    owner = np.array([0, 0, 1, 1, 0, 1])  # units 4 and 5 are outside every subnetwork

    def errors(units):
        e = np.ones(len(y))
        for u in units:
            e += np.where(y == owner[u], 2.0, 0.5)
        return e

    res = ablation_matrices(errors, [np.array([0, 1]), np.array([2])], y, [0, 1], pool=np.arange(6), engine="ANN",
                            draws=3, seed=0)
    assert res.matrix.tolist() == [[4.0, 1.0], [0.5, 2.0]]
    assert res.ratio == pytest.approx(3.0 / 0.75)
    assert res.sizes == [2, 1] and res.baseline_mse.tolist() == [1.0, 1.0]
    # a random unit hurts its owner's class by 2 and the other by 0.5, whichever class that is
    assert np.all((res.random >= 0.5 - 1e-12) & (res.random <= 4.0 + 1e-12))
    assert json.loads(json.dumps(res.as_dict()))["diagonal_ratio"] == pytest.approx(4.0)


def test_silenced_neurons_never_spike_and_the_rest_are_unchanged(tmp_path):
    from neurosim import pipeline

    net = pipeline.convert(make_checkpoint(tmp_path / "s.pt", "sparse", hidden=32), "rate").network
    x = pipeline.load_dataset("digits", "test").x[:30]
    intact = pipeline.simulate(net, inputs=x, timesteps=16).record.layers[1].spike_counts
    gone = np.flatnonzero(intact.sum(axis=0) > 0)[:5]
    assert len(gone) == 5
    counts = pipeline.simulate(silence(net, gone), inputs=x, timesteps=16).record.layers[1].spike_counts
    assert counts[:, gone].sum() == 0
    keep = np.setdiff1d(np.arange(32), gone)
    assert np.array_equal(counts[:, keep], intact[:, keep])  # feed-forward: nothing else changes
    assert np.array_equal(net.layers[1].connection.dense()[gone] != 0,
                          pipeline.convert(tmp_path / "s.pt", "rate").network.layers[1].connection.dense()[gone] != 0)


def test_spiking_ablation_matches_the_ann_ablation(tmp_path):
    """Graded spikes reproduce the ANN, so silencing the same units must damage the same digits as much."""
    from neurosim import pipeline
    from neurosim.reporting.ann import model_from_checkpoint

    path = make_checkpoint(tmp_path / "s.pt", "sparse", hidden=32, sparsity=0.5)
    test = pipeline.load_dataset("digits", "test")
    x, y = test.x[:120], test.y[:120]
    model = model_from_checkpoint(pipeline.load_checkpoint(path))
    h = model.encode(__import__("torch").as_tensor(x).double()).detach().numpy()
    members = [np.flatnonzero(selectivity(h, y, range(10))[c] > 0.5)[:4] for c in range(10)]
    classes = list(range(10))
    ann = ablation_matrices(ann_errors(model, x), members, y, classes, ever_active(h), "ANN", draws=1)
    net = pipeline.convert(path, "graded").network
    snn = ablation_matrices(snn_errors(net, x, y, 8), members, y, classes, ever_active(h), "SNN", draws=1)
    assert np.abs(snn.matrix - ann.matrix).max() < 0.05 * max(np.abs(ann.matrix).max(), 1e-3)
    assert snn.ratio == pytest.approx(ann.ratio, rel=0.05)


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out, ctx = tiny_demo(tmp_path_factory)
    return out, ctx, json.loads((out / "report.json").read_text())


def test_demo_subnetworks_stage_every_digit_and_both_engines_on_the_same_samples(tiny):
    _, ctx, meta = tiny
    assert ctx.ok("subnetworks")
    subs = meta["numbers"]["subnetworks"]
    for model in ("dense", "sparse"):
        s = subs[model]
        assert s["definition"] == DEFINITION
        assert set(s["sizes"]) == {str(c) for c in range(10)}
        assert set(s["empty"]) == {c for c, n in s["sizes"].items() if n == 0}  # an empty set always says why
        for engine in ("ANN", "SNN"):
            a = subs["ablation"][f"{model} {engine}"]
            assert a["samples"] == len(ctx.test_y) == ctx.records[(model, "rate")].num_samples
            assert np.asarray(a["matrix"]).shape == (10, 10)
            assert a["sizes"] == [s["sizes"][str(c)] for c in range(10)]


def test_demo_subnetwork_figures_share_one_unit_order(tiny):
    _, ctx, meta = tiny
    keys = [f["key"] for f in meta["figures"]]
    assert {"activity_rasters", "class_unit_map", "jaccard", "subnetworks", "ablation"} <= set(keys)
    from neurosim.reporting.subnetwork_section import unit_orders

    orders = unit_orders(ctx, {k: None for k in ("dense", "sparse")})
    for model in ("dense", "sparse"):
        assert np.array_equal(orders[model][0], ctx.subnetworks[model].order)
    caption = next(f["caption"] for f in meta["figures"] if f["key"] == "subnetworks")
    assert "shuffled-label null" in caption and "d′ >" in caption
    caption = next(f["caption"] for f in meta["figures"] if f["key"] == "ablation")
    assert f"same {len(ctx.test_y)} test digits" in caption and "random" in caption


def test_samples_beyond_the_split_are_said_once(tmp_path):
    from neurosim.reporting.context import DemoContext
    from neurosim.reporting.demo import _load_test_set

    lines = []
    ctx = DemoContext(tmp_path, {})
    _load_test_set(ctx, 5000, lines.append)
    assert len(ctx.test_y) == 359
    assert lines == ["--samples 5000 is more than the 359 test digits of digits: all 359 are used"]


def test_demo_mnist_without_a_folder_is_a_one_line_error():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "neurosim.cli", "demo", "--dataset", "mnist", "--out", "x"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--data-dir" in proc.stderr


def test_drawings_and_nearest_class_by_hand():
    from neurosim.analysis.subnetworks import drawings, nearest_class

    sig = lambda v: 1 / (1 + np.exp(-np.asarray(v, dtype=float)))  # noqa: E731
    out = drawings([np.array([0]), np.array([1]), np.array([], dtype=int)], np.array([[2.0, 5.0], [7.0, 3.0], [1, 1]]),
                   np.eye(2), np.array([0.0, -1.0]))
    # class 0 draws with unit 0 at its mean 2 only; class 1 with unit 1 at 3; an empty set draws the bias alone
    assert out == pytest.approx(sig([[2.0, -1.0], [0.0, 2.0], [0.0, -1.0]]))
    means = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert nearest_class(means[[2, 0, 1]] * 0.5 + 0.1, means).tolist() == [2, 0, 1]


def test_gallery_row_of_an_empty_subnetwork_says_why():
    from neurosim.reporting import figures as F
    from neurosim.reporting import subnetwork_figures as S

    rng = np.random.default_rng(0)
    members = {0: [3, 1], 1: []}
    rf = S.subnetwork_gallery(members, {0: rng.random(64), 1: rng.random(64)}, {0: rng.random(64), 1: rng.random(64)},
                              rng.normal(size=(5, 64)), {0: np.arange(5.0), 1: np.zeros(5)}, (8, 8),
                              empty={1: "no unit's d' exceeds 0.30 (largest 0.12)"}, threshold=0.3, recognised=1)
    try:
        assert F.check_figure(rf) == []
        assert "sizes 0: 2, 1: 0" in rf.caption and "Empty: 1 (no unit's d' exceeds 0.30 (largest 0.12))" in rf.caption
        texts = [t.get_text() for ax in rf.fig.axes for t in ax.texts]
        assert any("no unit's d' exceeds" in t for t in texts)  # drawn in the row instead of a picture
        assert [ax.get_title() for ax in rf.fig.axes if ax.get_visible() and ax.get_title().startswith("#")] == [
            "#3 d′=3.0", "#1 d′=1.0"]  # only the digit's own units, most selective first
    finally:
        rf.close()
