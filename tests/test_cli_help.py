"""The command line explains itself: every option has a help line that shows its default, and
the commands do only what they say (profiles prints; it writes a file only when asked)."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from neurosim.cli import COMMANDS, build_parser, main

#: actions that are flags: absent means off, so the flag itself shows the default
FLAG_ACTIONS = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction,
                argparse._VersionAction, argparse._CountAction, argparse.BooleanOptionalAction)


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _help_text(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    return parser._get_formatter()._expand_help(action)


def option_problems(name: str, parser: argparse.ArgumentParser) -> list[str]:
    """Options of ``parser`` without a help line, or whose help does not show the default."""
    problems = []
    for action in parser._actions:
        label = f"{name} {'/'.join(action.option_strings) or action.dest}"
        if action.help == argparse.SUPPRESS:
            continue  # deliberately hidden
        if not (action.help or "").strip():
            problems.append(f"{label}: no help line")
            continue
        if not action.option_strings or action.required or isinstance(action, FLAG_ACTIONS):
            continue
        if "default" not in _help_text(parser, action):
            problems.append(f"{label}: help does not show the default ({action.default!r})")
    return problems


def test_every_subcommand_is_registered():
    assert set(_subparsers()) == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_has_help_and_shows_its_default(command):
    assert option_problems(command, _subparsers()[command]) == []


def test_the_walker_flags_a_missing_help_and_a_hidden_default():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default="reference")
    p.add_argument("--split", default="test", help="which samples")
    p.add_argument("--samples", type=int, help="first N (default: all)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    assert option_problems("x", p) == ["x --backend: no help line",
                                       "x --split: help does not show the default ('test')"]


def test_simulate_and_convert_options_named_by_users_show_defaults():
    parsers = _subparsers()
    helps = {(cmd, opt): _help_text(parsers[cmd], a) for cmd in ("simulate", "convert")
             for a in parsers[cmd]._actions for opt in a.option_strings}
    assert "default reference" in helps[("simulate", "--backend")]
    assert "default test" in helps[("simulate", "--split")]
    assert "the network's own" in helps[("simulate", "--dataset")]
    assert "default rate" in helps[("convert", "--coding")]
    assert "never clipped" in helps[("convert", "--payload-bits")]


def test_profiles_prints_and_writes_only_when_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["profiles", "--brief"]) == 0
    assert "loihi2" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    out = tmp_path / "listing.json"
    assert main(["profiles", "--format", "json", "-o", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == printed
    assert {p["name"] for p in printed} >= {"loihi2", "spinnaker2"}


def test_top_level_help_imports_no_subcommand_module():
    code = ("import sys\nfrom neurosim.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'numpy', 'neurosim.commands.train', 'neurosim.commands.simulate') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]")
    assert all(name in done.stdout for name in COMMANDS)
