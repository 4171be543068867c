"""Fixtures shared by the whole suite: every registered simulator backend, and the MNIST directory.

Backends
--------
``backend`` runs a test once per backend registered in :data:`neurosim.backends.BACKENDS`;
``other_backend`` once per backend except the reference engine (for agreement checks against it);
``require_backend("lava")`` inside a test of one backend's own options. A backend whose package
is not installed is skipped with its install hint as the reason.

What a backend can do is data, :data:`CAPABILITIES`. A test that needs a capability carries the
marker of that name (``@pytest.mark.graded_spikes``); the fixtures skip it on backends that do not
declare it, and ``pytest -m graded_spikes`` selects exactly those tests. Each non-reference backend
also carries a marker of its own name (``-m "not lava"`` leaves lava out). A new backend is
registered here with its capabilities, in one line; until it is, its tests fail and say so.

MNIST
-----
``mnist_dir`` is the directory of the real MNIST IDX files: ``$NEUROSIM_MNIST_DIR``, else the
``shared/data/mnist`` folder beside the repository; tests that use it are skipped when neither
holds IDX files.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from neurosim.backends import BACKENDS

#: capability marker -> what a backend that declares it does (the marker's help text)
CAPABILITY_HELP = {
    "graded_spikes": "sigma-delta layers sending integer-payload graded spikes (graded coding)",
    "bernoulli_input": "Bernoulli input replaying the reference engine's default_rng(seed) stream",
    "current_input": "analog input current delivered every step",
    "cuba_lif": "current-based LIF neurons (NIR CubaLIF)",
    "step_recording": "per-step spike recording (record=[sample indices] -> BackendResult.step_spikes)",
    "step_counts": "per-step spike counts summed over the samples (BackendResult.step_counts)",
    "chunking": "a chunk_size=N option that splits the samples and changes no result",
    "float32": "a float32 arithmetic option beside the float64 default",
}

_COMMON = {"graded_spikes", "bernoulli_input", "current_input", "cuba_lif"}

#: backend name -> the capabilities it declares (keys of :data:`CAPABILITY_HELP`)
CAPABILITIES: dict[str, frozenset[str]] = {
    "reference": frozenset(_COMMON | {"step_recording", "step_counts", "chunking"}),
    "brian2": frozenset(_COMMON | {"step_counts", "chunking"}),
    # lava: its processes keep per-neuron totals only, so its records carry no step_counts (None)
    "lava": frozenset(_COMMON | {"chunking"}),
    "torch": frozenset(_COMMON | {"step_recording", "step_counts", "chunking", "float32"}),
}

#: the markers a backend's parameter carries: its own name for every backend but the reference
BACKEND_MARKS = {name: [getattr(pytest.mark, name)] for name in BACKENDS if name != "reference"}


def pytest_configure(config):
    for name, text in CAPABILITY_HELP.items():
        config.addinivalue_line("markers", f"{name}: needs a backend with {text}")
    for name in BACKENDS:
        if name not in ("reference", "brian2", "lava"):  # those two are declared in setup.cfg
            config.addinivalue_line("markers", f"{name}: runs on the {name} backend")


def capabilities(name: str) -> frozenset[str]:
    """The capabilities backend ``name`` declares; a registered backend missing here fails its tests."""
    if name not in CAPABILITIES:
        pytest.fail(f"backend {name!r} is registered in neurosim.backends.BACKENDS but declares no "
                    "capabilities: add it to CAPABILITIES in tests/conftest.py", pytrace=False)
    return CAPABILITIES[name]


def usable_backend(name: str, request) -> str:
    """``name`` if its package is installed and it has every capability the test is marked with."""
    module = importlib.import_module(BACKENDS[name])  # imports its simulator lazily: an error here is a bug
    problem = module.available()
    if problem:
        pytest.skip(f"backend {name!r} is not installed: {problem}")
    declared = capabilities(name)
    missing = sorted(m.name for m in request.node.iter_markers() if m.name in CAPABILITY_HELP
                     and m.name not in declared)
    if missing:
        pytest.skip(f"backend {name!r} does not declare {', '.join(missing)}")
    return name


def _params(names):
    return [pytest.param(n, marks=BACKEND_MARKS.get(n, []), id=n) for n in names]


@pytest.fixture(params=_params(BACKENDS))
def backend(request) -> str:
    """Name of each registered backend in turn (skipped where not installed or not capable)."""
    return usable_backend(request.param, request)


@pytest.fixture(params=_params([n for n in BACKENDS if n != "reference"]))
def other_backend(request) -> str:
    """Name of each registered backend but the reference engine, to compare with the reference."""
    return usable_backend(request.param, request)


@pytest.fixture
def require_backend(request):
    """``require_backend(name)`` skips the test unless backend ``name`` is installed (and capable)."""
    return lambda name: usable_backend(name, request)


def mnist_directory() -> Path:
    """``$NEUROSIM_MNIST_DIR`` if set, else ``shared/data/mnist`` beside the repository."""
    env = os.environ.get("NEUROSIM_MNIST_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """Directory holding the real MNIST IDX files (raw or gzipped); the test is skipped without them."""
    path = mnist_directory()
    if not path.is_dir() or not any(path.glob("*-idx[13]-ubyte*")):
        pytest.skip(f"no MNIST IDX files in {path} (set NEUROSIM_MNIST_DIR to the folder that holds them)")
    return path
