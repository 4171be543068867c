"""Hardware profiles: bundled files load, every figure is sourced with a unit and (when uncertain)
a distribution; the fit check; the estimate's typed result and its JSON; the report and profiles
commands. Bad files are refused in tests/test_profile_validation.py."""
from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from neurosim.activity import ActivityRecord, LayerActivity, load_record
from neurosim.cli import main
from neurosim.errors import HardwareConstraintError, ProfileError, ValidationError
from neurosim.hardware import (Estimate, Interval, Workload, WorkloadLayer, available_profiles, check, estimate,
                              load_profile, load_profiles)
from neurosim.hardware.profile import CONFIDENCE, DISTRIBUTIONS, SCHEMA, profile_dir
from neurosim.reporting.energy_report import FORMATS, format_report, print_report_for

EXPECTED = {"loihi", "loihi2", "spinnaker", "spinnaker2", "cerebras_wse2", "cerebras_wse3", "rram_crossbar",
            "pcm_crossbar", "gpu_baseline", "cpu_server", "jetson_orin_nano"}


# ----------------------------------------------------------------------------- helpers

def tiny_record(coding: str = "rate", model: str = "sparse") -> ActivityRecord:
    """4 -> 3 -> 4 network, 2 samples, 5 timesteps, hand-made counts."""
    counts0 = np.array([[2, 0, 1, 3], [0, 0, 4, 1]])
    counts1 = np.array([[1, 0, 2], [0, 0, 3]])
    masks = [np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 1]], bool),
             np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 0]], bool)]
    fan0, fan1 = masks[0].sum(0), masks[1].sum(0)
    layers = [
        LayerActivity("in", "input", 4, 5, counts0, int((counts0 * fan0).sum()), 40, 20, fan0),
        LayerActivity("hid", "if", 3, 4, counts1, int((counts1 * fan1).sum()), 24, 10, fan1),
        LayerActivity("out", "readout", 4, 3, np.zeros((2, 4), int), 0, 24, 9, np.zeros(4, int)),
    ]
    return ActivityRecord("reference", "test", 5, 1e-3, layers, np.zeros((2, 4)), np.ones((2, 4)), masks, 0.0,
                          network={"metadata": {"model": model, "coding": coding}})


def write_profile(tmp_path: Path, text: str, name: str = "custom.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def loihi_text() -> str:
    return (profile_dir() / "loihi.toml").read_text()


def refuse(tmp_path: Path, text: str, pattern: str) -> str:
    path = write_profile(tmp_path, text)
    with pytest.raises(ProfileError, match=pattern) as info:
        load_profile(str(path))
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


# ----------------------------------------------------------------------------- bundled profiles

def test_bundled_profiles_cover_every_target_and_kind():
    names = set(available_profiles())
    assert EXPECTED <= names
    kinds = {load_profile(n).kind for n in names}
    assert kinds == set(SCHEMA)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_figure_has_a_source_a_label_a_unit_and_a_distribution_when_uncertain(name):
    prof = load_profile(name)
    raw = tomllib.loads(Path(prof.path).read_text())
    assert raw["name"] == name and prof.description
    for key, fig in prof.figures.items():
        assert len(fig.source) > 20, f"{name}.{key}: source too short to name authors, year, venue"
        if fig.confidence == "U":  # unverified: the source must say so
            assert re.search(r"remembered|not found|unverified", fig.source + fig.note), f"{name}.{key}"
        else:
            assert re.search(r"(19|20)\d\d|arXiv|datasheet|documentation|Param\.cpp|Modelling assumption|Estimate",
                             fig.source), f"{name}.{key}: no year or document named in {fig.source!r}"
        assert not re.search(r"blog aggregat|shared/|reference/|\.\./", fig.source), f"{name}.{key}"
        assert fig.confidence in CONFIDENCE
        if fig.confidence == "derived":
            assert fig.derivation
        assert fig.low <= fig.typical <= fig.high
        assert fig.single == (fig.low == fig.high) and (fig.single or fig.distribution in DISTRIBUTIONS)
        if not fig.is_bool:
            assert fig.unit, f"{name}.{key}: no unit"


def test_ranges_where_the_literature_varies():
    loihi = load_profile("loihi")
    syn = loihi.fig("energy_per_synop_j")
    assert syn.low == pytest.approx(23.6e-12) and syn.typical == pytest.approx(35.5e-12)  # Davies 2018, SANA-FE
    assert syn.distribution == "triangular"
    assert loihi.fig("static_power_per_chip_w").distribution == "lognormal"  # an estimate, not from Blouw et al.
    spinn = load_profile("spinnaker")
    assert spinn.get("energy_per_synop_j") == pytest.approx(7.55e-9)      # Ostrau et al. 2022
    assert spinn.get("time_per_synop_s") == pytest.approx(7.55e-9 / (0.64 / 18), rel=0.02)  # E / P_core, rounded
    # WSE-2 carries its own figures, not WSE-3's
    w2, w3 = load_profile("cerebras_wse2"), load_profile("cerebras_wse3")
    assert w2.fig("layer_latency_s").typical != w3.fig("layer_latency_s").typical
    assert w2.fig("peak_flops").typical != w3.fig("peak_flops").typical


def test_profile_by_path_and_all(tmp_path):
    path = write_profile(tmp_path, loihi_text().replace('name = "loihi"', 'name = "my_loihi"'), "my_loihi.toml")
    prof = load_profile(str(path))
    assert prof.name == "my_loihi" and prof.path == str(path)
    assert len(load_profiles("all")) == len(available_profiles())
    assert [p.name for p in load_profiles(["loihi", "all"])].count("loihi") == 1


def test_unknown_profile_name():
    with pytest.raises(ProfileError, match="unknown hardware profile 'loihi9'"):
        load_profile("loihi9")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile("nowhere/none.toml")


# ----------------------------------------------------------------------------- fit check

def test_check_flags_graded_spikes_on_binary_hardware():
    rec = tiny_record(coding="graded")
    assert any(i.key == "graded_spikes" and i.severity == "error" for i in check(rec, "loihi"))
    assert not any(i.key == "graded_spikes" for i in check(rec, "loihi2"))
    with pytest.raises(HardwareConstraintError, match="does not fit loihi: .*graded spikes"):
        estimate(rec, "loihi", strict=True)
    result = estimate(rec, "loihi")  # not strict: estimated, flagged
    assert result.fits is False and any(i["key"] == "graded_spikes" for i in result.constraint_issues)


def test_check_fan_in_axons_and_memory(tmp_path):
    text = loihi_text().replace("value = 131072", "value = 1").replace("value = 4096", "value = 3")
    assert text.count("value = 1\n") >= 1 and "value = 3\n" in text
    prof = load_profile(str(write_profile(tmp_path, text)))
    issues = {i.key: i for i in check(tiny_record(), prof)}
    assert issues["synapses_per_core"].severity == "error" and issues["synapses_per_core"].value == 2  # fan-in 2 > 1
    assert issues["input_axons_per_core"].value == 4  # 4 inputs reach the hidden core, limit 3
    assert issues["weight_bits"].severity == "warning"  # float weights quantised
    big = Workload(model="big", layers=[WorkloadLayer("l", "linear", 200_000, 200_000)])
    assert any(i.key == "sram_bytes" for i in check(big, "cerebras_wse3"))  # 80 GB of weights > 44 GB
    summary = {"layers": [{"name": "in", "kind": "input", "size": 4},
                          {"name": "h", "kind": "if", "size": 3, "synapses": 12, "nonzero_synapses": 6}],
               "metadata": {"coding": "graded", "weight_bits": 12}}
    keys = {i.key for i in check(summary, "loihi")}
    assert {"graded_spikes", "weight_bits"} <= keys


# ----------------------------------------------------------------------------- result schema

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_estimate_result_is_typed_finite_and_split(name):
    rec = tiny_record()
    res = estimate(rec, name, source="runs/sparse_act", draws=500)
    assert isinstance(res, Estimate) and res.model == "sparse" and res.source == "runs/sparse_act"
    assert res.work["synaptic_ops_per_inference"] == pytest.approx(rec.synaptic_ops / 2)
    assert res.work["spikes_per_inference"] == pytest.approx(rec.total_spikes / 2)
    assert res.work["label"] == ("synaptic ops" if res.kind == "neuromorphic" else "MACs")
    assert set(res.modes) == {"latency", "throughput"}
    for m in res.modes.values():
        for iv in (m.energy_dynamic_j, m.energy_static_j, m.energy_total_j, m.latency_s, m.inferences_per_s):
            assert isinstance(iv, Interval) and 0 <= iv.p10 <= iv.median <= iv.p90 < float("inf")
        samples = m.samples
        assert np.allclose(samples["total"], samples["dynamic"] + samples["static"])
        dyn = sum(b["median"] for b in m.breakdown.values() if b["part"] == "dynamic")
        assert {b["part"] for b in m.breakdown.values()} <= {"dynamic", "static"}
        assert m.latency_s.median > 0 and m.inferences_per_s.median > 0
        assert dyn >= 0
    # throughput never completes fewer inferences per second than one inference alone
    assert res.throughput.inferences_per_s.median >= res.latency.inferences_per_s.median * (1 - 1e-9)
    assert {s["figure"] for s in res.sources} == set(load_profile(name).figures)
    d = json.loads(res.to_json())
    for mode in ("latency", "throughput"):
        for key in ("energy_dynamic_j", "energy_static_j", "energy_total_j", "latency_s", "inferences_per_s"):
            assert set(d["modes"][mode][key]) == {"median", "p10", "p90"}
        assert "resources" in d["modes"][mode]
    assert "figure" in d["dominant_uncertainty"] and d["sources"]


def test_same_seed_same_draws_and_the_seed_matters():
    rec = tiny_record()
    a, b = estimate(rec, "loihi", seed=3, draws=300), estimate(rec, "loihi", seed=3, draws=300)
    c = estimate(rec, "loihi", seed=4, draws=300)
    assert np.array_equal(a.latency.samples["total"], b.latency.samples["total"])
    assert not np.array_equal(a.latency.samples["total"], c.latency.samples["total"])
    with pytest.raises(ValidationError, match="batch size must be at least 1"):
        estimate(rec, "gpu_baseline", batch_size=0)


# ----------------------------------------------------------------------------- report + CLI

@pytest.mark.parametrize("fmt", FORMATS)
def test_print_report_for_every_format(fmt, tmp_path):
    buf = io.StringIO()
    out = print_report_for(tiny_record(), ["loihi", "rram_crossbar"], fmt, stream=buf,
                           json_path=tmp_path / "r.json")
    text = buf.getvalue()
    assert len(out) == 2 and "loihi" in text and "rram_crossbar" in text
    saved = json.loads((tmp_path / "r.json").read_text())
    assert [e["profile"] for e in saved] == ["loihi", "rram_crossbar"]
    if fmt == "json":
        assert json.loads(text)[0]["profile"] == "loihi"
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and "<table id=\"estimates-latency\">" in text
        assert "<table id=\"estimates-throughput\">" in text and "</html>" in text


def test_report_html_escapes_text():
    res = estimate(tiny_record(model="<b>x</b>"), "loihi")
    page = format_report([res], "html")
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_cli_report_writes_output_and_json(tmp_path, capsys):
    stem = tmp_path / "sparse_act"
    tiny_record().save(stem)
    out = tmp_path / "rep" / "report.md"
    assert main(["report", str(stem), "--profile", "loihi2", "--profile", "pcm_crossbar", "--format", "md",
                 "-o", str(out)]) == 0
    assert out.read_text().startswith("# Energy and latency per inference")
    estimates = json.loads(out.with_suffix(".json").read_text())
    assert [e["profile"] for e in estimates] == ["loihi2", "pcm_crossbar"]
    assert main(["report", str(stem) + ".json", "-p", "spinnaker"]) == 0
    printed = capsys.readouterr().out
    assert "spinnaker" in printed and "dynamic energy" in printed and "throughput mode" in printed
    assert json.loads((tmp_path / "sparse_act.report.json").read_text())[0]["profile"] == "spinnaker"
    assert load_record(stem).num_samples == 2  # the record is untouched


def test_cli_report_bad_input_is_one_line_exit_2(tmp_path, capsys):
    stem = tmp_path / "act"
    tiny_record(coding="graded").save(stem)
    assert main(["report", str(stem), "--profile", "nonexistent"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown hardware profile 'nonexistent'" in err
    bad = write_profile(tmp_path, loihi_text().replace("low = 23.6e-12", "low = -1.0"), "bad.toml")
    assert main(["report", str(stem), "--profile", str(bad)]) == 2
    assert "must not be negative" in capsys.readouterr().err
    assert main(["report", str(stem), "--profile", "loihi", "--strict"]) == 2
    assert "does not fit loihi" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing"), "--profile", "loihi"]) == 2
    assert not list(tmp_path.glob("*.report.json"))  # nothing half-written


def test_cli_profiles_lists_sources(tmp_path, capsys):
    js = tmp_path / "profiles.json"
    assert main(["profiles", "--json", str(js)]) == 0
    text = capsys.readouterr().out
    assert "source: Davies M. et al. (2018)" in text and "gpu_baseline" in text
    listing = json.loads(js.read_text())
    assert {p["name"] for p in listing} == set(available_profiles())
    assert all(f["source"] and f["confidence"] for p in listing for f in p["figures"])
    assert main(["profiles", "--brief", "--format", "json", "-p", "loihi", "--json", str(js)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["name"] == "loihi"


def test_cli_report_never_overwrites_the_record(tmp_path, capsys):
    stem = tmp_path / "act"
    tiny_record().save(stem)
    before = (tmp_path / "act.json").read_text()
    assert main(["report", str(stem), "-p", "loihi", "--format", "md", "-o", str(tmp_path / "act.md")]) == 0
    assert (tmp_path / "act.json").read_text() == before            # JSON went to act.report.json
    assert json.loads((tmp_path / "act.report.json").read_text())[0]["profile"] == "loihi"
    assert main(["report", str(stem), "-p", "loihi", "--format", "json", "-o", str(tmp_path / "act.json")]) == 2
    assert "would overwrite an input activity record" in capsys.readouterr().err
    assert (tmp_path / "act.json").read_text() == before


def test_report_savings_pair_dense_with_sparse_per_draw(tmp_path):
    """Two records on one profile: the sparse estimate carries dense / sparse per draw, in both modes;
    a 'small_dense' model is not taken for the dense one."""
    dense, sparse, small = tiny_record(model="dense"), tiny_record(model="sparse"), tiny_record(model="small_dense")
    sparse.layers[1].spike_counts[:] = 0  # fewer hidden spikes: less work
    ests = [estimate(r, "loihi2", draws=300) for r in (dense, sparse)]
    text = format_report(ests, "text")
    assert "Dense -> sparse savings" in text
    saved = json.loads(format_report(ests, "json"))[1]["savings_vs_dense"]
    ratio = ests[0].latency.samples["total"] / ests[1].latency.samples["total"]
    assert saved["latency"]["energy_total"]["median"] == pytest.approx(float(np.median(ratio)))
    assert set(saved) == {"latency", "throughput"}
    lone = json.loads(format_report([estimate(small, "loihi2", draws=300), estimate(sparse, "loihi2", draws=300)],
                                    "json"))
    assert "savings_vs_dense" not in lone[1]


def test_report_tables_show_both_modes_dynamic_static_and_savings():
    from neurosim.reporting.energy_report import attach_savings
    from neurosim.reporting.readings import hardware_readings
    from neurosim.reporting.tables import hardware_rows, hardware_table

    typed = [estimate(tiny_record(model=m), "spinnaker2", draws=300) for m in ("dense", "sparse")]
    attach_savings(typed)
    rows = hardware_rows([e.to_dict() for e in typed])
    head, body = hardware_table(rows)
    assert {"dynamic energy", "static energy", "inferences / s"} <= set(head)
    assert [r[2] for r in body] == ["latency", "throughput", "latency", "throughput"]
    assert body[0][-1] == "–"                                          # the saving sits on the sparse rows
    assert re.fullmatch(r"[\d.]+x( \[[\d.]+ – [\d.]+\])?", body[2][-1]), body[2][-1]
    reading = hardware_readings(rows)[0]
    assert reading["profile"] == "spinnaker2" and "One inference alone" in reading["reading"]
    assert set(reading["savings"]) == {"latency", "throughput"}


def test_cli_report_states_the_deployment_and_runs_host_driven(tmp_path, capsys):
    """Bare by default, said in the text report; --deployment host_driven lengthens Loihi's latency by
    T x the host time per step (the same draws), and a profile without host figures stays bare."""
    stem = tmp_path / "act"
    tiny_record().save(stem)
    assert main(["report", str(stem), "-p", "loihi", "-p", "pcm_crossbar", "--draws", "200",
                 "--json", str(tmp_path / "bare.json")]) == 0
    assert "Deployment: bare" in capsys.readouterr().out
    assert main(["report", str(stem), "-p", "loihi", "-p", "pcm_crossbar", "--draws", "200",
                 "--deployment", "host_driven", "--json", str(tmp_path / "host.json")]) == 0
    assert "Deployment: bare, host_driven" in capsys.readouterr().out
    bare = json.loads((tmp_path / "bare.json").read_text())
    host = json.loads((tmp_path / "host.json").read_text())
    assert [e["extra"]["deployment"] for e in host] == ["host_driven", "bare"]
    T = bare[0]["timesteps"]
    step_host = load_profile("loihi").fig("host_sync_per_step_s").typical
    gained = host[0]["modes"]["latency"]["latency_s"]["median"] - bare[0]["modes"]["latency"]["latency_s"]["median"]
    assert gained == pytest.approx(T * step_host, rel=0.25)  # medians of sums, lognormal host time
    assert host[1]["modes"]["latency"] == bare[1]["modes"]["latency"]
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(stem), "-p", "loihi", "--deployment", "cloud"])
    assert exit_.value.code == 2
