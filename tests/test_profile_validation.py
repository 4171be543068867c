"""Bad hardware profiles are refused on load with one line naming the file, the figure and the
problem (units, distributions, order, sign, magnitude, types, nesting); the CLI turns it into
exit status 2. Units convert to SI."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from neurosim.cli import main
from neurosim.errors import ProfileError
from neurosim.hardware import load_profile

TOY = """
name = "toy"
kind = "neuromorphic"
title = "toy chip"

[figures.neurons_per_core]
value = 2
unit = "neurons"
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"

[figures.cores_per_chip]
value = 4
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"

[figures.weight_bits]
value = 8
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"

[figures.graded_spikes]
value = true
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"

[figures.energy_per_synop_j]
low = 1.0
typical = 2.0
high = 4.0
unit = "pJ"
distribution = "lognormal"
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"

[figures.energy_per_neuron_update_j]
value = 5
unit = "pJ"
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"

[figures.energy_per_spike_j]
value = 10
unit = "pJ"
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"

[figures.static_power_per_chip_w]
value = 1
unit = "mW"
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"

[figures.time_per_synop_s]
value = 2
unit = "ns"
confidence = "assumption"
source = "Modelling assumption: a toy chip for tests"
"""


def write(tmp_path: Path, text: str, name: str = "toy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refuse(tmp_path: Path, text: str, pattern: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError, match=pattern) as info:
        load_profile(str(path))
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_toy_profile_loads_with_units_converted_to_si(tmp_path):
    prof = load_profile(str(write(tmp_path, TOY)))
    syn = prof.fig("energy_per_synop_j")
    assert (syn.low, syn.typical, syn.high) == pytest.approx((1e-12, 2e-12, 4e-12))
    assert syn.unit == "J" and syn.distribution == "lognormal" and not syn.single
    assert prof.get("static_power_per_chip_w") == pytest.approx(1e-3)
    assert prof.get("time_per_synop_s") == pytest.approx(2e-9)
    assert prof.fig("neurons_per_core").single and prof.uncertain() == ["energy_per_synop_j"]


SYN = """[figures.energy_per_synop_j]
low = 1.0
typical = 2.0
high = 4.0
unit = "pJ"
distribution = "lognormal"
"""


def _syn(replacement: str) -> str:
    assert SYN in TOY
    return TOY.replace(SYN, replacement)


@pytest.mark.parametrize("text, pattern", [
    (_syn(SYN.replace('unit = "pJ"', 'unit = "furlongs"')), r"energy_per_synop_j\.unit' 'furlongs' is not a unit"),
    (_syn(SYN.replace('unit = "pJ"', 'unit = "W"')), r"'W' is not a unit of this figure \(allowed: J, mJ"),
    (_syn(SYN.replace('"lognormal"', '"gaussian"')), r"distribution' must be one of uniform, triangular"),
    (_syn(SYN.replace("high = 4.0", "high = 1.5")), r"must satisfy low <= typical <= high, got 1e-12, 2e-12, 1.5e-12"),
    (_syn(SYN.replace("low = 1.0", "low = -1.0")), r"energy_per_synop_j\.low' must not be negative"),
    (_syn(SYN.replace("low = 1.0", "low = 0.0")), r"energy_per_synop_j\.low' must be positive, got 0"),
    (_syn(SYN.replace("high = 4.0", "high = inf")), r"must be finite"),
    (_syn(SYN.replace("high = 4.0", "high = nan")), r"must be finite"),
    (_syn(SYN.replace('unit = "pJ"', 'unit = "J"')), r"= 1 J is outside the plausible range .* \(wrong unit\?\)"),
    (_syn(SYN.replace("low = 1.0", 'low = "one"')), r"energy_per_synop_j\.low' must be a number"),
    (_syn(SYN.replace("low = 1.0", "low = true")), r"energy_per_synop_j\.low' must be a number"),
    (_syn(SYN.replace("low = 1.0", "low = {value = 1.0}")), r"energy_per_synop_j\.low' must be a single value, "
                                                             r"got a nested table"),
    (_syn(SYN.replace("low = 1.0", "low = [1.0, 2.0]")), r"nested list"),
    (_syn(SYN.replace("low = 1.0\n", "")), r"is missing 'low'"),
    (_syn(SYN.replace('distribution = "lognormal"\n', "")), r"distribution' must be one of"),
    (_syn(SYN.replace("low = 1.0", "low = 2.0")), r"lognormal: its median \(typical\) must lie strictly between"),
    (_syn(SYN.replace("low = 1.0\ntypical = 2.0\nhigh = 4.0", "low = 2.0\ntypical = 2.0\nhigh = 2.0")
          .replace('distribution = "lognormal"', 'distribution = "uniform"')), r"low == high"),
    (TOY.replace("value = 2\nunit = \"neurons\"", "value = 0\nunit = \"neurons\""),
     r"neurons_per_core' must be between 1 and"),
    (TOY.replace("value = 2\nunit = \"neurons\"", "value = 2.5\nunit = \"neurons\""), r"must be a whole number"),
    (TOY.replace("value = 2\nunit = \"neurons\"", "value = 2\nunit = \"cores\""),
     r"neurons_per_core\.unit' must be 'neurons' \(a count\)"),
    (TOY.replace('value = 1\nunit = "mW"', 'value = 0\nunit = "mW"'), r"static_power_per_chip_w\.value' must be positive"),
    (TOY.replace('value = 1\nunit = "mW"', 'value = 1\nunit = "mW"\ndistribution = "uniform"'),
     r"has a distribution but a single value"),
    (TOY + '\n[figures.energy_per_hug_j]\nvalue = 1\nconfidence = "U"\nsource = "nobody, remembered"\n',
     r"unknown figure 'figures\.energy_per_hug_j' for kind 'neuromorphic'"),
    (TOY.replace("[figures.cores_per_chip]\nvalue = 4", "[figures.cores_per_chip]\nvalue = 4\ncolour = 'red'"),
     r"unknown key 'figures\.cores_per_chip\.colour'"),
    ('colour = "red"\n' + TOY, r"unknown key 'colour'"),
    (TOY.replace('kind = "neuromorphic"', 'kind = "quantum"'), r"kind 'quantum' unknown"),
    (TOY.replace("value = true", "value = 1"), r"must be true or false"),
    (TOY.replace('confidence = "assumption"', 'confidence = "sure"', 1), r"confidence' must be one of"),
    (re.sub(r"\[figures\.time_per_synop_s\][^\[]*$", "", TOY), r"missing figure 'figures\.time_per_synop_s'"),
    (TOY.replace("[figures.weight_bits]", "[figures.weight_bits\n"), r"not valid TOML"),
    (TOY.replace('title = "toy chip"', "title = 3"), r"'title' must be a string"),
])
def test_bad_profiles_are_refused_in_one_line(tmp_path, text, pattern):
    refuse(tmp_path, text, pattern)


def test_figure_without_source_refused(tmp_path):
    text = TOY.replace('[figures.cores_per_chip]\nvalue = 4\nconfidence = "assumption"\n'
                       'source = "Modelling assumption: a toy chip for tests"',
                       '[figures.cores_per_chip]\nvalue = 4\nconfidence = "assumption"')
    assert text != TOY
    refuse(tmp_path, text, r"'figures\.cores_per_chip' has no source")


@pytest.mark.parametrize("change, pattern", [
    (('unit = "pJ"', 'unit = "kJ"'), "is not a unit"),
    (("low = 1.0", "low = 3.0"), "low <= typical <= high"),
    (("low = 1.0", "low = -1.0"), "must not be negative"),
    (('value = 1\nunit = "mW"', 'value = 0\nunit = "mW"'), "must be positive"),
])
def test_cli_refuses_bad_profiles_with_one_line_and_exit_2(tmp_path, capsys, change, pattern):
    from test_hardware_profiles import tiny_record

    stem = tmp_path / "act"
    tiny_record().save(stem)
    bad = write(tmp_path, TOY.replace(*change, 1), "bad.toml")
    assert main(["report", str(stem), "--profile", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and pattern in err and "bad.toml" in err
