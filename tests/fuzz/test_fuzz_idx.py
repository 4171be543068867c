"""Fuzz the MNIST IDX loader: every malformed folder ends in one DataError naming the file or folder.

A valid folder (t10k images and labels, optionally train-* too, each raw or gzipped) gets one
defect: a file truncated or padded, a wrong magic number or data type, dimensions that do not
match the data (up to 2^32 - 1 each), a label above 9, counts that differ between images and
labels, train and test images of different sizes, a split left empty, a missing file, a cut or
corrupted gzip stream, or a gzip bomb (tens of KB inflating to tens of MB).
"""
from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from fuzzing import FULL, QUICK, expect_refusal, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from neurosim.data import load_dataset
from neurosim.errors import DataError

FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def idx(values: np.ndarray, magic: int | None = None, dims: tuple[int, ...] | None = None) -> bytes:
    dims = values.shape if dims is None else dims
    magic = (0x0800 | len(dims)) if magic is None else magic
    head = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in dims)
    return head + values.astype(np.uint8).tobytes()


@st.composite
def bad_folders(draw):
    """``(files, split)``: the bytes of each file (name -> bytes) and the split to load."""
    with_train = draw(st.booleans())
    n = draw(st.integers(1, 12))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    images = {"t10k": rng.integers(0, 256, (n, h, w)), "train": rng.integers(0, 256, (n + 3, h, w))}
    labels = {"t10k": rng.integers(0, 10, n), "train": rng.integers(0, 10, n + 3)}
    files = {f"{p}-images-idx3-ubyte": idx(images[p]) for p in ("t10k", "train")}
    files.update({f"{p}-labels-idx1-ubyte": idx(labels[p]) for p in ("t10k", "train")})
    if not with_train:
        del files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"]
    # splits that read the defective file: t10k-only folders read t10k for every split
    defect = draw(st.sampled_from(["truncate", "pad", "magic", "dtype", "dims", "huge_dims", "label", "count",
                                   "sizes", "empty_split", "missing", "zero", "gzip_cut", "gzip_trailer",
                                   "gzip_bomb"]))
    target = draw(st.sampled_from(sorted(files)))
    prefix = target.split("-")[0]
    split = draw(st.sampled_from(["train", "all"] if prefix == "train" else
                                 (["test", "all"] if with_train else ["train", "test", "all"])))
    magic = 2051 if "images" in target else 2049
    body = files[target]
    if defect == "truncate":
        files[target] = body[:draw(st.integers(0, len(body) - 1))]
    elif defect == "pad":
        files[target] = body + draw(st.binary(min_size=1, max_size=100))
    elif defect == "magic":
        files[target] = draw(st.integers(0, 2 ** 32 - 1).filter(lambda m: m != magic)).to_bytes(4, "big") + body[4:]
    elif defect == "dtype":
        files[target] = body[:2] + bytes([draw(st.integers(0, 255).filter(lambda t: t != 8))]) + body[3:]
    elif defect in ("dims", "huge_dims"):
        ndim = 3 if "images" in target else 1
        hi = 2 ** 32 - 1 if defect == "huge_dims" else 64
        dims = tuple(draw(st.lists(st.integers(0, hi), min_size=ndim, max_size=ndim)))
        have = len(body) - 4 - 4 * ndim
        if int(np.prod(dims, dtype=object)) == have:
            dims = (dims[0] + 1,) + dims[1:]
        files[target] = body[:4] + b"".join(d.to_bytes(4, "big") for d in dims) + body[4 + 4 * ndim:]
    elif defect == "label":
        lbl = f"{prefix}-labels-idx1-ubyte"
        values = labels[prefix].copy()
        values[draw(st.integers(0, len(values) - 1))] = draw(st.integers(10, 255))
        files[lbl] = idx(values)
    elif defect == "count":
        lbl = f"{prefix}-labels-idx1-ubyte"
        extra = draw(st.integers(-len(labels[prefix]), 5).filter(lambda k: k != 0))
        values = labels[prefix][:extra] if extra < 0 else np.concatenate([labels[prefix], np.zeros(extra, int)])
        files[lbl] = idx(values)
    elif defect == "sizes":  # train and test images of different sizes, read together
        files["train-images-idx3-ubyte"] = idx(rng.integers(0, 256, (n + 3, h + draw(st.integers(1, 3)), w)))
        files["train-labels-idx1-ubyte"] = idx(labels["train"])
        split = "all"
    elif defect == "empty_split":  # t10k only, fewer images than the 8,000 the train part takes
        files = {k: v for k, v in files.items() if k.startswith("t10k")}
        split = "test"
    elif defect == "missing":
        for name in draw(st.lists(st.sampled_from(FILES[:2]), min_size=1, max_size=2, unique=True)):
            files.pop(name, None)
        if with_train:  # the train pair stays: the missing t10k file is needed by the test split
            split = draw(st.sampled_from(["test", "all"]))
    elif defect == "zero":
        dims = (0, h, w) if "images" in target else (0,)
        if draw(st.booleans()) and "images" in target:
            dims = (n, 0, w)
        files[target] = idx(np.zeros(0), magic=magic, dims=dims)
    gz = {k for k in files if draw(st.booleans())}
    if defect.startswith("gzip"):
        gz.add(target)
    out = {}
    for name, data in files.items():
        if name in gz:
            packed = gzip.compress(data, compresslevel=1)
            if name == target and defect == "gzip_cut":
                packed = packed[:draw(st.integers(0, len(packed) - 1))]
            elif name == target and defect == "gzip_trailer":  # CRC32 or size of the member wrong
                i = len(packed) - draw(st.integers(1, 8))
                packed = packed[:i] + bytes([packed[i] ^ draw(st.integers(1, 255))]) + packed[i + 1:]
            elif name == target and defect == "gzip_bomb":  # small dims declared, up to 64 MiB of zeros after them
                zeros = draw(st.sampled_from([16, 64])) * 2 ** 20
                packed = _bomb(body, zeros)
            out[name + ".gz"] = packed
        else:
            out[name] = data
    return out, split


_ZEROS: dict[int, bytes] = {}


def _bomb(body: bytes, zeros: int) -> bytes:
    """``body`` then ``zeros`` zero bytes, as two gzip members (read as one stream)."""
    if zeros not in _ZEROS:
        _ZEROS[zeros] = gzip.compress(b"\0" * zeros, compresslevel=9)
    return gzip.compress(body) + _ZEROS[zeros]


def check(case) -> None:
    files, split = case
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        data_dir = d / "mnist"
        data_dir.mkdir()
        for name, data in files.items():
            (data_dir / name).write_bytes(data)
        expect_refusal("IDX (MNIST folder)", lambda: load_dataset("mnist", split, data_dir), watch=d,
                       mentions=str(data_dir), error=DataError)


@given(case=bad_folders())
@fuzz_settings(QUICK)
def test_bad_idx_quick(case):
    check(case)


@pytest.mark.slow
@given(case=bad_folders())
@fuzz_settings(FULL)
def test_bad_idx_full(case):
    check(case)


def test_valid_folders_load(tmp_path):
    """The seeds are valid: each split of a raw and a gzipped folder loads with the right counts."""
    rng = np.random.default_rng(0)
    for p, n in (("t10k", 5), ("train", 7)):
        (tmp_path / f"{p}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx(rng.integers(0, 256, (n, 3, 4)))))
        (tmp_path / f"{p}-labels-idx1-ubyte").write_bytes(idx(rng.integers(0, 10, n)))
    assert [len(load_dataset("mnist", s, tmp_path)) for s in ("train", "test", "all")] == [7, 5, 12]
    assert load_dataset("mnist", "all", tmp_path).x.shape[1] == 12


def test_gzip_bomb_costs_no_memory(tmp_path):
    """64 MiB of zeros after a 2-image header: refused after reading what the header declares plus one byte."""
    import resource

    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(idx(np.zeros((2, 4, 4))))
        chunk = b"\0" * 2 ** 24
        for _ in range(4):
            f.write(chunk)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx(np.zeros(2)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: unexpected bytes after the 32 bytes"):
        load_dataset("mnist", "train", tmp_path)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 64 * 2 ** 20
