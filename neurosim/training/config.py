"""The training run's configuration: :class:`TrainConfig`, its checks and its TOML file.

Every run writes its fully resolved configuration as ``config.toml`` beside its outputs
(:func:`write_config`); ``neurosim train --config RUN/config.toml`` reads it back
(:func:`read_config`) and reproduces the run. A config file is a flat TOML table whose keys are
the fields of :class:`TrainConfig`; keys left out keep their defaults::

    dataset = "digits"
    hidden = 1024
    epochs = 450
    lr = 0.02

An unknown key or a value of the wrong type is a :class:`ConfigError` naming the file and the key.
"""
from __future__ import annotations

import math
import tomllib
import typing
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from neurosim.errors import ConfigError, ValidationError
from neurosim.fileio import write_atomic
from neurosim.training.gating import check_fraction
from neurosim.training.pruning import SCOPES


@dataclass
class TrainConfig:
    """Everything that determines a training run (stored in checkpoints, metrics.json and config.toml).

    ``prune_begin`` and ``prune_end`` are fractions of the total number of optimizer steps.
    The defaults are the tuned digits settings (docs/training.md tells how they were chosen).
    """

    dataset: str = "digits"
    data_dir: str | None = None
    #: hidden units H of the dense and sparse models
    hidden: int = 1024
    epochs: int = 450
    batch_size: int = 64
    #: Adam learning rate of the sparse model (cosine decay to 0)
    lr: float = 2e-2
    #: Adam learning rate of the dense models (same-shape and iso-compute); None: same as lr
    dense_lr: float | None = 3e-3
    #: final fraction of pruned weights over both matrices
    weight_sparsity: float = 0.9
    #: target (and cap) of the mean fraction of active hidden units per input
    active_fraction: float = 0.1
    seed: int = 0
    prune_begin: float = 0.05
    prune_end: float = 0.5
    #: optimizer steps between two mask updates (Zhu & Gupta's Delta t)
    prune_frequency: int = 10
    #: 'unit' (every hidden unit keeps the same fan-in and fan-out), 'layer' or 'global'
    prune_scope: str = "unit"
    #: share of the surviving weights that goes to the encoder (equal-sized matrices)
    encoder_share: float = 0.25
    #: homeostatic controller gain (threshold step per unit rate error, in running std of z)
    gate_gain: float = 0.3
    #: the controller aims this fraction below active_fraction, so held-out inputs stay under it
    gate_margin: float = 0.03
    #: weight lambda of the per-input activity-spread penalty (neurosim.training.gating)
    activity_penalty: float = 30.0
    surrogate_temperature: float = 1.0
    #: decoupled weight decay (AdamW) of the sparse model's weights; 0 = plain Adam
    weight_decay: float = 0.0
    #: random shifts of up to this many pixels (all models, same shifted batches); 0 = none
    augment_shift: int = 1
    #: iso-compute ladder: candidate hidden sizes from low to high times the predicted size
    ladder_low: float = 0.6
    ladder_high: float = 1.8
    threads: int = 1
    max_train_samples: int | None = None
    max_test_samples: int | None = None

    def validate(self) -> "TrainConfig":
        """Raise :class:`ValidationError` on the first out-of-range value; return self."""
        if self.hidden < 1:
            raise ValidationError(f"--hidden must be a positive number of units, got {self.hidden}")
        if self.epochs < 1:
            raise ValidationError(f"--epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValidationError(f"--batch-size must be >= 1, got {self.batch_size}")
        for name, lr in (("--lr", self.lr), ("--dense-lr", self.dense_lr)):
            if lr is not None and not (lr > 0 and math.isfinite(lr)):
                raise ValidationError(f"{name} must be a positive number, got {lr}")
        if not 0.0 <= self.weight_sparsity < 1.0:
            raise ValidationError(f"--weight-sparsity must be in [0, 1), got {self.weight_sparsity}")
        check_fraction("--active-fraction", self.active_fraction)
        if not 0.0 <= self.prune_begin <= self.prune_end <= 1.0:
            raise ValidationError(f"pruning window must satisfy 0 <= begin <= end <= 1, got "
                                  f"{self.prune_begin}..{self.prune_end}")
        if self.prune_scope not in SCOPES:
            raise ValidationError(f"prune scope must be one of {', '.join(SCOPES)}, got {self.prune_scope!r}")
        if not 0.0 < self.encoder_share < 1.0:
            raise ValidationError(f"encoder share must be in (0, 1), got {self.encoder_share}")
        if not 0.0 <= self.gate_margin < 1.0:
            raise ValidationError(f"--gate-margin must be in [0, 1), got {self.gate_margin}")
        if self.activity_penalty < 0 or self.surrogate_temperature <= 0:
            raise ValidationError("activity penalty must be >= 0 and surrogate temperature > 0")
        if self.augment_shift < 0:
            raise ValidationError(f"augment shift must be >= 0 pixels, got {self.augment_shift}")
        if not 0 < self.ladder_low <= 1.0 <= self.ladder_high:
            raise ValidationError("ladder bounds must satisfy 0 < low <= 1 <= high")
        if self.threads < 1:
            raise ValidationError(f"threads must be >= 1, got {self.threads}")
        for name in ("max_train_samples", "max_test_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValidationError(f"{name} must be positive, got {value}")
        return self

    def resolved(self) -> "TrainConfig":
        """The same run with implicit values made explicit (``dense_lr=None`` -> ``lr``; the
        data folder as an absolute path), so that the config file alone reproduces it."""
        data_dir = str(Path(self.data_dir).resolve()) if self.data_dir is not None else None
        return replace(self, dense_lr=self.lr if self.dense_lr is None else self.dense_lr, data_dir=data_dir)


def _field_types() -> dict[str, tuple[type, bool]]:
    """Field name -> (value type, None allowed)."""
    hints = typing.get_type_hints(TrainConfig)
    out = {}
    for f in fields(TrainConfig):
        args = typing.get_args(hints[f.name])
        base = next(a for a in args if a is not type(None)) if args else hints[f.name]
        out[f.name] = (base, type(None) in args)
    return out


def _check_value(path: Path, key: str, value: Any, kind: type) -> Any:
    ok = (isinstance(value, str) if kind is str
          else isinstance(value, int) and not isinstance(value, bool) if kind is int
          else isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok:
        raise ConfigError(f"{path}: key {key!r} must be {kind.__name__}, got {type(value).__name__} {value!r}")
    return float(value) if kind is float else value


def config_from_mapping(values: dict[str, Any], path: str | Path = "<config>") -> dict[str, Any]:
    """Check a parsed config table: known keys, right types; return ``{field: value}``."""
    path = Path(path)
    types = _field_types()
    out = {}
    for key, value in values.items():
        if key not in types:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(types)})")
        out[key] = _check_value(path, key, value, types[key][0])
    return out


def read_config(path: str | Path, base: TrainConfig | None = None) -> TrainConfig:
    """Read a config file: ``base`` (default :class:`TrainConfig()`) with the file's keys applied.

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or a key is unknown or of the wrong type.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not a valid TOML file ({exc})") from None
    return replace(base or TrainConfig(), **config_from_mapping(table, path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else
                                                         ("inf" if value > 0 else "-inf"))
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    raise TypeError(f"no TOML form for {type(value).__name__}")


def config_toml(config: TrainConfig) -> str:
    """The resolved config as a flat TOML table (keys that are None are written as comments)."""
    lines = ["# neurosim train configuration; reproduce the run with: neurosim train --config config.toml --out DIR"]
    for key, value in asdict(config.resolved()).items():
        lines.append(f"# {key} is not set" if value is None else f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def write_config(config: TrainConfig, path: str | Path) -> Path:
    """Write :func:`config_toml` atomically to ``path``."""
    return write_atomic(path, config_toml(config))
