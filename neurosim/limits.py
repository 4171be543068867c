"""Size caps for everything neurosim reads from a user's file, checked before any allocation.

Every loader compares what a file *declares* (an array header's shape, an IDX header's
dimensions, a zip member's uncompressed size, an HDF5 dataset's shape) against these caps and
against the file's own size before it materialises anything, so a small hostile file (a
decompression bomb, a header declaring 10^9 x 64 values, a zero-strided tensor expanded to
40,000 x 50,000) ends with a one-line error instead of exhausting memory.

Defaults fit the largest inputs neurosim is used with (MNIST's 60,000 x 784 training images are
47 M one-byte values; a 784-1024-784 checkpoint holds 1.6 M weights) and keep the largest single
array under 0.5 GiB even in float64, far below the memory of a laptop. Override any of them with an environment variable of the same
name prefixed ``NEUROSIM_`` (for example ``NEUROSIM_MAX_FILE_BYTES=8e9``); values are read at
each check, so a test or a notebook may set them at run time.

=====================  ===============  ====================================================
cap                    default          what it bounds
=====================  ===============  ====================================================
MAX_FILE_BYTES         1 GiB            bytes read from one file, after decompression
                                        (a gzipped IDX file, an NPZ member, a checkpoint)
MAX_ARRAY_ELEMENTS     2**26 (67 M)     elements of any one array or tensor
MAX_TOTAL_ELEMENTS     2**27 (134 M)    elements of all arrays of one file together
MAX_ZIP_MEMBERS        4096             members of one zip container (NPZ, checkpoint)
MAX_INFLATION          200              uncompressed / compressed size of one NPZ member or
                                        HDF5 dataset, once it exceeds INFLATION_FLOOR_BYTES
INFLATION_FLOOR_BYTES  256 MiB          size any compressed member may reach regardless
MAX_NESTING            64               nesting depth of containers in a checkpoint/JSON
MAX_CONTAINER_ITEMS    20,000           items of all containers of one checkpoint together
=====================  ===============  ====================================================

Plausibility bounds (not configurable): a simulation time step ``dt_s`` lies in
:data:`DT_S_RANGE`, 1 ns to 1 s; neuromorphic hardware and simulators use 1 us to 1 ms.
"""
from __future__ import annotations

import os

DEFAULTS: dict[str, int] = {
    "MAX_FILE_BYTES": 1024 ** 3,
    "MAX_ARRAY_ELEMENTS": 2 ** 26,
    "MAX_TOTAL_ELEMENTS": 2 ** 27,
    "MAX_ZIP_MEMBERS": 4096,
    "MAX_INFLATION": 200,
    "INFLATION_FLOOR_BYTES": 256 * 1024 ** 2,
    "MAX_NESTING": 64,
    "MAX_CONTAINER_ITEMS": 20_000,
}


#: accepted simulation time steps, seconds (inclusive)
DT_S_RANGE = (1e-9, 1.0)


def limit(name: str) -> int:
    """The cap ``name`` (a key of :data:`DEFAULTS`): ``NEUROSIM_<name>`` from the environment, else the default.

    An unparsable or non-positive override is ignored (the default applies), so a typo in
    the environment never disables a cap.
    """
    default = DEFAULTS[name]
    raw = os.environ.get(f"NEUROSIM_{name}")
    if raw is None:
        return default
    try:
        value = int(float(raw))
    except (ValueError, OverflowError):
        return default
    return value if value > 0 else default


def max_file_bytes() -> int:
    return limit("MAX_FILE_BYTES")


def max_array_elements() -> int:
    return limit("MAX_ARRAY_ELEMENTS")


def max_total_elements() -> int:
    return limit("MAX_TOTAL_ELEMENTS")


def inflation_ok(uncompressed: int, stored: int) -> bool:
    """Whether ``stored`` bytes may expand to ``uncompressed`` (MAX_INFLATION above INFLATION_FLOOR_BYTES).

    Compression of real weights and spike counts stays far below the ratio; a decompression
    bomb (gzip's deflate reaches about 1,000:1 on zeros) does not.
    """
    return uncompressed <= max(limit("INFLATION_FLOOR_BYTES"), limit("MAX_INFLATION") * stored)


def describe() -> dict[str, int]:
    """Every cap and its current value (for reports and documentation)."""
    return {name: limit(name) for name in DEFAULTS}
