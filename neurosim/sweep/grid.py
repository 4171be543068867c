"""The sweep's grid and settings: :class:`SweepConfig`, its checks and its TOML file.

A sweep trains one sparse autoencoder per grid point (weight sparsity ``s`` x activity target
``a``), converts it, simulates it on the reference engine and estimates it on hardware
profiles. Everything that determines the results is in one flat TOML table, saved beside them
as ``sweep.toml`` (``neurosim sweep --config OUT/sweep.toml --out OUT2`` reruns the sweep)::

    weight_sparsity = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98]
    activity = [1.0, 0.5, 0.2, 0.1, 0.05, 0.02]
    coding = ["auto", "rate"]
    timesteps = [32]
    dataset = "digits"
    epochs = 150
    profiles = ["all"]

``coding`` chooses what the neuromorphic targets run: ``"auto"`` each target's own code
(graded spikes where the chip has them, else rate), ``"rate"`` / ``"graded"`` that code (graded
only on chips with graded spikes). Rate-coded runs repeat for every ``timesteps`` value. ANN
targets (GPU, CPU, wafer-scale, crossbars) always run the ANN.

A bad value is a :class:`~neurosim.errors.ConfigError` naming the file, the key and the problem.
"""
from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from neurosim.errors import ConfigError, NeurosimError
from neurosim.fileio import write_atomic

#: codings a sweep accepts
CODINGS = ("auto", "rate", "graded")

#: training settings a sweep passes to every point (fields of TrainConfig)
TRAIN_KEYS = ("hidden", "epochs", "batch_size", "lr", "dense_lr", "seed", "max_train_samples", "max_test_samples")


@dataclass(frozen=True)
class Point:
    """One grid point: the sparse model trained to weight sparsity ``s`` and activity target ``a``.

    ``a is None`` marks the dense reference (the side-by-side trainer's dense ReLU model).
    """

    weight_sparsity: float
    activity: float | None

    @property
    def key(self) -> str:
        """File-name key, e.g. ``s0.9000_a0.1000`` or ``dense``."""
        if self.activity is None:
            return "dense"
        return f"s{self.weight_sparsity:.4f}_a{self.activity:.4f}"

    @property
    def is_dense(self) -> bool:
        return self.activity is None


DENSE = Point(0.0, None)


@dataclass(frozen=True)
class SweepConfig:
    """Grid, data, training budget and estimate settings of a sweep.

    Attributes
    ----------
    weight_sparsity : tuple of float
        Final fractions of pruned weights, each in [0, 1).
    activity : tuple of float
        Target mean fractions of active hidden units per input, each in (0, 1].
    coding : tuple of str
        What the neuromorphic targets run (:data:`CODINGS`).
    timesteps : tuple of int
        Simulation steps ``T`` of the rate-coded runs (each lasting ``dt`` = 1 ms).
    dataset, data_dir : str
        'digits' (embedded) or 'mnist' with the folder of its IDX files.
    hidden, epochs, batch_size, lr, dense_lr, seed, max_train_samples, max_test_samples
        Training settings of every point (:class:`~neurosim.training.config.TrainConfig`).
    samples : int or None
        Held-out samples simulated per point (None: the whole test split).
    profiles : tuple of str
        Hardware profiles (bundled names or TOML paths; ``'all'``: every bundled one).
    draws : int
        Monte-Carlo draws of each profile's uncertain figures.
    batch_size_throughput : int
        GPU/CPU batch of the throughput mode.
    """

    weight_sparsity: tuple[float, ...] = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98)
    activity: tuple[float, ...] = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02)
    coding: tuple[str, ...] = ("auto", "rate")
    timesteps: tuple[int, ...] = (32,)
    dataset: str = "digits"
    data_dir: str | None = None
    #: 256 hidden units and 50 epochs, not a training run's 1024 and 450: 37 points fit in
    #: 30 minutes on 2 shared cores (docs/sweep.md)
    hidden: int = 256
    epochs: int = 50
    batch_size: int = 64
    lr: float = 2e-2
    dense_lr: float | None = 3e-3
    seed: int = 0
    max_train_samples: int | None = None
    max_test_samples: int | None = None
    samples: int | None = None
    profiles: tuple[str, ...] = ("all",)
    draws: int = 1000
    batch_size_throughput: int = 64
    #: not part of the results: where the config was read from (for messages)
    origin: str = field(default="<sweep settings>", compare=False)

    # ---------------------------------------------------------------- grid
    def points(self) -> list[Point]:
        """The dense reference, then every (weight sparsity, activity) pair in grid order."""
        return [DENSE] + [Point(float(s), float(a)) for s in self.weight_sparsity for a in self.activity]

    def train_settings(self, point: Point) -> dict[str, Any]:
        """TrainConfig fields of ``point``: the shared budget plus its two sparsity targets.

        The surviving-weight budget ``(1 - s) 2 d H`` goes ``encoder_share`` : rest to encoder :
        decoder (1 : 3 by default), but a matrix cannot be denser than full: below ``s = 0.5``
        the decoder is full and the encoder gets the rest, so the budget is always met and
        ``s = 0`` prunes nothing.
        """
        out = {k: getattr(self, k) for k in TRAIN_KEYS if getattr(self, k) is not None}
        # the iso-compute ladder (small_dense) is not used here: train only its 3 nearest sizes
        out.update(dataset=self.dataset, data_dir=self.data_dir, threads=1, ladder_low=1.0, ladder_high=1.0)
        if not point.is_dense:
            density = 1.0 - point.weight_sparsity
            share = 0.25 if density <= 0.5 else max(0.25, (2.0 * density - 1.0) / (2.0 * density))
            out.update(weight_sparsity=point.weight_sparsity, active_fraction=point.activity,
                       encoder_share=min(share, 0.5))
        return out

    def fingerprint(self) -> str:
        """Hash of every setting except the grid axes: points of two sweeps with the same
        fingerprint are interchangeable (a rerun may extend the grid, not change the budget)."""
        d = self.to_dict()
        for k in ("weight_sparsity", "activity"):
            d.pop(k)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("origin")
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    # ---------------------------------------------------------------- checks
    def validate(self) -> "SweepConfig":
        """Raise :class:`ConfigError` on the first bad value (naming the source and the key); return self."""
        where = self.origin

        def bad(key: str, problem: str) -> ConfigError:
            return ConfigError(f"{where}: {key}: {problem}")

        for key, lo_ok, hi_ok, lo, hi in (("weight_sparsity", True, False, 0.0, 1.0),
                                          ("activity", False, True, 0.0, 1.0)):
            values = getattr(self, key)
            if len(values) == 0:
                raise bad(key, "empty grid (give at least one value)")
            for v in values:
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                    raise bad(key, f"{v!r} is not a number")
                inside = (v >= lo if lo_ok else v > lo) and (v <= hi if hi_ok else v < hi)
                if not inside:
                    span = f"{'[' if lo_ok else '('}{lo:g}, {hi:g}{']' if hi_ok else ')'}"
                    raise bad(key, f"{v!r} is outside {span}")
            if len(set(values)) != len(values):
                raise bad(key, f"repeated value in {list(values)}")
        if not self.coding:
            raise bad("coding", f"empty (give one or more of {', '.join(CODINGS)})")
        for c in self.coding:
            if c not in CODINGS:
                raise bad("coding", f"unknown coding {c!r} (known: {', '.join(CODINGS)})")
        if not self.timesteps:
            raise bad("timesteps", "empty (give at least one number of steps)")
        for t in self.timesteps:
            if not isinstance(t, int) or isinstance(t, bool) or t < 3:
                raise bad("timesteps", f"{t!r} must be an integer >= 3 (the network's depth)")
        if self.dataset not in ("digits", "mnist"):
            raise bad("dataset", f"unknown dataset {self.dataset!r} (known: digits, mnist)")
        if self.dataset == "mnist" and not self.data_dir:
            raise bad("data_dir", "dataset 'mnist' needs the folder of its IDX files")
        for key in ("hidden", "epochs", "batch_size", "draws", "batch_size_throughput"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise bad(key, f"must be a positive integer, got {v!r}")
        for key in ("max_train_samples", "max_test_samples", "samples"):
            v = getattr(self, key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise bad(key, f"must be a positive integer, got {v!r}")
        for key in ("lr", "dense_lr"):
            v = getattr(self, key)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise bad(key, f"must be a positive number, got {v!r}")
        if not self.profiles:
            raise bad("profiles", "empty (give profile names, or 'all')")
        from neurosim.hardware.profile import load_profiles

        try:
            load_profiles(list(self.profiles))
        except NeurosimError as exc:
            raise bad("profiles", str(exc)) from None
        return self


def _table_value(path: str, key: str, value: Any, default: Any) -> Any:
    """Type-check one TOML value against the default of its field."""
    if isinstance(default, tuple):
        if not isinstance(value, list):
            value = [value]
        kind = type(default[0]) if default else float
        out = []
        for v in value:
            if kind is float and isinstance(v, int) and not isinstance(v, bool):
                v = float(v)
            if not isinstance(v, kind) or isinstance(v, bool):
                raise ConfigError(f"{path}: {key}: {v!r} must be {kind.__name__}")
            out.append(v)
        return tuple(out)
    if value is None or isinstance(value, bool):
        raise ConfigError(f"{path}: {key}: {value!r} is not a valid value")
    if isinstance(default, float) or key in ("lr", "dense_lr"):
        if not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: {key}: {value!r} must be a number")
        return float(value)
    if isinstance(default, int) or key in ("max_train_samples", "max_test_samples", "samples"):
        if not isinstance(value, int):
            raise ConfigError(f"{path}: {key}: {value!r} must be an integer")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key}: {value!r} must be a string")
    return value


def config_from_mapping(table: dict[str, Any], origin: str = "<sweep settings>",
                        base: SweepConfig | None = None) -> SweepConfig:
    """A :class:`SweepConfig` from a parsed table (unknown keys and wrong types refused), validated."""
    base = base or SweepConfig()
    known = {f.name: getattr(base, f.name) for f in fields(SweepConfig) if f.name != "origin"}
    values = {}
    for key, value in table.items():
        if value is None and key in known and known[key] is None:
            continue  # a setting left unset (a dict from to_dict)
        if key not in known:
            raise ConfigError(f"{origin}: unknown key {key!r} (known: {', '.join(known)})")
        values[key] = _table_value(origin, key, value, getattr(SweepConfig, key, known[key]))
    cfg = SweepConfig(**{**known, **values, "origin": origin})
    return cfg.validate()


def read_sweep_config(path: str | Path, overrides: dict[str, Any] | None = None) -> SweepConfig:
    """Read a sweep TOML file, apply ``overrides`` (flags given on the command line), validate."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the sweep config ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not a valid TOML file ({exc})") from None
    if table.get("data_dir") and not Path(table["data_dir"]).is_absolute():
        table["data_dir"] = str((path.parent / table["data_dir"]).resolve())
    return config_from_mapping({**table, **(overrides or {})}, str(path))


def _toml(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def config_toml(config: SweepConfig) -> str:
    """The sweep's settings as a flat TOML table (None values written as comments)."""
    lines = ["# neurosim sweep settings; rerun with: neurosim sweep --config sweep.toml --out DIR"]
    for key, value in config.to_dict().items():
        lines.append(f"# {key} is not set" if value is None else f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def write_sweep_config(config: SweepConfig, path: str | Path) -> Path:
    """Write :func:`config_toml` atomically."""
    return write_atomic(path, config_toml(config))
