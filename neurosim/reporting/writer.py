"""The one writer of report files.

:func:`write_report` writes a rendered report (text, bytes, or a JSON-ready object) in one
atomic step through :mod:`neurosim.fileio`, so a reader never sees half a report.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from neurosim.errors import ValidationError
from neurosim.fileio import write_atomic, write_json


def write_report(path: str | Path, content: Any, *, max_bytes: int | None = None) -> Path:
    """Write ``content`` to ``path`` atomically; return the path.

    Parameters
    ----------
    path : path
        Target file; its folder must exist.
    content : str | bytes | dict | list
        Text (UTF-8), bytes as they are, or a JSON-ready object
        (:func:`neurosim.fileio.write_json`: numpy values and paths allowed).
    max_bytes : int, optional
        Refuse text or bytes larger than this many bytes
        (:class:`~neurosim.errors.ValidationError`, nothing written).
    """
    path = Path(path)
    if isinstance(content, (dict, list)):
        return write_json(content, path)
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not isinstance(content, (bytes, bytearray)):
        raise TypeError(f"cannot write {type(content).__name__} as a report")
    if max_bytes is not None and len(content) > max_bytes:
        raise ValidationError(f"{path}: {len(content) / 1e6:.1f} MB exceeds the {max_bytes / 1e6:.0f} MB report budget")
    return write_atomic(path, bytes(content))


__all__ = ["write_report"]
