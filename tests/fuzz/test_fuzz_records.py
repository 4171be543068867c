"""Fuzz ``neurosim report ACT``: every malformed activity record ends in one RecordError.

A valid record (``ACT.json`` + ``ACT.npz`` from the reference engine) gets one defect. In the
JSON: a field removed, of the wrong type, NaN, infinite, negative, out of range (``dt_s``,
``timesteps``, a layer's ``window``) or inconsistent with the arrays (sizes, counts, synaptic
operations); invalid JSON, nesting 100,000 levels deep. In the NPZ: an array removed, reshaped,
of the wrong dtype, holding NaN, negative or impossible spike counts, a fan-out that does not
match the synapses, zero samples; an object array whose unpickling would create a marker file;
a zip member declaring 1.1 GiB (a decompression bomb); not a zip at all. Nothing may be written.
"""
from __future__ import annotations

import copy
import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fuzzing import FULL, QUICK, command, expect_refusal, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from malicious import CreatesMarker

from neurosim.errors import RecordError


@pytest.fixture(scope="module")
def seed_record(valid_files):
    stem = valid_files["record"]
    meta = json.loads(stem.with_suffix(".json").read_text())
    with np.load(stem.with_suffix(".npz")) as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays


BAD_NUMBERS = [float("nan"), float("inf"), float("-inf"), -1, -1.5, 0, 1.5, "12", True, None, [1], {"a": 1}, 1e300]
TOP_FIELDS = ["format", "format_version", "backend", "backend_version", "timesteps", "dt_s", "wall_time_s",
              "layer_fields", "network", "info", "versions", "num_samples"]
LAYER_FIELDS = ["name", "kind", "size", "window", "synaptic_ops", "neuron_updates", "active_neuron_updates"]


@st.composite
def json_defects(draw):
    how = draw(st.sampled_from(["remove", "top_value", "layer_remove", "layer_value", "layer_count", "text",
                                "consistency"]))
    if how == "remove":
        key = draw(st.sampled_from([k for k in TOP_FIELDS if k not in ("network", "info", "versions",
                                                                        "num_samples", "format_version")]))
        return how, key
    if how == "top_value":
        key = draw(st.sampled_from(TOP_FIELDS))
        value = draw(st.sampled_from(BAD_NUMBERS + ["", 3, "neurosim.other", 2, 1e-12, 2.0, [], "x" * 2000]))
        allowed = {"format_version": (1,), "wall_time_s": (0, 1.5, 1e300), "num_samples": ()}
        if value in allowed.get(key, ()) and type(value) is not bool:
            value = -7
        if key in ("network", "info", "versions") and isinstance(value, dict):
            value = "text"
        if key == "dt_s" and value is True:
            value = "fast"
        if key in ("backend", "backend_version") and isinstance(value, str) and 0 < len(value) <= 1000:
            value = 12  # any name is a backend's name: a number is not
        return how, key, value
    if how == "layer_remove":
        return how, draw(st.integers(0, 2)), draw(st.sampled_from(LAYER_FIELDS))
    if how == "layer_value":
        field = draw(st.sampled_from(LAYER_FIELDS))
        value = draw(st.sampled_from(BAD_NUMBERS + ["", "lstm", "input", 10 ** 30]))
        return how, draw(st.integers(0, 2)), field, value
    if how == "layer_count":
        return how, draw(st.sampled_from([0, 1, 1001, "dup", "not_list", "not_dict"]))
    if how == "text":
        return how, draw(st.sampled_from(["cut", "garbage", "deep", "latin1", "list", "empty"])), \
            draw(st.floats(0, 0.99))
    # consistency: a count or size that disagrees with the arrays
    return how, draw(st.integers(0, 2)), draw(st.sampled_from(["synaptic_ops", "neuron_updates",
                                                                "active_neuron_updates", "size", "window",
                                                                "num_samples"])), \
        draw(st.integers(1, 10 ** 6))


def apply_json(meta: dict, defect) -> bytes:
    m = copy.deepcopy(meta)
    how = defect[0]
    if how == "remove":
        del m[defect[1]]
        if defect[1] == "format":
            m["format"] = None
    elif how == "top_value":
        m[defect[1]] = defect[2]
    elif how == "layer_remove":
        lf = m["layer_fields"][defect[1]]
        lf.pop(defect[2], None)
        if defect[2] == "window":
            lf.pop("timesteps", None)
    elif how == "layer_value":
        _, i, field, value = defect
        if field == "kind" and value == "input" and i == 0:
            value = "if"
        if field == "name" and isinstance(value, str) and value:
            value = m["layer_fields"][(i + 1) % 3]["name"]  # a duplicate name
        m["layer_fields"][i][field] = value
    elif how == "layer_count":
        fields = m["layer_fields"]
        m["layer_fields"] = {0: [], 1: fields[:1], 1001: fields * 334, "dup": [fields[0], fields[0], fields[2]],
                             "not_list": {"0": fields[0]}, "not_dict": [fields[0], "hidden", fields[2]]}[defect[1]]
    elif how == "text":
        text = json.dumps(m).encode()
        return {"cut": text[:int(len(text) * defect[2])], "garbage": b"\x00\xff garbage {",
                "deep": b"[" * 100_000 + b"]" * 100_000, "latin1": b'{"format": "\xe9"}',
                "list": b"[1, 2, 3]", "empty": b""}[defect[1]]
    else:
        _, i, field, delta = defect
        if field == "num_samples":
            m["num_samples"] += delta
        elif field == "active_neuron_updates":  # more active updates than updates
            m["layer_fields"][i][field] = m["layer_fields"][i]["neuron_updates"] + delta
        else:
            m["layer_fields"][i][field] += delta
    return json.dumps(m, allow_nan=True).encode()


@st.composite
def npz_defects(draw, names):
    how = draw(st.sampled_from(["remove", "reshape", "dtype", "non_finite", "counts", "fan_out", "mask",
                                "zero_samples", "labels", "pickled_code", "bomb", "not_zip", "cut"]))
    if how in ("remove", "reshape", "dtype"):
        key = draw(st.sampled_from([n for n in names if how != "remove" or n not in ("labels", "ann_outputs")]))
        return how, key, draw(st.integers(0, 3))
    if how == "non_finite":
        return how, draw(st.sampled_from(["inputs", "outputs", "ann_outputs"])), draw(st.integers(0, 10 ** 6)), \
            draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if how in ("counts", "fan_out", "mask"):
        return how, draw(st.integers(0, 2)), draw(st.integers(0, 10 ** 6)), draw(st.integers(1, 1000))
    return how, draw(st.integers(0, 10 ** 6)), draw(st.floats(0, 0.99))


def apply_npz(arrays: dict, defect, marker: Path) -> bytes:
    a = {k: v.copy() for k, v in arrays.items()}
    how = defect[0]
    if how == "remove":
        del a[defect[1]]
    elif how == "reshape":
        v = a[defect[1]]
        a[defect[1]] = [v.reshape(-1) if v.ndim == 2 else v[:, None], v[:-1] if len(v) > 1 else v[:0], v[..., None],
                        v.T if v.ndim == 2 and v.shape[0] != v.shape[1] else np.concatenate([v, v])][defect[2]]
    elif how == "dtype":
        v = a[defect[1]]
        if v.dtype == bool:
            a[defect[1]] = v.astype([np.int8, np.float32, np.int64, np.uint8][defect[2]])
        elif v.dtype.kind in "iu" and defect[2] < 2:
            a[defect[1]] = v.astype([np.float64, np.float32][defect[2]])
        else:
            a[defect[1]] = v.astype([np.complex128, np.complex64, "U4", "S8"][defect[2]])
    elif how == "non_finite":
        _, key, where, bad = defect
        if key == "ann_outputs" and key not in a:
            a[key] = a["outputs"].copy()
        a[key] = a[key].astype(np.float64)
        a[key].flat[where % a[key].size] = bad
    elif how == "counts":
        _, layer, where, k = defect
        c = a[f"layer{layer}_spike_counts"]
        c.flat[where % c.size] = -(1 + k % 100) if k % 2 else 11 + k % 100  # negative, or more spikes than steps
    elif how == "fan_out":
        _, layer, where, k = defect
        f = a[f"layer{layer}_fan_out"]
        f.flat[where % f.size] += k
    elif how == "mask":
        _, layer, where, _k = defect
        m = a[f"connection{1 + layer % 2}_mask"]
        m.flat[where % m.size] ^= True
    elif how == "zero_samples":
        for k, v in a.items():
            if not k.endswith(("_fan_out", "_mask")):
                a[k] = v[:0]
    elif how == "labels":
        a["labels"] = [np.zeros(len(a["inputs"]) + 1, np.int64), np.full(len(a["inputs"]), 0.5),
                       np.zeros((len(a["inputs"]), 2), np.int64)][defect[1] % 3]
    elif how == "pickled_code":
        evil = np.empty(2, dtype=object)
        evil[0] = CreatesMarker(marker)
        key = ["extra", "inputs", "labels", "layer1_spike_counts"][defect[1] % 4]
        a[key] = evil
    elif how == "bomb":
        return _bomb_npz(a)
    elif how == "not_zip":
        return bytes(np.random.default_rng(defect[1]).integers(0, 256, 200, dtype=np.uint8))
    if how == "cut":
        data = _npz(a)
        return data[:int(len(data) * defect[2])]
    return _npz(a)


def _npz(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays) if not any(v.dtype == object for v in arrays.values()) else \
        _savez_pickled(buf, arrays)
    return buf.getvalue()


def _savez_pickled(buf, arrays) -> None:
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in arrays.items():
            with zf.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, v, allow_pickle=True)


_BOMB: dict[str, bytes] = {}


def _bomb_npz(arrays: dict) -> bytes:
    """The record's arrays, layer 0's spike counts replaced by 1.1 GiB of zeros (about 1 MB compressed)."""
    if "zip" not in _BOMB:
        buf = io.BytesIO()
        n = int(1.1 * 2 ** 30) // 8
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            with zf.open("layer0_spike_counts.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array_header_1_0(f, {"descr": "<i8", "fortran_order": False, "shape": (n,)})
                chunk, left = bytes(2 ** 24), n * 8
                while left:
                    f.write(chunk[:min(left, len(chunk))])
                    left -= min(left, len(chunk))
        _BOMB["zip"] = buf.getvalue()
    merged = io.BytesIO(_BOMB["zip"])
    with zipfile.ZipFile(merged, "a") as zf:
        for k, v in arrays.items():
            if k != "layer0_spike_counts":
                buf = io.BytesIO()
                np.save(buf, v)
                zf.writestr(k + ".npy", buf.getvalue())
    return merged.getvalue()


@st.composite
def bad_records(draw, names):
    if draw(st.booleans()):
        return "json", draw(json_defects())
    return "npz", draw(npz_defects(names))


def check(case, seed_record) -> None:
    meta, arrays = seed_record
    part, defect = case
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        marker = d / "marker"
        stem = d / "act"
        stem.with_suffix(".json").write_bytes(apply_json(meta, defect) if part == "json" else
                                              json.dumps(meta).encode())
        stem.with_suffix(".npz").write_bytes(apply_npz(arrays, defect, marker) if part == "npz" else _npz(arrays))
        run = command(["report", str(stem), "--profile", "loihi2", "-o", str(d / "report.md")])
        expect_refusal("activity record (report)", run, watch=d, mentions="act.", error=RecordError, marker=marker)


NAMES = ["inputs", "outputs", "labels", "ann_outputs", "layer0_spike_counts", "layer1_spike_counts",
         "layer2_spike_counts", "layer0_fan_out", "layer1_fan_out", "layer2_fan_out", "connection1_mask",
         "connection2_mask"]


@given(case=bad_records(NAMES))
@fuzz_settings(QUICK)
def test_bad_records_quick(case, seed_record):
    check(case, seed_record)


@pytest.mark.slow
@given(case=bad_records(NAMES))
@fuzz_settings(FULL)
def test_bad_records_full(case, seed_record):
    check(case, seed_record)


def test_seed_record_is_valid_and_complete(seed_record, valid_files):
    """The seed has every array the defects name, and loads."""
    from neurosim.activity import load_record

    meta, arrays = seed_record
    assert set(NAMES) - {"labels", "ann_outputs"} <= set(arrays) and len(meta["layer_fields"]) == 3
    assert load_record(valid_files["record"]).num_samples == 4


def test_zip_bomb_member_is_refused_from_its_declared_size(seed_record, tmp_path):
    meta, arrays = seed_record
    (tmp_path / "act.json").write_text(json.dumps(meta))
    (tmp_path / "act.npz").write_bytes(_bomb_npz(arrays))
    assert (tmp_path / "act.npz").stat().st_size < 16 * 2 ** 20
    from neurosim.activity import load_record

    with pytest.raises(RecordError, match=r"act\.npz: member 'layer0_spike_counts\.npy' declares 1,181,116,"):
        load_record(tmp_path / "act")
