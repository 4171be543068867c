"""What the demo's stages produced, in memory, for the report."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurosim.defaults import DT_S


@dataclass
class Stage:
    """One pipeline stage's outcome: ``status`` is 'ok', 'skipped' or 'failed'; ``seconds`` wall time."""

    name: str
    status: str
    note: str
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "note": self.note, "seconds": round(self.seconds, 2)}


@dataclass
class DemoContext:
    """Everything the stages produced.

    ``models``: model name -> trained torch autoencoder, ``configs`` its checkpoint's
    ``config``; ``networks`` and ``records``:
    ``(model, coding)`` -> spiking network / activity record of the reference engine;
    ``spike_trains``: model -> (examples, T, H) per-step hidden spikes of the rate-coded
    network for the test digits ``example_idx``; ``sweep``: one dict per (model, coding, T)
    of the fidelity sweep; ``agreement``: one dict per cross-checked (backend, network);
    ``estimates``: hardware estimates (dicts) with the record's ``coding`` and ``record_model``.
    ``dataset``/``data_dir``: where the data come from; ``subnetworks``: model ->
    :class:`~neurosim.analysis.subnetworks.Subnetworks`; ``ablation``: ``(model, engine)`` ->
    :class:`~neurosim.analysis.ablation.AblationResult`.
    """

    out: Path
    options: dict[str, Any]
    stages: list[Stage] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    models: dict[str, Any] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    test_x: np.ndarray | None = None
    test_y: np.ndarray | None = None
    image_shape: tuple[int, int] = (8, 8)
    dataset_note: str = ""
    networks: dict[tuple[str, str], Any] = field(default_factory=dict)
    records: dict[tuple[str, str], Any] = field(default_factory=dict)
    sweep: list[dict[str, Any]] = field(default_factory=list)
    spike_trains: dict[str, np.ndarray] = field(default_factory=dict)
    example_idx: np.ndarray | None = None
    agreement: list[dict[str, Any]] = field(default_factory=list)
    estimates: list[dict[str, Any]] = field(default_factory=list)
    dataset: str = "digits"
    data_dir: Path | None = None
    subnetworks: dict[str, Any] = field(default_factory=dict)
    ablation: dict[tuple[str, str], Any] = field(default_factory=dict)
    wall_time_s: float = 0.0
    rendered: list | None = None  # (ReportFigure, png bytes) once drawn
    numbers: dict[str, Any] = field(default_factory=dict)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def ok(self, name: str) -> bool:
        s = self.stage(name)
        return s is not None and s.status == "ok"

    @property
    def dt_s(self) -> float:
        """Time step of the spiking networks in seconds (1 ms when none was converted)."""
        return float(next(iter(self.networks.values())).dt_s) if self.networks else DT_S
