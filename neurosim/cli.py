"""The ``neurosim`` command line: one subcommand per pipeline stage.

Each subcommand lives in ``neurosim/commands/<name>.py`` and exposes
``register(subparsers)`` (adds its parser and sets ``func``). Modules are imported
lazily so ``neurosim --help`` stays fast.

The boundary: errors a user can cause are :class:`~neurosim.errors.NeurosimError`, printed as
one line on stderr, exit status 2. Any other exception is a bug in neurosim: one line saying so,
exit status 1 (``neurosim --debug COMMAND ...`` keeps its traceback). Warnings raised while a
command runs (numpy, torch) are held back and shown only when the command succeeds, so bad
input never prints more than its one line.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from neurosim import __version__
from neurosim.errors import NeurosimError

#: subcommand name -> (module, one-line help). Order is the order of a user's day.
COMMANDS = {
    "train": ("neurosim.commands.train", "train dense and sparse autoencoders side by side"),
    "convert": ("neurosim.commands.convert", "convert a checkpoint into a spiking network (NIR)"),
    "simulate": ("neurosim.commands.simulate", "simulate a spiking network, write its activity record"),
    "report": ("neurosim.commands.report", "energy and latency report of an activity record on hardware profiles"),
    "profiles": ("neurosim.commands.profiles", "list hardware profiles and their sources"),
    "demo": ("neurosim.commands.demo", "run the whole pipeline on the embedded digits and write a report"),
    "sweep": ("neurosim.commands.sweep", "sweep weight sparsity x activity target on a Dask cluster"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurosim",
        description=(
            "Neuromorphic simulation toolkit: train dense and sparse autoencoders, convert "
            "them to spiking networks (NIR), simulate them (reference engine, Brian2, Lava) "
            "and estimate energy and latency on hardware profiles."
        ),
    )
    parser.add_argument("--version", action="version", version=f"neurosim {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an unexpected error (a bug) instead of one line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text, add_help=False)
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            sub.add_parser(name, help=help_text + " (not available yet)")
            continue
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    # without a known subcommand only the list of commands is needed: import none of their modules
    parser = build_parser(only=command if command in COMMANDS else "")
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0 if command is None else 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        # third-party import-time notices (e.g. networkx looking for pandas) are not the user's business
        for category in (ImportWarning, DeprecationWarning, PendingDeprecationWarning):
            warnings.simplefilter("ignore", category)
        try:
            result = args.func(args)
        except NeurosimError as exc:
            print(f"neurosim {args.command}: error: {one_line(exc)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"neurosim {args.command}: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:
            if args.debug:
                raise
            print(f"neurosim {args.command}: internal error (a bug in neurosim, please report it; "
                  f"--debug shows the traceback): {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
            return 1
    for w in caught:  # the command succeeded: its warnings are worth reading
        print(f"neurosim {args.command}: warning: {one_line(w.message)}", file=sys.stderr)
    return int(result or 0)


def one_line(exc: BaseException) -> str:
    """``str(exc)`` on one line (line breaks become spaces; an empty message becomes the type name)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 2000 else text[:1997] + "..."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
