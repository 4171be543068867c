"""Datasets: scikit-learn's bundled 8x8 digits (the offline default) and MNIST IDX files.

Every loader returns a :class:`Dataset` with pixels scaled to [0, 1] as float32, shape
(N, d), and integer labels. Splits are deterministic. Nothing is downloaded.

IDX format (LeCun et al.): a big-endian header ``0x00 0x00 <dtype> <ndim>`` followed by
``ndim`` uint32 dimensions, then the data. Images have magic 2051 (ubyte, 3 dims),
labels magic 2049 (ubyte, 1 dim). Files may be gzipped (``.gz``) or raw.
"""
from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim import limits
from neurosim.errors import DataError, ValidationError

DATASETS = ("digits", "mnist")
SPLITS = ("train", "test", "all")
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
#: Seed of the fixed digits train/test permutation (independent of the training seed).
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.2
#: When only the MNIST test files exist: the first 8,000 images train, the last 2,000 test.
MNIST_T10K_TRAIN = 8000


@dataclass(frozen=True)
class Dataset:
    """Images as rows of ``x`` (float32, values in [0, 1]) with labels ``y`` (int64)."""

    name: str
    split: str
    x: np.ndarray
    y: np.ndarray
    image_shape: tuple[int, int]
    note: str

    @property
    def num_features(self) -> int:
        return int(self.x.shape[1])

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, n: int | None) -> "Dataset":
        """The first ``n`` samples (all when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        if n <= 0:
            raise ValidationError(f"number of samples must be positive, got {n}")
        return Dataset(self.name, self.split, self.x[:n], self.y[:n], self.image_shape,
                       self.note + f"; first {n} samples")


def load_dataset(name: str = "digits", split: str = "train", data_dir: str | Path | None = None) -> Dataset:
    """Load ``name`` ('digits' or 'mnist') and return the requested ``split``."""
    if split not in SPLITS:
        raise ValidationError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if name == "digits":
        return _digits(split)
    if name == "mnist":
        if data_dir is None:
            raise DataError("dataset 'mnist' needs --data-dir DIR (a folder with the IDX files)")
        return _mnist(Path(data_dir), split)
    raise ValidationError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def _digits(split: str) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(x))
    n_test = int(round(DIGITS_TEST_FRACTION * len(x)))
    test_idx, train_idx = np.sort(order[:n_test]), np.sort(order[n_test:])
    idx = {"train": train_idx, "test": test_idx, "all": np.arange(len(x))}[split]
    note = (f"scikit-learn digits (8x8), fixed split seed {DIGITS_SPLIT_SEED}: "
            f"{len(train_idx)} train / {len(test_idx)} test")
    return Dataset("digits", split, x[idx], y[idx], (8, 8), note)


def _find(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / stem, directory / (stem + ".gz")):
        if candidate.is_file():
            return candidate
    # the common alternative spelling with a dot before idx
    alt = stem.replace("-idx", ".idx")
    for candidate in (directory / alt, directory / (alt + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _mnist(directory: Path, split: str) -> Dataset:
    if not directory.is_dir():
        raise DataError(f"{directory}: MNIST directory does not exist")
    files = {s: (_find(directory, f"{s}-images-idx3-ubyte"), _find(directory, f"{s}-labels-idx1-ubyte"))
             for s in ("train", "t10k")}
    have_train = all(files["train"])
    if not all(files["t10k"]) and not have_train:
        raise DataError(f"{directory}: no MNIST IDX files found (expected t10k-images-idx3-ubyte[.gz] "
                        "and t10k-labels-idx1-ubyte[.gz], optionally train-*)")

    def pair(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        img_path, lbl_path = files[prefix]
        if img_path is None or lbl_path is None:
            missing = f"{prefix}-images-idx3-ubyte" if img_path is None else f"{prefix}-labels-idx1-ubyte"
            raise DataError(f"{directory}: {missing}[.gz] is missing")
        images = read_idx(img_path, IDX_IMAGES_MAGIC)
        labels = read_idx(lbl_path, IDX_LABELS_MAGIC)
        if len(images) != len(labels):
            raise DataError(f"{lbl_path}: {len(labels)} labels for {len(images)} images in {img_path.name}")
        if labels.size and labels.max() > 9:
            raise DataError(f"{lbl_path}: label {int(labels.max())} is not a digit 0-9")
        return images, labels

    if have_train:
        parts = {}
        if split in ("train", "all"):
            parts["train"] = pair("train")
        if split in ("test", "all"):
            parts["test"] = pair("t10k")
        if len({p[0].shape[1:] for p in parts.values()}) > 1:
            raise DataError(f"{directory}: train images are {'x'.join(map(str, parts['train'][0].shape[1:]))} "
                            f"but t10k images are {'x'.join(map(str, parts['test'][0].shape[1:]))}; "
                            "both must have the same size")
        images = np.concatenate([p[0] for p in parts.values()])
        labels = np.concatenate([p[1] for p in parts.values()])
        note = "MNIST standard split (train-* files for training, t10k-* for testing)"
    else:
        images, labels = pair("t10k")
        cut = min(MNIST_T10K_TRAIN, len(images))
        sl = {"train": slice(0, cut), "test": slice(cut, None), "all": slice(None)}[split]
        images, labels = images[sl], labels[sl]
        note = (f"MNIST t10k only: first {cut} images train, the rest test "
                "(not the standard MNIST train/test split)")
    if len(images) == 0:
        raise DataError(f"{directory}: the MNIST {split} split is empty ({note})")
    h, w = images.shape[1], images.shape[2]
    if h == 0 or w == 0:
        raise DataError(f"{directory}: images of size {h}x{w} hold no pixels")
    x = (images.reshape(len(images), h * w) / 255.0).astype(np.float32)
    return Dataset("mnist", split, x, labels.astype(np.int64), (h, w), note)


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Read one IDX file (raw or gzipped) into a uint8 array of the shape its header gives.

    The header is read first; the declared size ``prod(dims)`` is checked against the caps of
    :mod:`neurosim.limits` and (raw files) the file's size before any data is read, and a
    gzipped file is decompressed with a bounded read of exactly that many bytes plus one, so a
    decompression bomb costs no more than the data it claims. Raises :class:`DataError` naming
    the file on a wrong magic number, an unsupported data type, a truncated file, trailing
    bytes, a size over the caps or a corrupt gzip stream.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            dims, header = _idx_header(stream, path, expected_magic)
            expected = 1
            for d in dims:
                expected *= d
            cap = min(limits.max_array_elements(), limits.max_file_bytes())
            if expected > cap:
                raise DataError(f"{path}: header declares {'x'.join(map(str, dims))} = {expected:,} values, over the "
                                f"cap of {cap:,} (NEUROSIM_MAX_ARRAY_ELEMENTS)")
            if not gzipped and size - header != expected:
                _size_error(path, dims, expected, size - header)
            data = stream.read(expected + 1)
    except FileNotFoundError:
        raise DataError(f"{path}: file does not exist") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt gzip stream ({' '.join(str(exc).split()) or type(exc).__name__})") from None
    if len(data) != expected:
        _size_error(path, dims, expected, len(data) if len(data) < expected else None)
    return np.frombuffer(data, dtype=np.uint8, count=expected).reshape(dims)


def _idx_header(stream, path: Path, expected_magic: int | None) -> tuple[tuple[int, ...], int]:
    """``(dims, header bytes)`` of an IDX stream, checked."""
    head = stream.read(4)
    if len(head) < 4:
        raise DataError(f"{path}: too short for an IDX header ({len(head)} bytes)")
    magic = int.from_bytes(head, "big")
    if head[0] != 0 or head[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number {magic:#010x})")
    if expected_magic is not None and magic != expected_magic:
        raise DataError(f"{path}: wrong magic number {magic} (expected {expected_magic})")
    if head[2] != 0x08:
        raise DataError(f"{path}: unsupported IDX data type {head[2]:#04x} (only unsigned bytes, 0x08)")
    ndim = head[3]
    raw_dims = stream.read(4 * ndim)
    if ndim == 0 or len(raw_dims) < 4 * ndim:
        raise DataError(f"{path}: truncated IDX header ({ndim} dimensions declared)")
    dims = tuple(int.from_bytes(raw_dims[4 * i: 4 * i + 4], "big") for i in range(ndim))
    return dims, 4 + 4 * ndim


def _size_error(path: Path, dims, expected: int, have: int | None) -> None:
    if have is None:
        raise DataError(f"{path}: unexpected bytes after the {expected} bytes of data declared by its header")
    if have < expected:
        raise DataError(f"{path}: truncated: header declares {'x'.join(map(str, dims))} = {expected} bytes "
                        f"of data, file holds {have}")
    raise DataError(f"{path}: {have - expected} unexpected bytes after the {expected} bytes of data")
