"""Fuzz ``neurosim convert CKPT -o NET.nir``: every malformed checkpoint ends in one NeurosimError.

Bad checkpoints: bytes that are not a checkpoint, valid files cut short, pickles whose loading
would create a marker file, and a valid sparse (gated, pruned, calibrated) checkpoint with one
defect: a key removed, a tensor flattened, transposed, reshaped, of a complex/int/bool dtype,
holding NaN or infinity or expanded by zero strides to up to 40,000 x 50,000; a wrong
format_version; config values of the wrong type, NaN or inconsistent with the weights; masks of
the wrong shape or dtype; calibration statistics NaN, negative, unordered or of the wrong length;
non-string keys; nesting 65 to 500 levels deep; over 20,000 items. Plain state dicts of Linear layers get
the same kinds of defects. Nothing may be written beside NET.nir.
"""
from __future__ import annotations

import copy
import io
import pickle
import tempfile
from pathlib import Path

import pytest
import torch
from fuzzing import FULL, QUICK, command, expect_refusal, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from malicious import CreatesMarker

from neurosim.errors import CheckpointError, ConversionError, NeurosimError

TENSORS = ("encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias", "gate.threshold")


@pytest.fixture(scope="module")
def payload(valid_files):
    return torch.load(valid_files["checkpoint"], weights_only=True)


tensor_defects = st.one_of(
    st.tuples(st.sampled_from(["flatten", "transpose", "complex", "bool", "expanded", "empty"])),
    st.tuples(st.just("extra_dim"), st.integers(0, 2)),
    st.tuples(st.just("drop_rows"), st.integers(1, 64)),
    st.tuples(st.just("int"), st.sampled_from([torch.int64, torch.int32, torch.uint8])),
    st.tuples(st.just("non_finite"), st.integers(0, 10 ** 6), st.sampled_from([float("nan"), float("inf"),
                                                                               float("-inf")])),
    st.tuples(st.just("expanded_huge"), st.integers(1000, 40_000), st.integers(1000, 50_000)),
    st.tuples(st.just("not_tensor"), st.sampled_from([None, "weights", 3.5, [1.0, 2.0], {"w": 1}])),
)


def bad_tensor(t: torch.Tensor, defect: tuple) -> object:
    """A replacement for tensor ``t`` that no loader may accept in its place."""
    how = defect[0]
    if how == "flatten":
        return t.reshape(-1) if t.ndim == 2 else t.reshape(1, -1)
    if how == "transpose":
        return t.T.contiguous() if t.ndim == 2 else t[:, None].contiguous()
    if how == "extra_dim":
        return t.unsqueeze(min(defect[1], t.ndim)).contiguous()
    if how == "drop_rows":
        return t[:-min(defect[1], t.shape[0])].contiguous()
    if how == "complex":
        return t.to(torch.complex64)
    if how == "int":
        return t.to(defect[1])
    if how == "bool":
        return t != 0
    if how == "non_finite":
        out = t.clone()
        out.view(-1)[defect[1] % t.numel()] = defect[2]
        return out
    if how == "expanded":  # the right shape, one stored value: a zero-strided view
        return torch.zeros(1, dtype=t.dtype).expand(*t.shape)
    if how == "expanded_huge":
        return torch.zeros(1).expand(defect[1], defect[2])
    if how == "not_tensor":
        return defect[1]
    return torch.zeros((0,) * t.ndim)


@st.composite
def bad_checkpoints(draw):
    """``(kind, make)``: ``make(payload, marker)`` returns the bytes of one bad checkpoint."""
    kind = draw(st.sampled_from(["bytes", "cut", "pickled_code", "tensor", "remove", "format_version", "config",
                                 "mask", "calibration", "keys", "nesting", "items", "plain"]))
    if kind == "bytes":
        data = draw(st.binary(max_size=400))
        return kind, lambda p, marker: data
    if kind == "cut":
        frac = draw(st.floats(0, 0.999))
        return kind, lambda p, marker: (lambda b: b[:int(len(b) * frac)])(save(p))
    if kind == "pickled_code":
        where = draw(st.sampled_from(["top", "state_dict", "config", "plain_pickle", "calibration"]))

        def make(p, marker):
            evil = CreatesMarker(marker)
            if where == "plain_pickle":
                return pickle.dumps({"state_dict": evil})
            q = copy.deepcopy(p)
            {"top": q, "state_dict": q["state_dict"], "config": q["config"],
             "calibration": q["calibration"]}[where]["evil"] = evil
            return save(q)
        return kind, make
    if kind == "tensor":
        key = draw(st.sampled_from(TENSORS))
        defect = draw(tensor_defects)

        def make(p, marker):
            q = copy.deepcopy(p)
            q["state_dict"][key] = bad_tensor(q["state_dict"][key], defect)
            return save(q)
        return kind, make
    if kind == "remove":
        path = draw(st.sampled_from([("format_version",), ("config",), ("state_dict",), ("config", "gate"),
                                     ("calibration", "percentiles"), ("calibration", "hidden")]
                                    + [("state_dict", k) for k in TENSORS]))

        def make(p, marker):
            q = copy.deepcopy(p)
            if path == ("config", "gate"):  # a gated checkpoint that says it has no gate... keeps θ: refused
                q["config"]["gate"] = "something"
            else:
                parent = q
                for part in path[:-1]:
                    parent = parent[part]
                del parent[path[-1]]
            return save(q)
        return kind, make
    if kind == "format_version":
        value = draw(st.sampled_from([0, 2, 99, "1", 1.0, True, None, [1]]))
        return kind, lambda p, marker: save({**p, "format_version": value})
    if kind == "config":
        key = draw(st.sampled_from(["input_dim", "hidden", "gate", "output_activation", "image_shape",
                                    "weight_sparsity", "seed", "extra"]))
        value = draw({
            "input_dim": st.sampled_from([-1, 0, 63, 65, 784, "64", 64.0, True, None]),
            "hidden": st.sampled_from([-3, 0, 15, 17, "16", 16.5, False]),
            "gate": st.sampled_from(["kwta", 1, ["threshold"], "THRESHOLD"]),
            "output_activation": st.sampled_from(["softmax", "", 3, None.__class__.__name__, "relu6"]),
            "image_shape": st.sampled_from([[8], [8, 9], [0, 64], [-8, -8], "8x8", [8.0, 8.0], [4, 4, 4]]),
            "weight_sparsity": st.sampled_from([-0.1, 1.5, float("nan"), "0.9", float("inf")]),
            "seed": st.sampled_from([-1, "zero", 1.5, float("nan")]),
            "extra": st.sampled_from([float("nan"), float("inf"), torch.zeros(2), b"bytes", {1, 2}, complex(1, 2)]),
        }[key])
        if key == "output_activation" and value == "NoneType":
            value = 7
        return kind, lambda p, marker: save({**p, "config": {**p["config"], key: value}})
    if kind == "mask":
        how = draw(st.sampled_from(["shape", "dtype", "unknown", "not_dict", "not_tensor"]))

        def make(p, marker):
            q = copy.deepcopy(p)
            m = q["masks"]
            if how == "shape":
                m["encoder.weight"] = m["encoder.weight"].T.contiguous()
            elif how == "dtype":
                m["decoder.weight"] = m["decoder.weight"].to(torch.float32)
            elif how == "unknown":
                m["encoder.bias"] = torch.ones(q["state_dict"]["encoder.bias"].shape, dtype=torch.bool)
            elif how == "not_dict":
                q["masks"] = [m["encoder.weight"]]
            else:
                m["encoder.weight"] = "all"
            return save(q)
        return kind, make
    if kind == "calibration":
        key = draw(st.sampled_from(["percentiles", "hidden", "input", "num_samples", "whole"]))
        how = draw(st.sampled_from(["nan", "negative", "reversed", "length", "complex", "string", "range"]))
        index = draw(st.integers(0, 5))

        def make(p, marker):
            q = copy.deepcopy(p)
            cal = q["calibration"]
            if key == "whole":
                q["calibration"] = {"nan": [float("nan")], "negative": -1.0, "reversed": [1, 2], "length": (),
                                    "complex": torch.zeros(2, dtype=torch.complex64), "string": "p99",
                                    "range": 42}[how]
                return save(q)
            if key == "num_samples":
                cal[key] = {"nan": float("nan"), "negative": -5, "reversed": "300", "length": [300],
                            "complex": complex(3, 0), "string": "many", "range": True}[how]
                return save(q)
            v = cal[key].clone()
            if how == "nan":
                v[index] = float("nan")
            elif how == "negative":
                v[index] = -abs(float(v[index])) - 1.0
            elif how == "reversed":
                v = v.flip(0)
            elif how == "length":
                v = v[:index] if index < 5 else torch.cat([v, v[-1:]])
            elif how == "complex":
                v = v.to(torch.complex128)
            elif how == "string":
                v = ["50", "90"]
            else:  # out of range: percentiles above 100, statistics infinite
                v[index] = 1e3 if key == "percentiles" else float("inf")
            cal[key] = v
            return save(q)
        return kind, make
    if kind == "keys":
        where = draw(st.sampled_from(["state_dict", "config", "top", "masks"]))
        key = draw(st.sampled_from([0, 1.5, None, ("a", "b"), b"encoder.weight"]))

        def make(p, marker):
            q = copy.deepcopy(p)
            target = q if where == "top" else q[where]
            target[key] = torch.zeros(1)
            return save(q)
        return kind, make
    if kind == "nesting":
        depth = draw(st.integers(65, 500))

        def make(p, marker):
            nested: object = 1
            for _ in range(depth):
                nested = [nested]
            return save({**p, "config": {**p["config"], "deep": nested}})
        return kind, make
    if kind == "items":
        n = draw(st.integers(20_001, 30_000))
        return kind, lambda p, marker: save({**p, "config": {**p["config"], "many": list(range(n))}})
    # a plain state dict of Linear layers with one defect
    defect = draw(st.sampled_from(["one_layer", "weight_1d", "weight_3d", "bias", "chain", "batchnorm",
                                   "non_finite", "complex", "empty", "nothing"]))
    seed = draw(st.integers(0, 2 ** 16))
    return "plain", lambda p, marker: save(plain_state_dict(defect, seed))


def plain_state_dict(defect: str, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    sd = {"0.weight": torch.randn(16, 64, generator=g), "0.bias": torch.randn(16, generator=g),
          "2.weight": torch.randn(64, 16, generator=g), "2.bias": torch.randn(64, generator=g)}
    if defect == "one_layer":
        del sd["2.weight"], sd["2.bias"]
    elif defect == "weight_1d":
        sd["0.weight"] = sd["0.weight"].reshape(-1)
    elif defect == "weight_3d":
        sd["2.weight"] = sd["2.weight"].reshape(64, 4, 4)
    elif defect == "bias":
        sd["0.bias"] = torch.zeros(17)
    elif defect == "chain":
        sd["2.weight"] = torch.randn(64, 15, generator=g)
    elif defect == "batchnorm":
        sd["1.running_mean"] = torch.zeros(16)
        sd["1.weight"] = torch.ones(16)
    elif defect == "non_finite":
        sd["2.bias"][3] = float("nan")
    elif defect == "complex":
        sd["0.weight"] = sd["0.weight"].to(torch.complex64)
    elif defect == "empty":
        sd = {"0.weight": torch.zeros(0, 64), "2.weight": torch.zeros(64, 0)}
    else:
        sd = {}
    return sd


def save(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def check(case, payload) -> None:
    kind, make = case
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        marker = d / "marker"
        path = d / "model.pt"
        path.write_bytes(make(payload, marker))
        run = command(["convert", str(path), "-o", str(d / "net.nir")])
        expect_refusal("checkpoint (convert)", run, watch=d, mentions="model.pt", marker=marker,
                       error=(CheckpointError, ConversionError) if kind != "plain" else NeurosimError)


@given(case=bad_checkpoints())
@fuzz_settings(QUICK)
def test_bad_checkpoints_quick(case, payload):
    check(case, payload)


@pytest.mark.slow
@given(case=bad_checkpoints())
@fuzz_settings(FULL)
def test_bad_checkpoints_full(case, payload):
    check(case, payload)


def test_zero_strided_tensor_is_refused_cheaply(payload, tmp_path):
    """A 15 KB file declaring a 40,000 x 50,000 weight: refused from its shape, without allocating it."""
    import resource

    path = tmp_path / "expanded.pt"
    q = copy.deepcopy(payload)
    q["state_dict"]["encoder.weight"] = torch.zeros(1).expand(40_000, 50_000)
    torch.save(q, path)
    assert path.stat().st_size < 64 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=r"expanded\.pt: tensor 'state_dict\.encoder\.weight' declares shape "
                                              r"\(40000, 50000\)"):
        command(["convert", str(path), "-o", str(tmp_path / "net.nir")])()
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 64 * 2 ** 20


def test_malicious_checkpoint_would_run_but_never_does(payload, tmp_path):
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(CreatesMarker(marker)))
    assert marker.exists()  # the payload is live
    marker.unlink()
    path = tmp_path / "evil.pt"
    torch.save({**payload, "evil": CreatesMarker(marker)}, path)
    with pytest.raises(CheckpointError, match=r"evil\.pt: refused by torch.load\(weights_only=True\)"):
        command(["convert", str(path), "-o", str(tmp_path / "net.nir")])()
    assert not marker.exists()


@pytest.mark.parametrize("how", ["nan", "negative"])
def test_bad_calibration_statistics_are_named(payload, tmp_path, how):
    q = copy.deepcopy(payload)
    q["calibration"]["hidden"][2] = float("nan") if how == "nan" else -0.5
    torch.save(q, tmp_path / "cal.pt")
    expected = "contains NaN" if how == "nan" else "must be non-negative and non-decreasing"
    with pytest.raises(CheckpointError, match=rf"cal\.pt: calibration\.hidden {expected}"):
        command(["convert", str(tmp_path / "cal.pt"), "-o", str(tmp_path / "net.nir")])()
    assert not (tmp_path / "net.nir").exists() and not (tmp_path / "net.json").exists()
