"""Reading ``.npy`` and ``.npz`` files a user hands over: headers and sizes before any allocation.

An ``.npy`` file is a magic string, a header (a Python literal giving ``shape``, ``dtype`` and
the memory order) and then exactly ``prod(shape) * itemsize`` bytes. :func:`read_npy` and
:func:`read_npz` read the header first (``numpy.lib.format.read_magic`` and the header readers),
refuse object, structured and complex dtypes (nothing is ever unpickled), check the declared
size against :mod:`neurosim.limits` and against the bytes the file (or zip member) actually
holds, and only then read the data, with a bounded read. Every problem is raised as the
``error`` class the caller names (a :class:`~neurosim.errors.NeurosimError` subclass), in one line
naming the file, the array and what was expected.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from neurosim import limits
from neurosim.errors import NeurosimError

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
#: dtype kinds accepted where numbers are meant: bool, signed/unsigned integers, real floats
REAL_KINDS = "biuf"


def _header(fp: IO[bytes], origin: str, error: type[NeurosimError]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of the ``.npy`` stream ``fp`` (left just after the header)."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            shape, fortran, dtype = fmt._read_array_header(fp, version)
    except Exception as exc:  # numpy parses the header as a Python literal: any failure means malformed
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise error(f"{origin}: not a valid .npy array header ({text})") from None
    return tuple(int(d) for d in shape), bool(fortran), np.dtype(dtype)


def check_header(shape: tuple[int, ...], dtype: np.dtype, data_bytes: int, origin: str,
                 error: type[NeurosimError], kinds: str = REAL_KINDS) -> int:
    """Check a declared array against the caps and the ``data_bytes`` that follow its header.

    Returns the number of elements. ``kinds`` are the accepted ``dtype.kind`` letters.
    """
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise error(f"{origin}: dtype {dtype} holds Python objects or records; expected plain numbers "
                    "(neurosim never unpickles arrays)")
    if dtype.kind not in kinds:
        raise error(f"{origin}: dtype {dtype} is not accepted here (expected {_kinds(kinds)})")
    if any(d < 0 for d in shape):
        raise error(f"{origin}: negative dimension in declared shape {shape}")
    n = 1
    cap = limits.max_array_elements()
    for d in shape:
        n *= d
        if n > cap:
            raise error(f"{origin}: declared shape {shape} exceeds the cap of {cap:,} elements "
                        "(NEUROSIM_MAX_ARRAY_ELEMENTS)")
    need = n * dtype.itemsize
    if need != data_bytes:
        raise error(f"{origin}: header declares shape {shape} of {dtype} ({need:,} bytes) but the file holds "
                    f"{data_bytes:,} bytes of data")
    return n


def _kinds(kinds: str) -> str:
    names = {"b": "bool", "i": "integers", "u": "unsigned integers", "f": "real floats", "c": "complex"}
    return ", ".join(names.get(k, k) for k in kinds)


def _read_data(fp: IO[bytes], shape, fortran, dtype, n: int, origin: str, error) -> np.ndarray:
    """Exactly ``n`` elements from ``fp`` (already checked against the caps), into one buffer."""
    want = n * dtype.itemsize
    buf = bytearray(want)
    view = memoryview(buf)
    got = 0
    while got < want:
        chunk = fp.readinto(view[got:])
        if not chunk:
            break
        got += chunk
    if got != want:
        raise error(f"{origin}: truncated array data ({got:,} of {want:,} bytes)")
    arr = np.frombuffer(buf, dtype=dtype, count=n)
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def read_npy(path: str | Path, error: type[NeurosimError], kinds: str = REAL_KINDS) -> np.ndarray:
    """One ``.npy`` file, header and size checked before its data is read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        f = open(path, "rb")
    except FileNotFoundError:
        raise error(f"{path}: file does not exist") from None
    except OSError as exc:
        raise error(f"{path}: cannot open ({exc.strerror or type(exc).__name__})") from None
    with f:
        head = f.read(len(NPY_MAGIC))
        if head.startswith(ZIP_MAGIC[:2]):
            raise error(f"{path}: a zip archive (an .npz file?), expected a single .npy array")
        if head != NPY_MAGIC:
            raise error(f"{path}: not a .npy file (no NumPy magic string; {size} bytes)")
        f.seek(0)
        shape, fortran, dtype = _header(f, str(path), error)
        n = check_header(shape, dtype, size - f.tell(), str(path), error, kinds)
        return _read_data(f, shape, fortran, dtype, n, str(path), error)


def read_npz(path: str | Path, error: type[NeurosimError], kinds: str = REAL_KINDS) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive, each member's declared sizes checked before reading."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: file does not exist")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise error(f"{path}: not a valid .npz (zip) archive ({type(exc).__name__})") from None
    out: dict[str, np.ndarray] = {}
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.limit("MAX_ZIP_MEMBERS"):
            raise error(f"{path}: {len(infos)} zip members exceed the cap of {limits.limit('MAX_ZIP_MEMBERS')} "
                        "(NEUROSIM_MAX_ZIP_MEMBERS)")
        total, file_cap, total_cap = 0, limits.max_file_bytes(), limits.max_total_elements()
        for info in infos:
            name = info.filename
            origin = f"{path}: member {name!r}"
            if not name.endswith(".npy") or "/" in name or len(name) > 200:
                raise error(f"{origin} is not a .npy array")
            if name[:-4] in out:
                raise error(f"{origin} appears twice")
            if info.file_size > file_cap:
                raise error(f"{origin} declares {info.file_size:,} bytes, over the cap of {file_cap:,} "
                            "(NEUROSIM_MAX_FILE_BYTES)")
            if not limits.inflation_ok(info.file_size, info.compress_size):
                raise error(f"{origin} declares {info.file_size:,} bytes from {info.compress_size:,} compressed "
                            "(a decompression bomb? NEUROSIM_MAX_INFLATION)")
            try:
                with zf.open(info) as member:
                    shape, fortran, dtype = _header(member, origin, error)
                    data_bytes = info.file_size - member.tell()
                    n = check_header(shape, dtype, data_bytes, origin, error, kinds)
                    total += n
                    if total > total_cap:
                        raise error(f"{path}: arrays hold more than {total_cap:,} elements in all "
                                    "(NEUROSIM_MAX_TOTAL_ELEMENTS)")
                    out[name[:-4]] = _read_data(member, shape, fortran, dtype, n, origin, error)
            except NeurosimError:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
                text = " ".join(str(exc).split())[:200] or type(exc).__name__
                raise error(f"{origin}: corrupt zip member ({text})") from None
    return out
