"""Dataset loaders: digits (bundled) and MNIST IDX files, including every malformed-file case."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from neurosim.cli import main
from neurosim.data import load_dataset, read_idx
from neurosim.errors import DataError, ValidationError


def idx_bytes(array: np.ndarray, magic_type: int = 0x08) -> bytes:
    """An IDX file: 0x00 0x00 <type> <ndim>, big-endian uint32 dims, then the bytes."""
    header = bytes([0, 0, magic_type, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(directory: Path, n: int = 12, h: int = 4, w: int = 5, gz: bool = False, prefix: str = "t10k",
                images: bytes | None = None, labels: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(n, h, w), dtype=np.uint8)
    lbl = (np.arange(n) % 10).astype(np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    data_i = idx_bytes(img) if images is None else images
    data_l = idx_bytes(lbl) if labels is None else labels
    (directory / f"{prefix}-images-idx3-ubyte{ext}").write_bytes(gzip.compress(data_i) if gz else data_i)
    (directory / f"{prefix}-labels-idx1-ubyte{ext}").write_bytes(gzip.compress(data_l) if gz else data_l)
    return img, lbl


# ----------------------------------------------------------------------------- digits

def test_digits_split_is_fixed_disjoint_and_scaled():
    train, test, full = (load_dataset("digits", s) for s in ("train", "test", "all"))
    assert train.x.shape == (1438, 64) and test.x.shape == (359, 64) and full.x.shape == (1797, 64)
    assert train.x.dtype == np.float32 and train.image_shape == (8, 8)
    assert 0.0 <= train.x.min() and train.x.max() == 1.0  # 16/16
    # the two splits partition the full set: every full row appears exactly once in train or test
    rows = {r.tobytes() for r in full.x}
    assert len(train) + len(test) == len(full)
    assert {r.tobytes() for r in train.x} | {r.tobytes() for r in test.x} <= rows
    again = load_dataset("digits", "test")
    assert np.array_equal(again.x, test.x) and np.array_equal(again.y, test.y)
    assert set(np.unique(test.y)) == set(range(10))


def test_unknown_dataset_and_split_are_refused():
    with pytest.raises(ValidationError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")
    with pytest.raises(ValidationError, match="split must be one of"):
        load_dataset("digits", "validation")


# ----------------------------------------------------------------------------- MNIST, valid files

@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_round_trip_raw_and_gzip(tmp_path, gz):
    img, lbl = write_mnist(tmp_path, n=12, gz=gz)
    full = load_dataset("mnist", "all", tmp_path)
    assert full.x.shape == (12, 20) and full.image_shape == (4, 5)
    np.testing.assert_allclose(full.x, img.reshape(12, 20) / 255.0, rtol=0, atol=1e-7)
    assert np.array_equal(full.y, lbl)
    # only t10k files: the first 8000 train, the rest test (here: all 12 train, none test)
    assert len(load_dataset("mnist", "train", tmp_path)) == 12
    assert "not the standard MNIST train/test split" in full.note


def test_mnist_standard_split_when_train_files_exist(tmp_path):
    write_mnist(tmp_path, n=6, prefix="train")
    write_mnist(tmp_path, n=4, prefix="t10k")
    assert len(load_dataset("mnist", "train", tmp_path)) == 6
    assert len(load_dataset("mnist", "test", tmp_path)) == 4


def test_real_mnist_t10k_split_8000_2000(mnist_dir):
    train = load_dataset("mnist", "train", mnist_dir)
    test = load_dataset("mnist", "test", mnist_dir)
    assert train.x.shape == (8000, 784) and test.x.shape == (2000, 784)
    assert 0.0 <= test.x.min() and test.x.max() <= 1.0 and set(np.unique(test.y)) == set(range(10))


# ----------------------------------------------------------------------------- MNIST, malformed

def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_missing_directory_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="MNIST directory does not exist") as e:
        load_dataset("mnist", "train", tmp_path / "nowhere")
    assert "nowhere" in _one_line(e)
    with pytest.raises(DataError, match="no MNIST IDX files found"):
        load_dataset("mnist", "train", tmp_path)
    with pytest.raises(DataError, match="needs --data-dir"):
        load_dataset("mnist", "train", None)


def test_truncated_data_names_file_and_sizes(tmp_path):
    good = idx_bytes(np.zeros((10, 4, 4), np.uint8))
    write_mnist(tmp_path, n=10, h=4, w=4, images=good[:-7])
    with pytest.raises(DataError, match=r"truncated: header declares 10x4x4 = 160 bytes of data, file holds 153") as e:
        load_dataset("mnist", "train", tmp_path)
    assert "t10k-images-idx3-ubyte" in _one_line(e)


def test_header_claims_more_images_than_file_holds(tmp_path):
    lying = bytes([0, 0, 8, 3]) + struct.pack(">III", 60000, 28, 28) + bytes(28 * 28 * 3)
    path = tmp_path / "x.idx"
    path.write_bytes(lying)
    with pytest.raises(DataError, match="truncated: header declares 60000x28x28"):
        read_idx(path, 2051)


def test_trailing_bytes(tmp_path):
    write_mnist(tmp_path, n=10, images=idx_bytes(np.zeros((10, 4, 5), np.uint8)) + b"\x00\x01\x02")
    with pytest.raises(DataError, match="3 unexpected bytes after the 200 bytes of data"):
        load_dataset("mnist", "train", tmp_path)


def test_wrong_magic_number(tmp_path):
    # a labels file where the images file should be: valid IDX, wrong magic
    write_mnist(tmp_path, n=10, images=idx_bytes(np.zeros(10, np.uint8)))
    with pytest.raises(DataError, match=r"wrong magic number 2049 \(expected 2051\)") as e:
        load_dataset("mnist", "train", tmp_path)
    assert "t10k-images" in _one_line(e)


def test_not_an_idx_file_and_unsupported_type(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"PK\x03\x04 not idx at all")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 2) + bytes(8))  # float32
    with pytest.raises(DataError, match="unsupported IDX data type 0x0d"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="too short for an IDX header"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 5))  # 3 dims declared, 1 given
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(path)


def test_corrupt_and_truncated_gzip(tmp_path):
    payload = gzip.compress(idx_bytes(np.zeros((10, 4, 5), np.uint8)))
    write_mnist(tmp_path, n=10, gz=True)
    img = tmp_path / "t10k-images-idx3-ubyte.gz"
    img.write_bytes(payload[:10] + b"\xff" * 20 + payload[30:])
    with pytest.raises(DataError, match="corrupt gzip stream") as e:
        load_dataset("mnist", "train", tmp_path)
    assert img.name in _one_line(e)
    img.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataError, match="corrupt gzip stream"):
        load_dataset("mnist", "train", tmp_path)


def test_label_count_mismatch_and_bad_label(tmp_path):
    write_mnist(tmp_path, n=10, labels=idx_bytes(np.zeros(9, np.uint8)))
    with pytest.raises(DataError, match="9 labels for 10 images"):
        load_dataset("mnist", "train", tmp_path)
    write_mnist(tmp_path, n=10, labels=idx_bytes(np.full(10, 12, np.uint8)))
    with pytest.raises(DataError, match="label 12 is not a digit"):
        load_dataset("mnist", "train", tmp_path)


# ----------------------------------------------------------------------------- through the CLI

@pytest.mark.parametrize("case", ["missing_dir", "truncated", "wrong_magic", "corrupt_gzip", "no_data_dir"])
def test_cli_train_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, case):
    data = tmp_path / "mnist"
    if case == "truncated":
        write_mnist(data, n=10, images=idx_bytes(np.zeros((10, 4, 5), np.uint8))[:-1])
    elif case == "wrong_magic":
        write_mnist(data, n=10, images=idx_bytes(np.zeros(10, np.uint8)))
    elif case == "corrupt_gzip":
        write_mnist(data, n=10, gz=True)
        (data / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    out = tmp_path / "run"
    argv = ["train", "--dataset", "mnist", "--out", str(out), "--epochs", "1", "--quiet"]
    if case != "no_data_dir":
        argv += ["--data-dir", str(data)]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurosim train: error: ")
    assert "Traceback" not in captured.err
    assert ("needs --data-dir" if case == "no_data_dir" else str(data)) in lines[0]
    assert not out.exists()
