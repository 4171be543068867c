"""Provenance of experiment outputs: which commit of the code produced them."""
from __future__ import annotations

import subprocess
from pathlib import Path

#: the repository root (where experiments/ and neurosim/ live in a checkout)
REPO_ROOT = Path(__file__).resolve().parents[1]


def git_commit(root: str | Path = REPO_ROOT, short: bool = True) -> str | None:
    """The checked-out commit of ``root``, or None outside a git checkout."""
    args = ["git", "rev-parse", "--short", "HEAD"] if short else ["git", "rev-parse", "HEAD"]
    try:
        return subprocess.run(args, cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
