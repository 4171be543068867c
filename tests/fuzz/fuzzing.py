"""Shared machinery of the property-based fuzz suite (Hypothesis); hooks and fixtures are in conftest.py.

Every loader has a quick test (:data:`QUICK` generated bad inputs, runs by default) and a full
one (:data:`FULL` inputs, marked ``slow``; runs only when ``-m slow`` is asked for). Each
generated input goes through the loader's real entry point (the CLI subcommand's function, in
process) and :func:`expect_refusal` asserts what the README promises for bad input: the
project's error type, a one-line message naming the file, bounded memory, no output written,
and no code run (a marker file that malicious pickles would create never appears).

The figures of a run (inputs per loader, largest memory growth) are printed at the end of the
session; ``docs/input-validation.md`` records those of the full run.
"""
from __future__ import annotations

import resource
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from neurosim.errors import NeurosimError

QUICK = 100
FULL = 1000
#: memory growth (max resident set size) allowed per bad input
MEMORY_BOUND_BYTES = 1024 ** 3

STATS: dict[str, dict[str, float]] = defaultdict(lambda: {"inputs": 0, "max_rss_growth_bytes": 0})


def fuzz_settings(n: int):
    """Hypothesis settings for ``n`` examples: no deadline, deterministic, no example database."""
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def expect_refusal(loader: str, call, *, watch: Path, mentions: str | None = None,
                   error: type[BaseException] = NeurosimError, marker: Path | None = None) -> str:
    """Run ``call()`` on one bad input and check the promises; return the error message.

    ``watch``: the folder outputs would go to; its listing must not change (no output, no
    temporary file left). ``mentions``: text the message must contain (the file's name).
    """
    before = sorted(p.name for p in watch.iterdir())
    rss0 = _maxrss_bytes()
    with pytest.raises(error) as info:
        call()
    growth = _maxrss_bytes() - rss0
    message = str(info.value)
    stats = STATS[loader]
    stats["inputs"] += 1
    stats["max_rss_growth_bytes"] = max(stats["max_rss_growth_bytes"], growth)
    assert growth < MEMORY_BOUND_BYTES, f"{loader}: memory grew by {growth / 2**20:.0f} MiB"
    assert message.strip() and "\n" not in message, f"not one line: {message!r}"
    if mentions is not None:
        assert mentions in message, f"message does not name {mentions!r}: {message}"
    assert sorted(p.name for p in watch.iterdir()) == before, "an output or temporary file was written"
    if marker is not None:
        assert not marker.exists(), "pickled code ran"
    return message


def command(argv: list[str]):
    """A zero-argument callable running the CLI subcommand ``argv`` in this process (no exit-code mapping)."""
    from neurosim.cli import build_parser

    args = build_parser(only=argv[0]).parse_args(argv)
    return lambda: args.func(args)
