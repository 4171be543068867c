"""Bad input through the real CLI (a subprocess per input): exit status 2 and exactly one line on stderr.

For each loader, Hypothesis generates bad inputs with the same strategies as the in-process
fuzz tests (``test_fuzz_*.py``); each is handed to ``python -m neurosim.cli`` as a user would.
Expected every time: exit status 2, one line on stderr (``neurosim COMMAND: error: ...``) naming
the file, no traceback, no output file. The full run (``-m slow``) takes :data:`PER_LOADER`
inputs per loader; by default one per loader runs.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzzing import STATS, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_checkpoint import bad_checkpoints
from test_fuzz_idx import bad_folders
from test_fuzz_inputs import bad_inputs
from test_fuzz_nir import bad_nir
from test_fuzz_profiles import bad_profiles
from test_fuzz_records import NAMES, apply_json, apply_npz, bad_records

PER_LOADER = 30
ROOT = Path(__file__).resolve().parents[2]


def _case_dir(base: Path, counter: list[int]) -> Path:
    counter[0] += 1
    d = base / f"case{counter[0]:03d}"
    d.mkdir()
    return d


def build_cases(loader: str, n: int, valid_files: dict, base: Path) -> list[tuple[Path, list[str], str]]:
    """``n`` bad inputs for ``loader`` written under ``base``: (folder, argv, file the message must name)."""
    cases: list[tuple[Path, list[str], str]] = []
    counter = [0]
    nir, record = str(valid_files["nir"]), str(valid_files["record"])

    def add(d: Path, argv: list[str], name: str) -> None:
        cases.append((d, argv, name))

    if loader == "inputs":
        @given(case=bad_inputs())
        @fuzz_settings(n)
        def gen(case):
            d = _case_dir(base, counter)
            (d / "x.npy").write_bytes(case[1](d / "marker"))
            add(d, ["simulate", nir, "--inputs", str(d / "x.npy"), "-o", str(d / "act")], "x.npy")
    elif loader == "idx":
        @given(case=bad_folders())
        @fuzz_settings(n)
        def gen(case):
            d = _case_dir(base, counter)
            files, split = case
            (d / "mnist").mkdir()
            for name, data in files.items():
                (d / "mnist" / name).write_bytes(data)
            add(d, ["simulate", nir, "--dataset", "mnist", "--data-dir", str(d / "mnist"), "--split", split,
                    "-o", str(d / "act")], str(d / "mnist"))
    elif loader == "checkpoint":
        payload = torch.load(valid_files["checkpoint"], weights_only=True)

        @given(case=bad_checkpoints())
        @fuzz_settings(n)
        def gen(case):
            d = _case_dir(base, counter)
            (d / "model.pt").write_bytes(case[1](payload, d / "marker"))
            add(d, ["convert", str(d / "model.pt"), "-o", str(d / "net.nir")], "model.pt")
    elif loader == "nir":
        @given(case=bad_nir())
        @fuzz_settings(n)
        def gen(case):
            d = _case_dir(base, counter)
            shutil.copy(nir, d / "net.nir")
            case[1](d / "net.nir")
            add(d, ["simulate", str(d / "net.nir"), "-o", str(d / "act"), "--samples", "2", "-T", "6"], "net.nir")
    elif loader == "records":
        meta = json.loads(Path(record).with_suffix(".json").read_text())
        with np.load(Path(record).with_suffix(".npz")) as z:
            arrays = {k: z[k] for k in z.files}

        @given(case=bad_records(NAMES))
        @fuzz_settings(n)
        def gen(case):
            d = _case_dir(base, counter)
            part, defect = case
            (d / "act.json").write_bytes(apply_json(meta, defect) if part == "json" else json.dumps(meta).encode())
            if part == "npz":
                (d / "act.npz").write_bytes(apply_npz(arrays, defect, d / "marker"))
            else:
                buf = io.BytesIO()
                np.savez_compressed(buf, **arrays)
                (d / "act.npz").write_bytes(buf.getvalue())
            add(d, ["report", str(d / "act"), "--profile", "loihi2", "-o", str(d / "report.md")], "act.")
    else:
        @given(text=bad_profiles())
        @fuzz_settings(n)
        def gen(text):
            d = _case_dir(base, counter)
            (d / "target.toml").write_bytes(text if isinstance(text, bytes) else text.encode())
            add(d, ["report", record, "--profile", str(d / "target.toml"), "-o", str(d / "report.md"),
                    "--json", str(d / "report.json"), "--draws", "200"], "target.toml")
    gen()
    return cases


def run_cli(case: tuple[Path, list[str], str]) -> tuple[Path, list[str], str, int, str]:
    d, argv, name = case
    before = sorted(p.name for p in d.iterdir())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "neurosim.cli", *argv], capture_output=True, text=True, env=env,
                          cwd=d, timeout=300)
    after = sorted(p.name for p in d.iterdir())
    return d, argv, name, proc.returncode, proc.stderr if before == after else proc.stderr + "\n<output written>"


LOADERS = ["inputs", "idx", "checkpoint", "nir", "records", "profiles"]


def check_loader(loader: str, n: int, valid_files, tmp_path) -> None:
    cases = build_cases(loader, n, valid_files, tmp_path)
    assert len(cases) >= min(n, 10)  # Hypothesis generated the inputs asked for
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run_cli, cases))
    command = cases[0][1][0]
    for d, argv, name, rc, stderr in results:
        lines = stderr.strip().splitlines()
        assert rc == 2 and len(lines) == 1, f"{argv}: exit {rc}, stderr:\n{stderr}"
        assert lines[0].startswith(f"neurosim {command}: error: ") and name in lines[0], lines[0]
        assert not (d / "marker").exists()
    STATS[f"CLI {loader}"]["inputs"] += len(results)


@pytest.mark.parametrize("loader", LOADERS)
def test_cli_bad_input_quick(loader, valid_files, tmp_path):
    check_loader(loader, 1, valid_files, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("loader", LOADERS)
def test_cli_bad_input_full(loader, valid_files, tmp_path):
    check_loader(loader, PER_LOADER, valid_files, tmp_path)


def test_unexpected_error_is_one_line_exit_1_and_debug_keeps_the_traceback(tmp_path):
    """A bug (not bad input) says so in one line, exit 1; --debug shows the traceback."""
    script = ("import sys, neurosim.commands.profiles as p\n"
              "def boom(args): raise ZeroDivisionError('a bug')\n"
              "orig = p.register\n"
              "def register(sub):\n"
              "    orig(sub)\n"
              "    sub.choices['profiles'].set_defaults(func=boom)\n"
              "p.register = register\n"
              "from neurosim.cli import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    plain = subprocess.run([sys.executable, "-c", script, "profiles"], capture_output=True, text=True, env=env,
                           cwd=tmp_path)
    assert plain.returncode == 1 and plain.stderr.strip().splitlines() == [
        "neurosim profiles: internal error (a bug in neurosim, please report it; --debug shows the traceback): "
        "ZeroDivisionError: a bug"]
    debug = subprocess.run([sys.executable, "-c", script, "--debug", "profiles"], capture_output=True, text=True,
                           env=env, cwd=tmp_path)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_warnings_of_a_failing_command_are_not_printed(tmp_path, capsys):
    """torch warns about the pickle protocol of a bad checkpoint: the error stays one line."""
    import pickle
    import warnings

    from neurosim.cli import main

    (tmp_path / "p4.pt").write_bytes(pickle.dumps({"state_dict": [1, 2]}, protocol=4))
    with pytest.warns(UserWarning, match="pickle protocol 4"):  # the precondition: torch does warn
        with pytest.raises(pickle.UnpicklingError):
            torch.load(tmp_path / "p4.pt", weights_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, category, *args, **kwargs: print(
            f"{category.__name__}: {message}", file=sys.stderr)  # as an interpreter outside pytest shows them
        rc = main(["convert", str(tmp_path / "p4.pt"), "-o", str(tmp_path / "n.nir")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("neurosim convert: error: "), err
    assert not (tmp_path / "n.nir").exists()
