"""Objects whose unpickling would create a marker file: what a hostile checkpoint or array file holds."""
from __future__ import annotations

from pathlib import Path


class CreatesMarker:
    """Unpickling this calls ``open(marker, 'w')``: the file appearing means code ran on load."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))
