"""neurosim: dense vs sparse autoencoders, ANN-to-SNN conversion, spiking simulation
(reference engine, Brian2, Lava) and hardware energy/latency estimates.

Pipeline: data -> train -> checkpoint (.pt) -> convert -> NIR file -> simulate ->
activity record -> estimate (hardware profile) -> report.

The public API (docs/api.md), one function per stage, each returning a typed result::

    import neurosim
    net = neurosim.convert("runs/digits/sparse.pt", coding="rate")      # ConversionResult
    sim = neurosim.simulate(net, samples=100, timesteps=32)              # SimulationResult
    est = neurosim.estimate(sim, ["loihi2", "spinnaker2"])               # Estimates
    print(neurosim.report(est, "md"))

and loaders for every file the command line writes: :func:`load_checkpoint` (``.pt``),
:func:`load_network` (``.nir``), :func:`load_record` (activity records),
:func:`load_estimates` (report JSON), :func:`load_profile` (hardware TOML),
:func:`load_metrics` and :func:`load_config` (a training run's ``metrics.json`` and
``config.toml``), :func:`load_dataset`.
Names are imported on first use, so ``import neurosim`` stays fast.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first attribute access, PEP 562)
_API = {
    "load_dataset": "neurosim.pipeline",
    "train": "neurosim.pipeline",
    "convert": "neurosim.pipeline",
    "simulate": "neurosim.pipeline",
    "estimate": "neurosim.pipeline",
    "report": "neurosim.pipeline",
    "load_checkpoint": "neurosim.pipeline",
    "load_network": "neurosim.pipeline",
    "load_record": "neurosim.pipeline",
    "load_profile": "neurosim.pipeline",
    "load_estimates": "neurosim.pipeline",
    "load_metrics": "neurosim.pipeline",
    "load_config": "neurosim.pipeline",
    "PipelineWarning": "neurosim.pipeline",
    "ConversionResult": "neurosim.results",
    "SimulationResult": "neurosim.results",
    "Estimates": "neurosim.results",
    "TrainConfig": "neurosim.training.config",
    "TrainResult": "neurosim.training.results",
    "NeurosimError": "neurosim.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'neurosim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
