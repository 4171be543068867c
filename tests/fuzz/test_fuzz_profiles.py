"""Fuzz hardware profiles through ``neurosim report ACT --profile FILE.toml``.

Bad profiles, made from every bundled profile: a figure with an unknown or wrong-quantity unit
(``furlongs``, ``pJ`` for a power), an unknown distribution, ``low > typical`` or
``typical > high``, a negative, zero, NaN, infinite, absurd (``1e308``, ``10^400``) or mistyped
value (a string, a boolean, a fraction where a count is meant), a nested table, a figure or key
the schema does not know, a required figure missing, no source or confidence; files that are
not UTF-8 or not TOML, or nest arrays 100,000 deep. Each ends in one ProfileError naming the
file. A second property: profiles whose figures are drawn anywhere inside the schema's
plausible ranges are accepted and give finite, non-negative estimates.
"""
from __future__ import annotations

import math
import tempfile
import tomllib
from pathlib import Path

import pytest
from fuzzing import FULL, QUICK, command, expect_refusal, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from neurosim.errors import ProfileError
from neurosim.hardware.profile import QUANTITIES, SCHEMA, available_profiles, profile_dir

BUNDLED = {name: tomllib.loads((profile_dir() / f"{name}.toml").read_text()) for name in available_profiles()}


def dumps(data: dict) -> str:
    """A TOML document for ``data`` (tables of scalars, one level of [figures.X] tables)."""
    lines = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            for name, fig in v.items():
                if not isinstance(fig, dict):
                    lines.append(f"[{k}]\n{_key(name)} = {_value(fig)}")
                    continue
                lines.append(f"\n[{k}.{_key(name)}]")
                lines += [f"{_key(fk)} = {_value(fv)}" for fk, fv in fig.items() if not isinstance(fv, dict)]
                lines += [f"[{k}.{_key(name)}.{_key(fk)}]\nx = {_value(1)}" for fk, fv in fig.items()
                          if isinstance(fv, dict)]
    return "\n".join(lines) + "\n"


def _key(k: str) -> str:
    return k if k.replace("_", "").isalnum() and k.isascii() else '"' + k.replace('"', '\\"') + '"'


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return "[" + ", ".join(_value(x) for x in v) + "]"


def _num_figures(data: dict) -> list[str]:
    schema = SCHEMA[data["kind"]]
    return [k for k, f in data["figures"].items() if k in schema and schema[k].type == "num"]


@st.composite
def bad_profiles(draw):
    """The text (str or bytes) of one bad profile file."""
    name = draw(st.sampled_from(sorted(BUNDLED)))
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BUNDLED[name].items()}
    data["figures"] = {k: dict(v) for k, v in data["figures"].items()}
    figs = data["figures"]
    key = draw(st.sampled_from(sorted(figs)))
    spec = SCHEMA[data["kind"]][key]
    fig = figs[key]
    how = draw(st.sampled_from(["unit", "distribution", "order", "value", "nested", "unknown_figure",
                                "unknown_key", "missing", "no_source", "confidence", "top", "text"]))
    if how == "unit":
        if spec.type == "bool":
            fig["unit"] = draw(st.sampled_from(["J", "furlongs", "1"]))
        else:
            others = [u for q in QUANTITIES.values() for u in q.units
                      if spec.type != "num" or u not in QUANTITIES[spec.quantity].units]
            fig["unit"] = draw(st.sampled_from(["furlongs", "pJ/s", "", "PJ", "joules", "µ", "%%"] + others))
            if spec.type == "int" and fig["unit"] == spec.quantity:
                fig["unit"] = "furlongs"
    elif how == "distribution":
        if {"low", "typical", "high"} <= set(fig):
            fig["distribution"] = draw(st.sampled_from(["normal", "gaussian", "", "Uniform", "beta", "fixed"]))
        else:
            fig["distribution"] = "triangular"  # a distribution for a single value
    elif how == "order":
        base = fig.get("typical", fig.get("value", 1.0))
        base = float(base) if not isinstance(base, bool) and isinstance(base, (int, float)) and base > 0 else 1.0
        lo, ty, hi = draw(st.sampled_from([(2, 1, 3), (1, 3, 2), (3, 2, 1), (1, 1, 1), (2, 2, 1)]))
        fig.pop("value", None)
        fig.update(low=base * lo, typical=base * ty, high=base * hi, distribution="triangular")
    elif how == "value":
        bad = draw(st.sampled_from([-1.0, -1e-12, 0.0, float("nan"), float("inf"), float("-inf"), 1e308, 10 ** 400,
                                    "35", True, 8.5, -5, 1e-300, 10 ** 19]))
        if spec.type == "bool":
            bad = draw(st.sampled_from([1, 0, "true", 1.0]))
        elif spec.type == "num" and spec.zero_ok and bad == 0.0:
            bad = -0.5
        elif spec.type == "int" and bad is True:
            bad = 2.5
        target = draw(st.sampled_from([k for k in ("value", "low", "typical", "high") if k in fig]))
        if spec.type == "num" and bad == 8.5:  # a fraction is a fine physical value: make it negative
            bad = -8.5
        if spec.type == "num" and bad == 10 ** 19:
            bad = 10 ** 400
        if spec.type == "int" and bad == 1e-300:
            bad = 8.5
        fig[target] = bad
    elif how == "nested":
        fig[draw(st.sampled_from(["value", "source", "unit", "extra"]))] = {"x": 1}
    elif how == "unknown_figure":
        figs[draw(st.sampled_from(["energy_per_furlong_j", "cores_per_wafer", "neurons", "x"]))] = dict(fig)
    elif how == "unknown_key":
        fig[draw(st.sampled_from(["units", "citation", "min", "max", "median"]))] = 1
    elif how == "missing":
        required = [k for k, s in SCHEMA[data["kind"]].items() if s.required]
        del figs[draw(st.sampled_from(required))]
    elif how == "no_source":
        fig[draw(st.sampled_from(["source", "confidence"]))] = draw(st.sampled_from(["", "   ", 3]))
    elif how == "confidence":
        fig["confidence"] = draw(st.sampled_from(["high", "v1", "verified", "derived"]))
        fig.pop("derivation", None)
    elif how == "top":
        change = draw(st.sampled_from(["kind", "name", "extra", "figures", "notes"]))
        if change == "kind":
            data["kind"] = draw(st.sampled_from(["quantum", "", "GPU", "neuromorphic2"]))
        elif change == "name":
            data["name"] = draw(st.sampled_from([3, "", True]))
        elif change == "extra":
            data[draw(st.sampled_from(["version", "author", "figure"]))] = "x"
        elif change == "figures":
            data["figures"] = {}
        else:
            data["notes"] = [1, 2]
    else:
        return draw(st.sampled_from([b"\xff\xfe not utf-8", b"name = ", b"[figures\n", b"a = [" * 100_000,
                                     b"x = " + b"[" * 100_000 + b"]" * 100_000, b"", b"= 1",
                                     b'name = "a"\nname = "b"']))
    return dumps(data)


def check(text, valid_files) -> None:
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        path = d / "target.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        run = command(["report", str(valid_files["record"]), "--profile", str(path), "-o", str(d / "report.md"),
                       "--json", str(d / "report.json"), "--draws", "200"])
        expect_refusal("hardware profile (report)", run, watch=d, mentions="target.toml", error=ProfileError)


@given(text=bad_profiles())
@fuzz_settings(QUICK)
def test_bad_profiles_quick(text, valid_files):
    check(text, valid_files)


@pytest.mark.slow
@given(text=bad_profiles())
@fuzz_settings(FULL)
def test_bad_profiles_full(text, valid_files):
    check(text, valid_files)


def test_every_bundled_profile_round_trips(valid_files, tmp_path):
    """The seeds are valid as this test writes them (so each defect above is the only one)."""
    from neurosim.hardware.profile import load_profile

    for name, data in BUNDLED.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(dumps(data))
        assert load_profile(path).name == data["name"]


@st.composite
def plausible_profiles(draw):
    """A bundled profile with every numeric figure redrawn anywhere in its quantity's plausible range."""
    name = draw(st.sampled_from(sorted(BUNDLED)))
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BUNDLED[name].items()}
    data["figures"] = {k: dict(v) for k, v in data["figures"].items()}
    for key in _num_figures(data):
        q = QUANTITIES[SCHEMA[data["kind"]][key].quantity]
        fig = data["figures"][key]
        for k in ("value", "low", "typical", "high", "distribution"):
            fig.pop(k, None)
        fig["unit"] = q.si
        exps = draw(st.lists(st.floats(math.log10(q.lo), math.log10(q.hi)), min_size=3, max_size=3))
        low, typical, high = sorted(min(max(10 ** e, q.lo), q.hi) for e in exps)
        if low == high:
            fig["value"] = low
        else:
            fig.update(low=low, typical=typical, high=high, distribution="loguniform")
    figs = data["figures"]
    for idle, full in (("idle_power_w", "max_power_w"), ("idle_power_w", "system_power_w")):
        if idle in figs and full in figs:  # keep idle <= full, a documented cross-figure rule
            figs[idle], figs[full] = sorted((figs[idle], figs[full]), key=lambda f: f.get("typical", f.get("value")))
    if "energy_per_active_update_j" in figs and "energy_per_inactive_update_j" in figs:
        a, i = figs["energy_per_active_update_j"], figs["energy_per_inactive_update_j"]
        figs["energy_per_inactive_update_j"], figs["energy_per_active_update_j"] = \
            sorted((a, i), key=lambda f: f.get("typical", f.get("value")))
    return dumps(data)


def _estimates_are_finite(text: str, valid_files) -> None:
    from neurosim.errors import HardwareConstraintError
    from neurosim.hardware.profile import load_profile
    from neurosim.pipeline import estimate

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "plausible.toml"
        path.write_text(text)
        try:
            prof = load_profile(path)
        except ProfileError as exc:  # a cross-figure rule may still refuse it: one line, naming the file
            assert "\n" not in str(exc) and "plausible.toml" in str(exc)
            return
        try:
            found = estimate(str(valid_files["record"]), [prof], draws=200)
        except HardwareConstraintError as exc:
            assert "\n" not in str(exc)
            return
        for e in found:
            numbers = _numbers(e.as_dict() if hasattr(e, "as_dict") else vars(e))
            assert numbers and all(math.isfinite(x) and x >= 0 for x in numbers), (prof.name, numbers)


def _numbers(obj) -> list[float]:
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [float(obj)]
    if isinstance(obj, dict):
        return [x for k, v in obj.items() if k not in ("seed", "draws") for x in _numbers(v)]
    if isinstance(obj, (list, tuple)):
        return [x for v in obj for x in _numbers(v)]
    return []


@given(text=plausible_profiles())
@fuzz_settings(QUICK // 4)
def test_plausible_profiles_give_finite_non_negative_estimates_quick(text, valid_files):
    _estimates_are_finite(text, valid_files)


@pytest.mark.slow
@given(text=plausible_profiles())
@fuzz_settings(FULL // 4)
def test_plausible_profiles_give_finite_non_negative_estimates_full(text, valid_files):
    _estimates_are_finite(text, valid_files)
