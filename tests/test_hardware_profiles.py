"""Hardware profiles: bundled files load, every figure is sourced, bad files are refused with a
one-line error naming the file and the key; the fit check; the report and profiles commands."""
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
from neurosim.errors import HardwareConstraintError, ProfileError
from neurosim.hardware import Workload, WorkloadLayer, available_profiles, check, estimate, load_profile, load_profiles
from neurosim.hardware.profile import CONFIDENCE, SCHEMA, profile_dir
from neurosim.reporting.energy_report import FORMATS, format_report, print_report_for

EXPECTED = {"loihi", "loihi2", "spinnaker", "spinnaker2", "cerebras_wse2", "cerebras_wse3", "rram_crossbar",
            "pcm_crossbar", "gpu_baseline"}


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
def test_every_figure_has_a_source_a_label_and_a_derivation_when_derived(name):
    prof = load_profile(name)
    raw = tomllib.loads(Path(prof.path).read_text())
    assert raw["name"] == name and prof.description
    for key, fig in prof.figures.items():
        assert len(fig.source) > 20, f"{name}.{key}: source too short to name authors, year, venue"
        if fig.confidence == "U":  # unverified: the source must say so
            assert re.search(r"remembered|not found|unverified", fig.source + fig.note), f"{name}.{key}"
        else:
            assert re.search(r"(19|20)\d\d|arXiv|datasheet|documentation|guide|abstract|WikiChip|Param\.cpp|Modelling assumption",
                             fig.source), f"{name}.{key}: no year or document named in {fig.source!r}"
        assert fig.confidence in CONFIDENCE
        if fig.confidence == "derived":
            assert fig.derivation
        assert fig.low <= fig.typical <= fig.high


def test_ranges_where_the_literature_varies():
    loihi = load_profile("loihi")
    syn = loihi.fig("energy_per_synop_j")
    assert syn.low == pytest.approx(23.6e-12) and syn.typical == pytest.approx(35.5e-12)  # Davies 2018, SANA-FE
    assert not syn.single
    assert loihi.fig("static_power_per_chip_w").low == pytest.approx(0.029)  # Blouw et al. 2019 Table 1
    assert load_profile("spinnaker").fig("energy_per_spike_j").value == pytest.approx(0.8e-9)  # sPyNNaker constant


def test_inverse_figures_swap_bounds_in_cost_scenarios():
    gpu = load_profile("gpu_baseline")
    bw = gpu.fig("memory_bandwidth_bytes_per_s")
    assert gpu.get("memory_bandwidth_bytes_per_s", "low") == bw.high   # optimistic cost: most bandwidth
    assert gpu.get("memory_bandwidth_bytes_per_s", "high") == bw.low
    assert gpu.get("kernel_launch_s", "low") == gpu.fig("kernel_launch_s").low


def test_profile_by_path_and_all(tmp_path):
    path = write_profile(tmp_path, loihi_text().replace('name = "loihi"', 'name = "my_loihi"'), "my_loihi.toml")
    prof = load_profile(str(path))
    assert prof.name == "my_loihi" and prof.path == str(path)
    assert len(load_profiles("all")) == len(available_profiles())
    assert [p.name for p in load_profiles(["loihi", "all"])].count("loihi") == 1


# ----------------------------------------------------------------------------- bad files refused

def test_unknown_profile_name():
    with pytest.raises(ProfileError, match="unknown hardware profile 'loihi9'"):
        load_profile("loihi9")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile("nowhere/none.toml")


def test_missing_figure_refused(tmp_path):
    text = re.sub(r"\[figures\.neurons_per_core\][^\[]*", "", loihi_text())
    refuse(tmp_path, text, r"missing figure 'figures\.neurons_per_core'")


def test_negative_figure_refused(tmp_path):
    text = loihi_text().replace("low = 23.6e-12", "low = -23.6e-12")
    refuse(tmp_path, text, r"'figures\.energy_per_synop_j\.low' must not be negative")


def test_unknown_keys_refused(tmp_path):
    refuse(tmp_path, loihi_text() + "\n[figures.energy_per_hug_j]\nvalue = 1.0\nconfidence = \"U\"\nsource = \"x\"\n",
           r"unknown figure 'figures\.energy_per_hug_j'")
    refuse(tmp_path, 'colour = "red"\n' + loihi_text(), r"unknown key 'colour'")
    refuse(tmp_path, loihi_text().replace("value = 1024\n", "value = 1024\nunits = \"x\"\n", 1),
           r"unknown key 'figures\.neurons_per_core\.units'")


def test_figure_without_source_refused(tmp_path):
    text = re.sub(r'(\[figures\.cores_per_chip\]\nvalue = 128\nconfidence = "V2"\n)source = "[^"]*"\n', r"\1",
                  loihi_text())
    assert text != loihi_text()
    refuse(tmp_path, text, r"'figures\.cores_per_chip' has no source")


def test_other_malformed_figures_refused(tmp_path):
    base = loihi_text()
    refuse(tmp_path, base.replace("high = 39.65e-12", "high = 1e-12"), "low <= typical <= high")
    refuse(tmp_path, base.replace('value = 1024', 'value = "many"'), "must be a number")
    refuse(tmp_path, base.replace('value = 1024', 'value = 10.5'), "whole number")
    refuse(tmp_path, base.replace('confidence = "V2"\nsource = "Davies M. et al. (2018), \'Loihi',
                                  'confidence = "sure"\nsource = "Davies M. et al. (2018), \'Loihi', 1),
           "confidence' must be one of")
    refuse(tmp_path, base.replace('kind = "neuromorphic"', 'kind = "quantum"'), "kind 'quantum' unknown")
    refuse(tmp_path, base.replace("value = false", "value = 0"), "must be true or false")
    refuse(tmp_path, base.replace("[figures.weight_bits]", "[figures.weight_bits\n"), "not valid TOML")
    refuse(tmp_path, base.replace("low = 72.8e-12", "low = 10e-12"), "below the inactive update energy")


# ----------------------------------------------------------------------------- fit check

def test_check_flags_graded_spikes_on_binary_hardware():
    rec = tiny_record(coding="graded")
    assert any(i.key == "graded_spikes" and i.severity == "error" for i in check(rec, "loihi"))
    assert not any(i.key == "graded_spikes" for i in check(rec, "loihi2"))
    with pytest.raises(HardwareConstraintError, match="does not fit loihi: .*graded spikes"):
        estimate(rec, "loihi", strict=True)
    result = estimate(rec, "loihi")  # not strict: estimated, flagged
    assert result["fits"] is False and any(i["key"] == "graded_spikes" for i in result["constraint_issues"])


def test_check_fan_in_axons_and_memory(tmp_path):
    text = loihi_text().replace("value = 131072", "value = 1").replace("value = 4096", "value = 3")
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

REQUIRED = ("profile", "model", "energy_per_inference_j", "latency_per_inference_s", "synaptic_ops_per_inference",
            "spikes_per_inference", "macs_per_inference", "resources", "breakdown", "assumptions", "sources")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_estimate_result_schema(name):
    rec = tiny_record()
    res = estimate(rec, name, source="runs/sparse_act")
    for key in REQUIRED:
        assert key in res
    for key in ("energy_per_inference_j", "latency_per_inference_s"):
        assert set(res[key]) == {"low", "typical", "high"}
        assert 0 <= res[key]["low"] <= res[key]["typical"] <= res[key]["high"]
    assert res["model"] == "sparse" and res["source"] == "runs/sparse_act"
    assert res["synaptic_ops_per_inference"] == pytest.approx(rec.synaptic_ops / 2)
    assert res["spikes_per_inference"] == pytest.approx(rec.total_spikes / 2)
    assert (res["macs_per_inference"] is None) == (res["kind"] == "neuromorphic")
    for sc in ("low", "typical", "high"):
        total = sum(d[sc] for d in res["breakdown"].values())
        assert total == pytest.approx(res["energy_per_inference_j"][sc], rel=1e-12)
    assert {s["figure"] for s in res["sources"]} == set(load_profile(name).figures)
    json.dumps(res)  # JSON-ready


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
        assert text.startswith("<!DOCTYPE html>") and "<table id=\"estimates\">" in text and "</html>" in text


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
    assert "spinnaker" in printed and "energy / inference" in printed
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
