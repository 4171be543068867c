"""Defaults shared by every stage, in one place (SI units).

The library functions, the command line and the converters all read these names, so a
default changes here and nowhere else.

Time: a simulation runs ``T`` steps of ``dt_s`` seconds. A feed-forward chain of ``L``
layers (input layer included) has a one-step synaptic delay per connection, so layer ``l``
is enabled for its *window* ``T_l = T - l`` steps; ``T >= L`` leaves every layer at least
one step (:func:`check_timesteps`).
"""
from __future__ import annotations

from neurosim.errors import ValidationError

#: time step of a network that states none, in seconds (1 ms)
DT_S: float = 1e-3
#: simulation steps T
TIMESTEPS: int = 32
#: samples simulated when none are named: None means the whole split
SAMPLES: int | None = None
#: split simulated when none is named (held-out data)
SPLIT: str = "test"
#: dataset when neither the user nor the network's provenance names one
DATASET: str = "digits"
#: ANN-to-SNN normalisation percentile of positive activations (Rueckauer et al. 2017)
CALIBRATION_PERCENTILE: float = 99.9
#: training samples used to calibrate a checkpoint without stored statistics
CALIBRATION_SAMPLES: int = 1000
#: graded coding: payload resolution in bits, ``payload_step = 1 / (2**bits - 1)``
PAYLOAD_BITS: int = 8
#: rate coding: initial membrane of the integrate-and-fire neurons, in thresholds
V_INIT: float = 0.5
#: spike coding of a conversion
CODING: str = "rate"
#: simulator backend
BACKEND: str = "reference"
#: a connection whose weight density (nonzero synapses / (n_out x n_in)) is below this is stored
#: as a CSR array (:meth:`neurosim.network.Connection.from_weights`): 12 bytes per synapse
#: (float64 value, int32 index) instead of 8 per pair, so below 1/4 it takes under 3/8 of the
#: dense memory, and the reference engine's products through it scale with the synapses
SPARSE_STORAGE_DENSITY: float = 0.25


def min_timesteps(depth: int) -> int:
    """Smallest ``T`` for a chain of ``depth`` layers: ``T_min = depth`` (every window >= 1 step)."""
    return int(depth)


def coding_timesteps(coding: str, timesteps: int, depth: int) -> int:
    """Steps a run of a converted network needs: ``timesteps`` for a rate code, ``depth`` for graded.

    A graded (sigma-delta) network given a static input sends each active unit's value once: the
    input at step 0, layer ``l`` at step ``l``, so the readout has its sum at step ``depth - 1``
    and later steps only update idle neurons (the outputs, spikes and synaptic operations of
    ``T = depth`` are those of any longer run). Running it longer would charge idle steps to the
    hardware estimates, real time on real-time chips.
    """
    return min_timesteps(depth) if coding == "graded" else int(timesteps)


def check_timesteps(timesteps: int, depth: int, name: str = "timesteps") -> int:
    """``timesteps`` as an int, or :class:`~neurosim.errors.ValidationError` when ``T < depth``.

    Parameters
    ----------
    timesteps : int
        Requested number of steps ``T``.
    depth : int
        Number of layers ``L`` of the network, input layer included.
    name : str
        How the user gave the value (``'--timesteps'``), for the message.
    """
    try:
        t = int(timesteps)
    except (TypeError, ValueError):
        t = None
    if t is None or t != timesteps or isinstance(timesteps, bool):
        raise ValidationError(f"{name} must be an integer number of steps, got {timesteps!r}")
    if t < min_timesteps(depth):
        raise ValidationError(f"{name} must be at least the network depth {min_timesteps(depth)} "
                              f"(one-step delay per connection), got {timesteps}")
    return t
