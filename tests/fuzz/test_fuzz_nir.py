"""Fuzz ``neurosim simulate NET.nir``: every malformed NIR (HDF5) file ends in one NeurosimError.

A valid neurosim NIR file (Input -> Affine -> IF -> Affine -> I readout -> Output) gets one
defect, written with h5py: a dataset or group missing; an extra dataset or node; a dataset of
the wrong type (complex, strings, records, a number where a string is meant); a dataset of the
wrong shape; an input/output shape that is NaN, negative, zero, 10^12 or 2-D; NaN or infinite
weights, biases, thresholds or resets; a dataset declaring 2^27 values with nothing stored (an
HDF5 bomb); soft and external links; metadata JSON that is invalid, 100,000 levels deep, or has
fields of the wrong type or out of range (``dt_s = "abc"``, ``1e300``, NaN, negative; unknown
encodings, resets, kinds, activations); files that are not HDF5 or are cut short. Nothing may be
written and the simulation must not start.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from fuzzing import FULL, QUICK, command, expect_refusal, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from neurosim.errors import NeurosimError

NODES = "node/nodes"
NUMERIC = ["hidden_synapses/weight", "hidden_synapses/bias", "hidden/r", "hidden/v_threshold", "hidden/v_reset",
           "output_synapses/weight", "output_synapses/bias", "output/r", "input/shape"]
STRINGS = ["hidden/type", "input/type", "output/type", "hidden_synapses/type", "hidden/metadata/neurosim",
           "input/metadata/neurosim", "output/metadata/neurosim"]
NODE_NAMES = ["input", "hidden_synapses", "hidden", "output_synapses", "output"]


def _graph_meta_defects():
    return st.sampled_from([
        ("dt_s", "abc"), ("dt_s", float("nan")), ("dt_s", 1e300), ("dt_s", -1e-3), ("dt_s", 0), ("dt_s", 1e-12),
        ("dt_s", 5.0), ("dt_s", True), ("dt_s", [1e-3]), ("format_version", "1"), ("format_version", 2),
        ("format_version", 1.5), ("format", "other.nir"), ("format", 7), ("layers", "input,hidden"),
        ("layers", ["input", "hidden", "elsewhere"]), ("layers", [1, 2, 3]), ("metadata", [1, 2]),
        ("readout", "mean"), ("strict", "yes")])


def _node_meta_defects():
    return st.sampled_from([
        ("input", "encoding", "morse"), ("input", "encoding", 3), ("input", "v_init", "half"),
        ("input", "payload_step", -1.0), ("input", "payload_step", "tiny"), ("input", "v_init", float("nan")),
        ("hidden", "reset", "bounce"), ("hidden", "reset", None), ("hidden", "v_init", [0.5, "a"]),
        ("hidden", "v_init", float("inf")), ("hidden", "kind", "lif"), ("hidden", "kind", 5),
        ("output", "kind", "softmax"), ("output", "activation", "tanh2"), ("output", "decode", "median"),
        ("output", "scale", "x"), ("output", "scale", float("nan")), ("output", "activation", 1)])


@st.composite
def bad_nir(draw):
    """``(kind, edit)``: ``edit(path)`` damages the copy of a valid file at ``path``."""
    kind = draw(st.sampled_from(["missing", "extra", "mistyped", "misshaped", "shape_value", "non_finite", "bomb",
                                 "link", "graph_meta", "node_meta", "meta_text", "not_hdf5", "cut"]))
    if kind == "missing":
        # not hidden/v_reset (unused under subtractive reset, optional in NIR's IF) nor the graph metadata (the
        # file then reads as a plain NIR graph whose nodes still say everything): neither leaves a bad file
        target = draw(st.sampled_from([f"{NODES}/{d}" for d in NUMERIC + STRINGS if d != "hidden/v_reset"]
                                      + [f"{NODES}/{n}" for n in NODE_NAMES] + ["node/edges", "node/nodes"]))

        def edit(path):
            with h5py.File(path, "r+") as f:
                del f[target]
        return kind, edit
    if kind == "extra":
        where = draw(st.sampled_from(NODE_NAMES))
        value = draw(st.sampled_from([np.zeros(3), np.float64(1.0), b"text"]))
        extra_node = draw(st.booleans())

        def edit(path):
            with h5py.File(path, "r+") as f:
                if extra_node:  # a node off the chain
                    g = f.create_group(f"{NODES}/stray")
                    g["type"] = b"Scale"
                    g["scale"] = np.ones(3)
                else:
                    f[f"{NODES}/{where}/unexpected"] = value
        return kind, edit
    if kind == "mistyped":
        target = draw(st.sampled_from(NUMERIC + STRINGS))
        value = draw(st.sampled_from(["complex", "string", "record", "number", "vlen"]))

        def edit(path):
            with h5py.File(path, "r+") as f:
                old = f[f"{NODES}/{target}"]
                shape = old.shape
                del f[f"{NODES}/{target}"]
                name = f"{NODES}/{target}"
                if value == "complex":
                    f.create_dataset(name, data=np.ones(shape or (), dtype=np.complex128))
                elif value == "string" or (value == "number" and target in NUMERIC):
                    f[name] = "not numbers" if not shape else np.array([b"x"] * int(np.prod(shape))).reshape(shape)
                elif value == "record":
                    f.create_dataset(name, data=np.zeros(shape or (), dtype=[("a", "<f8"), ("b", "<i4")]))
                elif value == "number":  # a number where a type name or JSON string is meant
                    f[name] = np.float64(3.0)
                else:
                    dt = h5py.vlen_dtype(np.float64)
                    ds = f.create_dataset(name, (max(int(np.prod(shape or (1,))), 1),), dtype=dt)
                    ds[0] = np.arange(3.0)
        return kind, edit
    if kind == "misshaped":
        target = draw(st.sampled_from(NUMERIC[:-1]))
        how = draw(st.sampled_from(["transpose", "extra_dim", "shorter", "longer", "scalar_weight"]))

        def edit(path):
            with h5py.File(path, "r+") as f:
                name = f"{NODES}/{target}"
                v = f[name][()]
                del f[name]
                if how == "transpose" and v.ndim == 2:
                    v = v.T
                elif how in ("extra_dim", "transpose"):  # a 4-D weight; a parameter of 2 x n values
                    v = v[None, None] if v.ndim == 2 else np.stack([v, v])
                elif how == "shorter":
                    v = v[:-1] if len(v) > 2 else v[:0]
                elif how == "longer":
                    v = np.concatenate([v, v[:3]])
                else:
                    v = np.float64(0.5) if v.ndim == 2 else v.reshape(1, -1).repeat(2, axis=0)
                f[name] = v
        return kind, edit
    if kind == "shape_value":
        where = draw(st.sampled_from(["input/shape", "nir_output/shape"]))
        value = draw(st.sampled_from([[np.nan], [-64], [0], [10 ** 12], [[8, 8]], [64.5], [np.inf], [3],
                                      [2 ** 40, 2 ** 40]] + ([[]] if where == "input/shape" else [])))
        # (an Output node may leave its shape unstated, as other tools' graphs do: not a defect)

        def edit(path):
            with h5py.File(path, "r+") as f:
                del f[f"{NODES}/{where}"]
                f[f"{NODES}/{where}"] = np.array(value)
        return kind, edit
    if kind == "non_finite":
        target = draw(st.sampled_from(NUMERIC[:-1]))
        bad = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        where = draw(st.integers(0, 10 ** 6))

        def edit(path):
            with h5py.File(path, "r+") as f:
                v = f[f"{NODES}/{target}"][()].astype(np.float64)
                v.flat[where % v.size] = bad
                del f[f"{NODES}/{target}"]
                f[f"{NODES}/{target}"] = v
        return kind, edit
    if kind == "bomb":
        target = draw(st.sampled_from(NUMERIC[:-1]))
        shape = draw(st.sampled_from([(2 ** 27,), (2 ** 14, 2 ** 13), (10 ** 5, 10 ** 4), (2 ** 24,)]))

        def edit(path):
            with h5py.File(path, "r+") as f:
                del f[f"{NODES}/{target}"]
                f.create_dataset(f"{NODES}/{target}", shape=shape, dtype="f8", chunks=True, compression="gzip")
        return kind, edit
    if kind == "link":
        target = draw(st.sampled_from(NUMERIC + STRINGS))
        soft = draw(st.booleans())

        def edit(path):
            with h5py.File(path, "r+") as f:
                del f[f"{NODES}/{target}"]
                f[f"{NODES}/{target}"] = h5py.SoftLink("/version") if soft else \
                    h5py.ExternalLink("/etc/passwd", "/data")
        return kind, edit
    if kind == "graph_meta":
        key, value = draw(_graph_meta_defects())

        def edit(path):
            _set_meta(path, "node/metadata/neurosim", {key: value})
        return kind, edit
    if kind == "node_meta":
        node, key, value = draw(_node_meta_defects())

        def edit(path):
            _set_meta(path, f"{NODES}/{node}/metadata/neurosim", {key: value})
        return kind, edit
    if kind == "meta_text":
        where = draw(st.sampled_from(["node/metadata/neurosim", f"{NODES}/hidden/metadata/neurosim",
                                      f"{NODES}/input/metadata/neurosim"]))
        text = draw(st.sampled_from(["{", "[1, 2]", "not json", "[" * 100_000 + "]" * 100_000,
                                     '{"dt_s": NaN}', '{"dt_s": 1e400}', '{"v_init": Infinity}', "\udcff"]))

        def edit(path):
            with h5py.File(path, "r+") as f:
                del f[where]
                f[where] = text.encode("utf-8", "surrogateescape")
        return kind, edit
    if kind == "not_hdf5":
        data = draw(st.binary(max_size=600))
        return kind, lambda path: path.write_bytes(data)
    frac = draw(st.floats(0.0, 0.95))
    return kind, lambda path: path.write_bytes(path.read_bytes()[:int(path.stat().st_size * frac)])


def _set_meta(path: Path, where: str, changes: dict) -> None:
    with h5py.File(path, "r+") as f:
        raw = f[where][()]
        meta = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        meta.update(changes)
        del f[where]
        f[where] = json.dumps(meta, allow_nan=True)


def check(case, valid_files) -> None:
    kind, edit = case
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        path = d / "net.nir"
        shutil.copy(valid_files["nir"], path)
        edit(path)
        run = command(["simulate", str(path), "-o", str(d / "act"), "--samples", "2", "-T", "6"])
        expect_refusal("NIR file (simulate)", run, watch=d, mentions="net.nir", error=NeurosimError)


@given(case=bad_nir())
@fuzz_settings(QUICK)
def test_bad_nir_quick(case, valid_files):
    check(case, valid_files)


@pytest.mark.slow
@given(case=bad_nir())
@fuzz_settings(FULL)
def test_bad_nir_full(case, valid_files):
    check(case, valid_files)


def test_seed_file_layout(valid_files, tmp_path):
    """The datasets the defects name exist in the seed, and the seed simulates."""
    with h5py.File(valid_files["nir"]) as f:
        for d in NUMERIC + STRINGS:
            assert f"{NODES}/{d}" in f, d
    command(["simulate", str(valid_files["nir"]), "-o", str(tmp_path / "act"), "--samples", "2", "-T", "6"])()
    assert (tmp_path / "act.npz").is_file()


@pytest.mark.parametrize("value, problem", [("abc", "dt_s must be a number"), (1e300, "between 1e-09 and 1 seconds"),
                                            (float("nan"), "not valid JSON")])
def test_bad_time_step_is_named(valid_files, tmp_path, value, problem):
    path = tmp_path / "net.nir"
    shutil.copy(valid_files["nir"], path)
    _set_meta(path, "node/metadata/neurosim", {"dt_s": value})
    with pytest.raises(NeurosimError, match=rf"net\.nir: .*{problem}"):
        command(["simulate", str(path), "-o", str(tmp_path / "act")])()


def test_complex_weights_are_refused(valid_files, tmp_path):
    path = tmp_path / "net.nir"
    shutil.copy(valid_files["nir"], path)
    with h5py.File(path, "r+") as f:
        w = f[f"{NODES}/hidden_synapses/weight"][()]
        del f[f"{NODES}/hidden_synapses/weight"]
        f[f"{NODES}/hidden_synapses/weight"] = w + 1j
    with pytest.raises(NeurosimError, match=r"net\.nir: dataset 'node/nodes/hidden_synapses/weight' has dtype "
                                            r"complex128; expected real numbers"):
        command(["simulate", str(path), "-o", str(tmp_path / "act")])()
