"""Hardware profiles and cost models: energy and latency of an activity record on a target.

* :mod:`~neurosim.hardware.profile` loads and validates the TOML profiles of
  ``hardware_profiles/`` (every figure with its source) and checks what does not fit;
* :mod:`~neurosim.hardware.workload` turns a record into per-inference counts;
* one cost model per target kind, equations in each docstring:
  :mod:`~neurosim.hardware.neuromorphic` (Loihi, SpiNNaker: the SNN),
  :mod:`~neurosim.hardware.wafer_scale` (Cerebras: the ANN, zero work skipped),
  :mod:`~neurosim.hardware.crossbar` (RRAM/PCM analog tiles: the ANN),
  :mod:`~neurosim.hardware.gpu` (the dense ANN at batch 1);
* :func:`estimate` returns the result dict the report formats.
"""
from neurosim.hardware.estimate import estimate, estimate_many
from neurosim.hardware.profile import Figure, Issue, Profile, available_profiles, check, load_profile, load_profiles
from neurosim.hardware.workload import CostResult, Workload, WorkloadLayer

__all__ = ["estimate", "estimate_many", "Figure", "Issue", "Profile", "available_profiles", "check",
           "load_profile", "load_profiles", "CostResult", "Workload", "WorkloadLayer"]
