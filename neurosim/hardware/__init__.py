"""Hardware profiles and cost models: energy and latency of an activity record on a target.

* :mod:`~neurosim.hardware.profile` loads and validates the TOML profiles of
  ``hardware_profiles/`` (every figure with its unit, distribution and source) and checks
  what does not fit;
* :mod:`~neurosim.hardware.uncertainty` draws the uncertain figures (Monte Carlo, seeded)
  and reduces outputs to median and 10-90 % intervals;
* :mod:`~neurosim.hardware.workload` turns a record into per-inference counts;
* one cost model per target kind, equations in each docstring:
  :mod:`~neurosim.hardware.neuromorphic` (Loihi, SpiNNaker: the SNN),
  :mod:`~neurosim.hardware.wafer_scale` (Cerebras: the ANN, zero work skipped),
  :mod:`~neurosim.hardware.crossbar` (RRAM/PCM analog tiles: the ANN),
  :mod:`~neurosim.hardware.gpu` (GPUs and CPUs: the dense ANN);
* :func:`estimate` returns an :class:`Estimate` (both modes, dynamic and static energy);
  :func:`compare` the dense -> sparse savings per draw.
"""
from neurosim.hardware.estimate import DEFAULT_BATCH, compare, estimate, estimate_many
from neurosim.hardware.profile import Figure, Issue, Profile, available_profiles, check, load_profile, load_profiles
from neurosim.hardware.result import MODES, Estimate, ModeEstimate
from neurosim.hardware.uncertainty import Interval
from neurosim.hardware.workload import Workload, WorkloadLayer

__all__ = ["estimate", "estimate_many", "compare", "DEFAULT_BATCH", "MODES", "Estimate", "ModeEstimate", "Interval",
           "Figure", "Issue", "Profile", "available_profiles", "check", "load_profile", "load_profiles",
           "Workload", "WorkloadLayer"]
