"""Hooks and fixtures of the fuzz suite: full runs only under ``-m slow``, figures at the end."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from fuzzing import STATS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/networks.py


def pytest_collection_modifyitems(config, items):
    """The full fuzz runs (``slow``) only when the marker expression asks for slow tests."""
    expr = config.option.markexpr or ""
    if "slow" in expr and "not slow" not in expr:
        return
    skip = pytest.mark.skip(reason="full fuzz run: pytest -m slow tests/fuzz")
    here = Path(__file__).parent
    for item in items:
        if item.get_closest_marker("slow") and here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if not STATS:
        return
    import resource

    terminalreporter.section("fuzz figures")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    terminalreporter.write_line(f"peak resident memory of the test process: {peak:.0f} MiB")
    for loader, s in sorted(STATS.items()):
        growth = "" if loader.startswith("CLI ") else \
            f", largest memory growth {s['max_rss_growth_bytes'] / 2**20:.1f} MiB"
        terminalreporter.write_line(f"{loader}: {int(s['inputs'])} bad inputs refused{growth}")
    out = os.environ.get("NEUROSIM_FUZZ_FIGURES")
    if out:  # a JSON file of the figures, for experiments/targets.py (section input_validation)
        from neurosim.fileio import write_json

        loaders = {k: v for k, v in STATS.items() if not k.startswith("CLI ")}
        cli = {k[4:]: v for k, v in STATS.items() if k.startswith("CLI ")}
        write_json({"failed_tests": len(terminalreporter.stats.get("failed", [])),
                    "peak_rss_mib": peak,
                    "loaders": {k: {"inputs": int(v["inputs"]), "max_rss_growth_mib": v["max_rss_growth_bytes"] / 2**20}
                                for k, v in loaders.items()},
                    "cli": {k: int(v["inputs"]) for k, v in cli.items()},
                    "min_inputs_per_loader": min((int(v["inputs"]) for v in loaders.values()), default=0),
                    "min_cli_inputs_per_loader": min((int(v["inputs"]) for v in cli.values()), default=0),
                    "max_rss_growth_mib": max((v["max_rss_growth_bytes"] / 2**20 for v in loaders.values()),
                                              default=0.0)}, out)
        terminalreporter.write_line(f"figures written to {out}")


@pytest.fixture(scope="session")
def valid_files(tmp_path_factory) -> dict[str, Path]:
    """Small valid files every loader accepts, the seeds the bad inputs are made from."""
    from networks import make_checkpoint

    from converters.ann_to_snn import convert_file
    from converters.nir_io import write_network

    d = tmp_path_factory.mktemp("fuzz_valid")
    ckpt = make_checkpoint(d / "sparse.pt", hidden=16)
    net, _ = convert_file(ckpt, "rate")
    write_network(net, d / "net.nir")
    from neurosim.backends import simulate
    from neurosim.data import load_dataset

    from converters.ann_to_snn import ann_forward_from_network

    data = load_dataset("digits", "test").subset(4)
    x = data.x.astype("float64")
    record = simulate(net, x, 10, backend="reference", labels=data.y,
                      ann_outputs=ann_forward_from_network(net, x)[1])
    json_path, _ = record.save(d / "act")
    return {"checkpoint": ckpt, "nir": d / "net.nir", "record": json_path.with_suffix("")}
