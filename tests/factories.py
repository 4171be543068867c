"""Shared test factories: a tiny end-to-end demo run (built once per test session).

Small enough to finish in well under a minute on 2 cores: few epochs, a narrow hidden
layer, 40 test digits, short simulations, every hardware profile.
"""
from __future__ import annotations

from pathlib import Path

_CACHE: dict[str, object] = {}

TINY = dict(epochs=2, hidden=48, samples=40, timesteps=16, sweep=(8, 16), cross_check_samples=3,
            cross_check_timesteps=12)


def tiny_demo(tmp_path_factory) -> tuple[Path, object]:
    """Run (once) the tiny demo; return its output directory and the demo context."""
    if "ctx" not in _CACHE:
        from neurosim.reporting.demo import run_demo

        out = tmp_path_factory.mktemp("tiny_demo")
        ctx = run_demo(out, say=lambda line: None, **TINY)
        _CACHE["out"], _CACHE["ctx"] = out, ctx
    return _CACHE["out"], _CACHE["ctx"]
