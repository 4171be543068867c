"""Constants and small helpers shared by the NIR writer (:mod:`converters.nir_write`) and reader
(:mod:`converters.nir_read`); :mod:`converters.nir_io` re-exports them."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from neurosim.defaults import DT_S
from neurosim.network import _plain

FORMAT = "neurosim.nir"
FORMAT_VERSION = 1
KEY = "neurosim"
SUPPORTED = ("Input", "Affine", "Linear", "Scale", "IF", "LIF", "CubaLIF", "LI", "I", "Output")
NEURON_TYPES = ("IF", "LIF", "CubaLIF", "LI", "I")
#: time step of a graph that states none and is read without ``dt_s`` (NIR leaves it to the simulator)
DEFAULT_DT_S = DT_S


def _compact(arr: np.ndarray) -> Any:
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr[0]) if arr.size and np.all(arr == arr[0]) else arr.tolist()


def _dumps(obj: dict) -> str:
    return json.dumps(_plain(obj), allow_nan=False)
