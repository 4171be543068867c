"""Fuzz ``neurosim simulate NET --inputs X.npy``: every malformed sample file ends in one ValidationError.

The network takes 64 inputs. Bad files: bytes that are not ``.npy``, an ``.npz`` under an
``.npy`` name, headers declaring more data than the file holds (up to 10^12 x 64), truncated
or padded data, wrong dtypes (complex, bool, strings, records, pickled objects that would run
code), wrong shapes, zero samples and non-finite values.
"""
from __future__ import annotations

import io
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
from fuzzing import FULL, QUICK, command, expect_refusal, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from malicious import CreatesMarker

from neurosim.errors import ValidationError

WIDTH = 64


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def header(shape, descr: str = "<f8", fortran: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return buf.getvalue()


rows = st.integers(1, 6)
floats = st.floats(-1e3, 1e3, allow_nan=False)


@st.composite
def bad_inputs(draw):
    """``(kind, make)``: ``make(marker)`` returns the bytes of one bad input file."""
    kind = draw(st.sampled_from(["not_npy", "empty", "npz", "huge_header", "size_mismatch", "dtype",
                                 "pickled_code", "shape", "non_finite", "broken_header"]))
    n = draw(rows)
    if kind == "not_npy":
        data = draw(st.binary(min_size=1, max_size=300).filter(lambda b: not b.startswith(b"\x93NUMPY")))
        return kind, lambda marker: data
    if kind == "empty":
        return kind, lambda marker: b""
    if kind == "npz":
        arr = np.full((n, WIDTH), draw(floats))

        def make(marker):
            buf = io.BytesIO()
            np.savez(buf, x=arr)
            return buf.getvalue()
        return kind, make
    if kind == "huge_header":
        big = draw(st.integers(10 ** 6, 10 ** 12))
        tail = draw(st.binary(max_size=64))
        return kind, lambda marker: header((big, WIDTH)) + tail
    if kind == "size_mismatch":
        delta = draw(st.integers(-8 * WIDTH * n, 64).filter(lambda k: k != 0))
        body = npy_bytes(np.zeros((n, WIDTH)))
        return kind, lambda marker: body[:len(body) + delta] if delta < 0 else body + b"\0" * delta
    if kind == "dtype":
        dtype = draw(st.sampled_from(["complex128", "complex64", "bool", "U3", "S4", "datetime64[s]",
                                      "timedelta64[s]", [("a", "<f8"), ("b", "<i4")], "(2,)f8"]))
        arr = np.zeros((n, WIDTH), dtype=np.dtype(dtype))
        return kind, lambda marker: npy_bytes(arr)
    if kind == "pickled_code":
        where = draw(st.integers(0, n * WIDTH - 1))

        def make(marker):
            arr = np.empty((n, WIDTH), dtype=object)
            arr[:] = 0.5
            arr.flat[where] = CreatesMarker(marker)
            return npy_bytes(arr)
        return kind, make
    if kind == "shape":
        shape = draw(st.one_of(
            st.just(()),
            st.tuples(st.integers(0, 200)),
            st.tuples(st.just(0), st.just(WIDTH)),
            st.tuples(rows, st.integers(1, 200).filter(lambda w: w != WIDTH)),
            st.tuples(rows, st.integers(1, 4), st.integers(1, 4))))
        value = draw(floats)
        return kind, lambda marker: npy_bytes(np.full(shape, value))
    if kind == "non_finite":
        bad = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        where = draw(st.integers(0, n * WIDTH - 1))
        dtype = draw(st.sampled_from(["f8", "f4", "f2"]))
        arr = np.zeros((n, WIDTH), dtype=dtype)
        arr.flat[where] = bad
        return kind, lambda marker: npy_bytes(arr)
    # broken_header: a header cut short, an impossible header length, or a version numpy does not know
    body = npy_bytes(np.zeros((n, WIDTH)))
    how = draw(st.sampled_from(["cut", "length", "version", "literal"]))
    if how == "cut":
        cut = draw(st.integers(6, 100))
        return kind, lambda marker: body[:cut]
    if how == "length":
        length = draw(st.integers(0, 65535).filter(lambda k: k != int.from_bytes(body[8:10], "little")))
        return kind, lambda marker: body[:8] + length.to_bytes(2, "little") + body[10:]
    if how == "version":
        major = draw(st.integers(4, 255))
        return kind, lambda marker: body[:6] + bytes([major]) + body[7:]
    text = draw(st.sampled_from(["{'descr': '<f8', 'fortran_order': False}",
                                 "{'descr': '<f8', 'fortran_order': False, 'shape': (-3, 64)}",
                                 "{'descr': 'nonsense', 'fortran_order': False, 'shape': (1, 64)}",
                                 "{'descr': '<f8', 'fortran_order': 'x', 'shape': (1, 64)}",
                                 "[" * 5000 + "]" * 5000,
                                 "__import__('os').system('touch /nonexistent')"]))
    raw = text.encode().ljust(118) + b"\n"
    return kind, lambda marker: b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw + b"\0" * 64


def check(case, valid_files) -> None:
    kind, make = case
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        marker = d / "marker"
        path = d / "x.npy"
        path.write_bytes(make(marker))
        run = command(["simulate", str(valid_files["nir"]), "--inputs", str(path), "-o", str(d / "act")])
        expect_refusal("inputs (--inputs X.npy)", run, watch=d, mentions="x.npy", error=ValidationError,
                       marker=marker)


@given(case=bad_inputs())
@fuzz_settings(QUICK)
def test_bad_inputs_quick(case, valid_files):
    check(case, valid_files)


@pytest.mark.slow
@given(case=bad_inputs())
@fuzz_settings(FULL)
def test_bad_inputs_full(case, valid_files):
    check(case, valid_files)


def test_malicious_object_array_never_runs(valid_files, tmp_path):
    """The pickle really would create the marker if unpickled (the test above is meaningful)."""
    marker = tmp_path / "marker"
    arr = np.empty((1, WIDTH), dtype=object)
    arr[0, 0] = CreatesMarker(marker)
    pickle.loads(pickle.dumps(arr))
    assert marker.exists()
    marker.unlink()
    path = tmp_path / "x.npy"
    path.write_bytes(npy_bytes(arr))
    with pytest.raises(ValidationError, match=r"x\.npy: dtype object holds Python objects"):
        command(["simulate", str(valid_files["nir"]), "--inputs", str(path), "-o", str(tmp_path / "a")])()
    assert not marker.exists()


def test_good_inputs_still_simulate(valid_files, tmp_path):
    x = np.random.default_rng(0).random((3, WIDTH)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    command(["simulate", str(valid_files["nir"]), "--inputs", str(tmp_path / "x.npy"), "-o", str(tmp_path / "a"),
             "-T", "8"])()
    assert (tmp_path / "a.json").is_file() and (tmp_path / "a.npz").is_file()


def test_caps_follow_the_environment(valid_files, tmp_path, monkeypatch):
    """NEUROSIM_MAX_ARRAY_ELEMENTS lowers the cap at run time; a value that is not a positive number is ignored."""
    np.save(tmp_path / "x.npy", np.zeros((20, WIDTH)))  # 1,280 values; the network's largest array has 1,024
    run = command(["simulate", str(valid_files["nir"]), "--inputs", str(tmp_path / "x.npy"), "-o", str(tmp_path / "a"),
                   "-T", "4"])
    monkeypatch.setenv("NEUROSIM_MAX_ARRAY_ELEMENTS", "1024")
    with pytest.raises(ValidationError, match=r"x\.npy: declared shape \(20, 64\) exceeds the cap of 1,024 elements"):
        run()
    for ignored in ("-5", "lots", "0"):
        monkeypatch.setenv("NEUROSIM_MAX_ARRAY_ELEMENTS", ignored)
        run()
        assert (tmp_path / "a.npz").is_file()
        (tmp_path / "a.npz").unlink()
