"""``neurosim sweep``: the grid and its checks, a 2 x 2 sweep on a 2-worker LocalCluster against
the same sweep run serially, a killed sweep resumed, failures recorded, the table, the page."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from neurosim.cli import main
from neurosim.errors import ConfigError
from neurosim.sweep import SweepConfig, config_from_mapping, load_points, run_sweep, write_outputs
from neurosim.sweep.grid import Point
from neurosim.sweep.results import TIMING_COLUMNS, break_even, pareto_front, tidy_rows

#: a 2 x 2 grid small enough for the suite (16 hidden units, 2 epochs, 10 test digits)
TINY = dict(weight_sparsity=[0.0, 0.9], activity=[1.0, 0.1], coding=["auto", "rate"], timesteps=[8],
            hidden=16, epochs=2, max_train_samples=120, max_test_samples=40, samples=10,
            profiles=["loihi", "loihi2", "gpu_baseline"], draws=20)
TINY_FLAGS = ["--weight-sparsity", "0", "0.9", "--activity", "1", "0.1", "--coding", "auto", "rate",
              "--timesteps", "8", "--hidden", "16", "--epochs", "2", "--max-train-samples", "120",
              "--max-test-samples", "40", "--samples", "10", "--profile", "loihi", "--profile", "loihi2",
              "--profile", "gpu_baseline", "--draws", "20"]


def table(out: Path) -> list[dict[str, str]]:
    """sweep.csv without its wall-time columns."""
    rows = list(csv.DictReader(io.StringIO((out / "sweep.csv").read_text())))
    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


@pytest.fixture(scope="module")
def serial_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    stats = run_sweep(config_from_mapping(TINY), out, serial=True, progress=None)
    write_outputs(out, figures=False)
    return out, stats


# ------------------------------------------------------------------------------ grid


def test_the_grid_is_the_dense_reference_then_every_pair():
    cfg = config_from_mapping(TINY)
    assert [p.key for p in cfg.points()] == ["dense", "s0.0000_a1.0000", "s0.0000_a0.1000", "s0.9000_a1.0000",
                                             "s0.9000_a0.1000"]


@pytest.mark.parametrize("s, encoder, decoder", [(0.0, 1.0, 1.0), (0.25, 0.5, 1.0), (0.5, 0.25, 0.75),
                                                 (0.9, 0.05, 0.15)])
def test_the_surviving_weight_budget_is_met_at_every_sparsity(s, encoder, decoder):
    """Kept weights (1 - s) 2 d H: encoder and decoder densities by hand (equal-sized matrices)."""
    from neurosim.training.config import TrainConfig
    from neurosim.training.loop import layer_sparsities

    settings = SweepConfig().train_settings(Point(s, 0.1))
    sp = layer_sparsities(TrainConfig(**settings))
    assert 1 - sp["encoder.weight"] == pytest.approx(encoder, abs=1e-6)
    assert 1 - sp["decoder.weight"] == pytest.approx(decoder, abs=1e-6)


@pytest.mark.parametrize("change, message", [
    ({"weight_sparsity": [0.5, 1.0]}, r"weight_sparsity: 1\.0 is outside \[0, 1\)"),
    ({"weight_sparsity": [-0.1]}, r"weight_sparsity: -0\.1 is outside \[0, 1\)"),
    ({"activity": []}, r"activity: empty grid"),
    ({"activity": [0.0]}, r"activity: 0\.0 is outside \(0, 1\]"),
    ({"profiles": ["loihi", "no_such_chip"]}, r"profiles: unknown hardware profile 'no_such_chip'"),
    ({"coding": ["spikes"]}, r"coding: unknown coding 'spikes'"),
    ({"epochs": 0}, r"epochs: must be a positive integer"),
    ({"grid": [1]}, r"unknown key 'grid'"),
])
def test_a_bad_grid_is_a_config_error_naming_the_key(change, message):
    with pytest.raises(ConfigError, match=message):
        config_from_mapping({**TINY, **change}, "sweep.toml")


@pytest.mark.parametrize("args, message", [
    (["--weight-sparsity", "0", "1.0"], "weight_sparsity: 1.0 is outside [0, 1)"),
    (["--activity"], "activity: empty grid"),
    (["--profile", "no_such_chip"], "unknown hardware profile 'no_such_chip'"),
    (["--weight-sparsity", "1.5", "--config", "{toml}"], "weight_sparsity: 1.5 is outside [0, 1)"),
])
def test_a_bad_grid_on_the_command_line_is_one_line_and_exit_2(args, message, tmp_path, capsys):
    toml = tmp_path / "grid.toml"
    toml.write_text("weight_sparsity = [0.5]\nactivity = [0.1]\n")
    code = main(["sweep", "--out", str(tmp_path / "out"), *[a.replace("{toml}", str(toml)) for a in args]])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("neurosim sweep: error:") and message in err
    assert not (tmp_path / "out").exists()


def test_an_empty_grid_in_a_config_file_names_the_file(tmp_path, capsys):
    toml = tmp_path / "grid.toml"
    toml.write_text("weight_sparsity = []\nactivity = [0.1]\n")
    assert main(["sweep", "--config", str(toml), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{toml}: weight_sparsity: empty grid" in err


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    from neurosim import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["sweep", "--out", str(tmp_path / "out"), *TINY_FLAGS, "--scheduler", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"scheduler tcp://127.0.0.1:{port}: cannot connect" in err


# ------------------------------------------------------------------------------ running


def test_a_two_worker_cluster_gives_the_serial_results(serial_sweep, tmp_path):
    pytest.importorskip("dask.distributed")
    out, stats = serial_sweep
    assert stats == {**stats, "total": 5, "ran": 5, "skipped": 0, "failed": 0}
    run_sweep(config_from_mapping(TINY), tmp_path, workers=2, progress=None)
    write_outputs(tmp_path, figures=False)
    serial, distributed = table(out), table(tmp_path)
    assert len(serial) == 4 * 2 * 4 + 3 * 2  # sparse: 4 target runs x 2 modes each; dense: 3 x 2
    assert distributed == serial


def test_a_killed_sweep_resumes_to_the_uninterrupted_results(serial_sweep, tmp_path):
    """SIGKILL after the first two points are stored; the rerun runs only the rest."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "neurosim.cli", "sweep", "--serial", "--no-figures", "--out", str(out), *TINY_FLAGS]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(list((out / "points").glob("*.json"))) < 2:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no point finished within 300 s"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    kept = len(list((out / "points").glob("*.json")))
    assert 2 <= kept < 5
    stats = run_sweep(config_from_mapping(TINY), out, serial=True, progress=None)
    assert stats["skipped"] == kept and stats["ran"] == 5 - kept
    write_outputs(out, figures=False)
    assert table(out) == table(serial_sweep[0])


def test_a_failing_point_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    from neurosim.sweep import run as run_module

    real = run_module.run_point

    def flaky(config, point):
        if point["weight_sparsity"] == 0.9 and point["activity"] == 0.1:
            raise RuntimeError("simulated out-of-memory")
        return real(config, point)

    small = {**TINY, "weight_sparsity": [0.9], "activity": [1.0, 0.1]}
    monkeypatch.setattr(run_module, "run_point", flaky)
    stats = run_sweep(config_from_mapping(small), tmp_path, serial=True, progress=None)
    assert (stats["ran"], stats["failed"]) == (3, 1)
    failed = json.loads((tmp_path / "points" / "s0.9000_a0.1000.json").read_text())
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: simulated out-of-memory"
    write_outputs(tmp_path, figures=False)
    rows = [r for r in table(tmp_path) if r["point"] == "s0.9000_a0.1000"]
    assert rows == [{**rows[0], "status": "failed", "error": "RuntimeError: simulated out-of-memory", "profile": ""}]
    monkeypatch.setattr(run_module, "run_point", real)
    again = run_sweep(config_from_mapping(small), tmp_path, serial=True, progress=None)
    assert (again["ran"], again["skipped"], again["failed"]) == (1, 2, 0)


def test_other_settings_in_the_same_folder_are_refused(serial_sweep, tmp_path):
    out = serial_sweep[0]
    with pytest.raises(ConfigError, match=r"sweep\.toml: this folder holds a sweep with other settings \(epochs\)"):
        run_sweep(config_from_mapping({**TINY, "epochs": 3}), out, serial=True, progress=None)


# ------------------------------------------------------------------------------ results


def test_the_table_measures_what_the_points_measured(serial_sweep):
    out = serial_sweep[0]
    points = {p["point"]["key"]: p for p in load_points(out)}
    rows = tidy_rows(list(points.values()))
    dense = {(r["profile"], r["mode"]): r for r in rows if r["model"] == "dense"}
    for r in rows:
        p = points[r["point"]]
        run = next(x for x in p["runs"] if x["coding"] == ("graded" if r["coding"] == "ann" else r["coding"]))
        assert r["events_per_synapse"] == run["synaptic_ops_per_inference"] / run["nonzero_synapses"]
        assert r["events_per_dense_synapse"] == run["synaptic_ops_per_inference"] / (2 * 64 * 16)
        assert r["saving_vs_dense"] == dense[(r["profile"], r["mode"])]["energy_j"] / r["energy_j"]
    # the dense ANN runs as graded events on Loihi 2, rate-coded on Loihi 1, as the ANN on the GPU
    assert {(k[0], r["coding"]) for k, r in dense.items()} == {("loihi2", "graded"), ("loihi", "rate"),
                                                             ("gpu_baseline", "ann")}
    # no pruning keeps every synapse; at 90 % each of the 16 units keeps 5 % of its 64 encoder
    # weights (3.2 -> 3) and 15 % of its 64 decoder weights (9.6 -> 9): 16 * 12 synapses
    syn = {r["point"]: r["nonzero_synapses"] for r in rows if r["coding"] == "graded"}
    assert syn["s0.0000_a1.0000"] == syn["dense"] == 2 * 64 * 16
    assert syn["s0.9000_a0.1000"] == 16 * (3 + 9)


def test_pareto_front_by_hand():
    energy = np.array([1.0, 2.0, 3.0, 4.0, 0.5, 2.5])
    mse = np.array([5.0, 3.0, 4.0, 1.0, 6.0, 3.0])
    # 0.5/6 -> 1/5 -> 2/3 -> 4/1; (3, 4) and (2.5, 3) are dominated by (2, 3)
    assert pareto_front(energy, mse).tolist() == [4, 0, 1, 3]


def test_break_even_crossing_by_hand():
    """saving = 2 / events_per_synapse: the line crosses 1 at 2 events per synapse."""
    rows = [{"status": "done", "profile": "loihi", "model": "sparse", "coding": "rate", "timesteps": 8,
             "mode": "latency", "point": f"p{i}", "events_per_dense_synapse": e, "saving_vs_dense": 2.0 / e}
            for i, e in enumerate([0.5, 1.0, 4.0, 8.0])]
    (b,) = break_even(rows)
    assert b["events_per_synapse_at_break_even"] == pytest.approx(2.0)
    assert (b["winning"], b["losing"], b["best_point"], b["worst_point"]) == (2, 2, "p0", "p3")
    assert b["losing_points"] == ["p2", "p3"]


def test_the_page_embeds_every_figure(serial_sweep, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(serial_sweep[0], out)
    written = write_outputs(out)
    page = written["html"].read_text()
    stems = [k for k in written if k not in ("csv", "json", "html")]
    assert len(stems) == 7 and all((out / "figures" / f"{s}.png").stat().st_size > 5000 for s in stems)
    assert page.count("src='data:image/png;base64,") == 7
    assert "http://" not in page and "https://" not in page
    assert json.loads((out / "sweep.json").read_text())["summary"]["done"] == 5


def test_the_demo_report_takes_the_sweep_figures(serial_sweep, tmp_path, capsys):
    """``neurosim demo --sweep DIR``: the seven figures join the hardware section; a folder
    without a finished sweep is one line and exit 2."""
    from neurosim.sweep.figures import report_figures

    figs = report_figures(serial_sweep[0])
    assert [f.section for f in figs] == ["hardware"] * 7
    assert {f.key for f in figs} == {"sweep_mse_vs_synops", "sweep_mse_vs_energy_latency",
                                     "sweep_mse_vs_energy_throughput", "sweep_saving_heatmap_latency",
                                     "sweep_saving_heatmap_throughput", "sweep_break_even_latency",
                                     "sweep_break_even_throughput"}
    for f in figs:
        f.close()
    assert main(["demo", "--sweep", str(tmp_path), "--out", str(tmp_path / "demo")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--sweep is not a finished sweep folder" in err


@pytest.mark.browser
def test_the_sweep_page_loads_in_chromium(serial_sweep, tmp_path):
    """Headless Chromium: every figure decodes, nothing is fetched, the console stays clean."""
    import shutil

    playwright = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("NEUROSIM_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        pytest.skip(f"{chromium} not installed (`make test` installs Debian's chromium)")
    out = tmp_path / "copy"
    shutil.copytree(serial_sweep[0], out)
    write_outputs(out)
    messages, requests = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: messages.append((msg.type, msg.text)))
            page.on("request", lambda req: requests.append(req.url))
            page.goto((out / "sweep.html").as_uri(), wait_until="load")
            images = page.evaluate("() => Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
            rows = page.evaluate("() => document.querySelectorAll('table tr').length")
        finally:
            browser.close()
    assert len(images) == 7 and all(done and width > 300 for done, width in images)
    assert [m for m in messages if m[0] in ("error", "warning")] == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    # one header row and one row per (target, code, mode): loihi rate, loihi2 graded and rate, gpu; 2 modes
    assert rows == 1 + 4 * 2
