"""The pipeline stages as functions: what the CLI, the demo and notebooks all call.

::

    load_dataset(name, split, data_dir)           -> Dataset
    train(config)                                 -> TrainResult
    convert(checkpoint, coding=...)               -> ConversionResult   (network + what was decided)
    simulate(network, inputs=None, dataset=None,
             split=None, samples=None, timesteps=32,
             backend='reference', **options)      -> SimulationResult   (activity record)
    estimate(record, profiles='all')              -> Estimates          (energy, latency per profile)
    report(estimates, fmt='text')                 -> str

Provenance flows downstream: a converted network records the dataset, split and data folder
its model was trained and calibrated on (``network.metadata['dataset' | 'split' |
'data_dir']``); :func:`simulate` uses them when no dataset is named (on the held-out
``test`` split) and the activity record carries the dataset, split and data folder of the
samples it simulated (``record.info``). A name given explicitly always wins.

Defaults live in :mod:`neurosim.defaults`.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from neurosim import defaults
from neurosim.data import Dataset, load_dataset
from neurosim.errors import DataError, NeurosimError, ValidationError
from neurosim.results import ConversionResult, Estimates, SimulationResult

__all__ = ["load_dataset", "train", "convert", "simulate", "estimate", "report", "load_checkpoint",
           "load_network", "load_record", "load_profile", "load_estimates", "load_metrics", "load_config",
           "PipelineWarning", "describe_network"]


class PipelineWarning(UserWarning):
    """Something the user asked for was adjusted (e.g. more samples than a split holds)."""


# ------------------------------------------------------------------------------ train


def train(config: Any = None, *, out: str | Path | None = None, progress: bool = False, plots: bool = True,
          on_epoch: Any = None, **overrides: Any):
    """Train the dense, sparse and iso-compute autoencoders side by side.

    Parameters
    ----------
    config : TrainConfig, dict or path, optional
        :class:`neurosim.training.config.TrainConfig`, its fields as a dict, or a run's
        ``config.toml``; the defaults when None.
    out : path, optional
        Write checkpoints, ``metrics.json`` and plots there (``neurosim train --out``).
    progress : bool
        Show the progress bar on stderr.
    plots : bool
        With ``out``: also write the PNG figures.
    **overrides
        Fields of the config to replace (``epochs=20``, ``hidden=64``).

    Returns
    -------
    TrainResult
        ``models``, ``metrics`` (the content of ``metrics.json``), ``checkpoints``, ``config``.
    """
    from neurosim.training.config import TrainConfig
    from neurosim.training.loop import train as _train

    if config is None:
        config = TrainConfig()
    elif isinstance(config, dict):
        config, overrides = TrainConfig(), {**config, **overrides}
    elif isinstance(config, (str, Path)):
        config = load_config(config)
    if overrides:
        known = {f.name for f in fields(TrainConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValidationError(f"unknown training option {unknown[0]!r} (known: {', '.join(sorted(known))})")
        config = TrainConfig(**{**{f.name: getattr(config, f.name) for f in fields(config)}, **overrides})
    config.validate()
    result = _train(config, progress=progress, on_epoch=on_epoch)
    if out is not None:
        result.save(out, plots=plots)
    return result


# ------------------------------------------------------------------------------ convert


def run_provenance(checkpoint: str | Path) -> dict[str, Any]:
    """Dataset and data folder of the training run a checkpoint belongs to, from the run's
    ``config.toml`` beside it, else its ``metrics.json`` (``config``); empty without either.

    A relative data folder is looked up from the current folder, then from each folder above
    the run (where ``neurosim train`` was likely started), and returned absolute when found.
    """
    import tomllib

    run_dir = Path(checkpoint).resolve().parent
    cfg: Any = {}
    try:
        if (run_dir / "config.toml").is_file():
            cfg = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
        elif (run_dir / "metrics.json").is_file():
            cfg = json.loads((run_dir / "metrics.json").read_text()).get("config")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError, AttributeError, OSError):
        cfg = {}
    if not isinstance(cfg, dict):
        return {}
    out = {k: cfg[k] for k in ("dataset", "data_dir") if isinstance(cfg.get(k), str)}
    folder = Path(out.get("data_dir", ""))
    if out.get("data_dir") and not folder.is_absolute():
        found = next((base / folder for base in (Path.cwd(), *run_dir.parents) if (base / folder).is_dir()), None)
        if found is not None:
            out["data_dir"] = str(found.resolve())
    return out


def convert(checkpoint: str | Path, coding: str = defaults.CODING, *,
            percentile: float = defaults.CALIBRATION_PERCENTILE, calibration: int | None = None,
            dataset: str | None = None, data_dir: str | Path | None = None, layers: Sequence[str] | None = None,
            payload_bits: int = defaults.PAYLOAD_BITS, input_encoding: str | None = None,
            output_activation: str | None = None, v_init: float = defaults.V_INIT,
            dt_s: float = defaults.DT_S) -> ConversionResult:
    """Convert a checkpoint (neurosim's or a state dict of Linear layers) into a spiking network.

    Parameters
    ----------
    checkpoint : path
        ``.pt`` file (:mod:`neurosim.checkpoint`, or ``torch.save(model.state_dict())``).
    coding : {'rate', 'graded'}
        Rate: integrate-and-fire spike counts; graded: sigma-delta neurons with integer payloads.
    percentile : float
        Normalisation percentile of positive activations (Rueckauer et al. 2017), in (0, 100].
    calibration : int, optional
        Calibrate on this many training samples of ``dataset`` instead of the stored statistics.
    dataset, data_dir : optional
        The model's data: default the checkpoint's own (its config or its run's metrics.json).
    layers : list of str, optional
        Plain state dicts: the Linear layers in forward order.
    payload_bits : int
        Graded coding: bits per payload at the calibration percentile. Payloads above it are
        widened, never clipped (:attr:`ConversionResult.payload_bits_needed`).
    input_encoding, output_activation, v_init, dt_s
        See :func:`converters.ann_to_snn.convert`; ``dt_s`` in seconds.

    Returns
    -------
    ConversionResult
        ``network`` with provenance in its metadata, and its ``summary``.
    """
    from converters.ann_to_snn import convert_file

    run = run_provenance(checkpoint)
    if data_dir is None and run.get("data_dir") and dataset in (None, run.get("dataset")):
        data_dir = run["data_dir"]
    net, _ = convert_file(checkpoint, coding, layers=layers, output_activation=output_activation,
                          calibration=calibration, dataset=dataset, data_dir=data_dir, percentile=percentile,
                          payload_bits=payload_bits, input_encoding=input_encoding, v_init=v_init, dt_s=dt_s)
    return ConversionResult(net, describe_network(net))


def describe_network(net: Any, path: str | Path | None = None) -> dict[str, Any]:
    """Plain summary of a converted network (the ``NET.json`` written beside ``NET.nir``)."""
    s = net.summary()
    meta = net.metadata
    total = sum(l.get("synapses", 0) for l in s["layers"])
    nonzero = sum(l.get("nonzero_synapses", 0) for l in s["layers"])
    out = {"format": "neurosim.convert", "nir": None if path is None else str(path), "coding": meta.get("coding"),
           "model": meta.get("model"), "source": meta.get("source"), "shape": [l["size"] for l in s["layers"]],
           "synapses": total, "nonzero_synapses": nonzero, "weight_density": nonzero / total if total else None,
           "dataset": meta.get("dataset"), "split": meta.get("split"), "data_dir": meta.get("data_dir"), **s}
    if meta.get("coding") == "graded" and meta.get("max_payload_int"):
        q = max(meta["max_payload_int"])
        out["payloads"] = {"bits": meta.get("payload_bits"), "step": meta.get("payload_step"),
                           "policy": "widen", "max_calibration_payload_int": int(q),
                           "bits_needed": max(int(np.ceil(np.log2(q + 1))), 1)}
    return out


# ------------------------------------------------------------------------------ simulate


def load_network(path: str | Path, *, dt_s: float | None = None, input_encoding: str | None = None):
    """Read a NIR file (neurosim's or another tool's) into a :class:`~neurosim.network.SpikingNetwork`.

    ``dt_s`` (seconds) and ``input_encoding`` apply to graphs that state none (other tools').
    """
    from converters.nir_io import read_network

    if dt_s is not None and not (np.isfinite(dt_s) and dt_s > 0):
        raise ValidationError(f"dt must be a positive number of seconds, got {dt_s}")
    return read_network(path, dt_s=dt_s, input_encoding=input_encoding)


def _first(n_available: int, samples: int | None, what: str) -> int:
    """How many of ``n_available`` samples to take; warn once when ``samples`` asks for more."""
    if samples is None:
        return n_available
    if int(samples) <= 0:
        raise ValidationError(f"samples must be a positive number, got {samples}")
    if samples > n_available:
        warnings.warn(f"{samples} samples requested but {what} holds {n_available}: simulating all "
                      f"{n_available}", PipelineWarning, stacklevel=3)
    return min(int(samples), n_available)


def _samples(net: Any, inputs: Any, dataset: Any, split: str | None, samples: int | None,
             data_dir: str | Path | None, labels: Any, origin: str) -> tuple[np.ndarray, Any, dict[str, Any]]:
    """The samples to simulate, their labels and their provenance (for ``record.info``)."""
    meta = net.metadata
    width = net.input_size
    if inputs is not None:
        if dataset is not None:
            raise ValidationError("give either inputs or a dataset, not both")
        if isinstance(inputs, (str, Path)):
            from neurosim.inputs import load_inputs

            x = load_inputs(inputs, width)
            info = {"dataset": Path(inputs).name, "split": "inputs", "dataset_note": f"samples from {inputs}"}
        else:
            x = np.asarray(inputs, dtype=np.float64)
            if x.ndim != 2 or x.shape[1] != width or x.shape[0] == 0:
                raise ValidationError(f"{origin}: the network takes {width} inputs; inputs must have shape "
                                      f"(N, {width}), got {x.shape}")
            if not np.isfinite(x).all():
                raise ValidationError("inputs contain NaN or infinite values")
            info = {"dataset": "inputs", "split": "inputs", "dataset_note": "samples given as an array"}
        n = _first(len(x), samples, "the inputs")
        y = None if labels is None else np.asarray(labels)[:n]
        return x[:n], y, info
    own = meta.get("dataset")
    folder = None
    if isinstance(dataset, Dataset):
        data = dataset
        if split is not None and split != data.split:
            raise ValidationError(f"dataset {data.name!r} is its {data.split!r} split, but split={split!r} was given")
    else:
        name = dataset or own or defaults.DATASET
        recorded = meta.get("data_dir") if name == own else None
        folder = data_dir if data_dir is not None else recorded
        try:
            data = load_dataset(name, split or defaults.SPLIT, folder)
        except DataError as exc:
            if data_dir is None and recorded is not None:
                raise DataError(f"{exc} (the folder recorded in {origin}; give --data-dir DIR)") from None
            raise
    if data.num_features != width:
        if own and own != data.name:
            fix = f"drop --dataset to use the network's own {own!r}, or pass --dataset {own}"
        elif own:
            fix = "check --data-dir"
        else:
            fix = f"pick the --dataset whose samples have {width} features, or give --inputs X.npy of shape (N, {width})"
        raise ValidationError(f"{origin}: the network takes {width} inputs but {data.name} samples have "
                              f"{data.num_features} features ({fix})")
    n = _first(len(data), samples, f"{data.name} {data.split}")
    data = data.subset(n) if n < len(data) else data
    info = {"dataset": data.name, "split": data.split, "dataset_note": data.note,
            "data_dir": None if folder is None else str(Path(folder).resolve())}
    return data.x.astype(np.float64), data.y, {k: v for k, v in info.items() if v is not None}


def simulate(network: Any, inputs: Any = None, dataset: Any = None, split: str | None = None,
             samples: int | None = defaults.SAMPLES, timesteps: int = defaults.TIMESTEPS,
             backend: str = defaults.BACKEND, *, data_dir: str | Path | None = None, labels: Any = None,
             seed: int = 0, dt_s: float | None = None, input_encoding: str | None = None, progress: bool = False,
             **options: Any) -> SimulationResult:
    """Simulate a spiking network on samples and return what it measured.

    Parameters
    ----------
    network : SpikingNetwork, ConversionResult or path
        A network, a conversion's result, or a NIR file (neurosim's or another tool's).
    inputs : ndarray (N, d) or path to a ``.npy`` file, optional
        The samples; otherwise ``dataset`` gives them.
    dataset : str or Dataset, optional
        Dataset name ('digits' | 'mnist') or a loaded :class:`~neurosim.data.Dataset`.
        Default: the network's own (its metadata), else 'digits'.
    split : {'train', 'test', 'all'}, optional
        Default 'test' (held-out samples).
    samples : int, optional
        The first N samples (all when None; more than the split holds warns and takes all).
    timesteps : int
        Simulation steps ``T`` (at least the network depth); each step lasts ``dt_s`` seconds.
    backend : str
        'reference' | 'brian2' | 'lava' (:data:`neurosim.backends.BACKENDS`).
    data_dir : path, optional
        MNIST folder; default the folder the network records for its own dataset.
    labels : array (N,), optional
        Labels of ``inputs``.
    seed : int
        Seed of the stochastic (bernoulli) input encoding.
    dt_s, input_encoding : optional
        For NIR files from other tools: time step in seconds and input encoding.
    progress : bool
        Progress bar (reference backend).
    **options
        Backend options (``chunk_size``, ``target``, ...).

    Returns
    -------
    SimulationResult
        ``record`` (:class:`~neurosim.activity.ActivityRecord`) with ``info`` holding the
        samples' dataset, split and data folder, plus per-inference properties.
    """
    from converters.ann_to_snn import ann_macs
    from neurosim.backends import simulate as _simulate

    path = None
    if isinstance(network, ConversionResult):
        network = network.network
    if isinstance(network, (str, Path)):
        path = Path(network)
        network = load_network(path, dt_s=dt_s, input_encoding=input_encoding)
    elif input_encoding is not None:
        raise ValidationError("input_encoding applies to NIR files; set the input layer's encoding on a network object")
    elif dt_s is not None:
        if not (np.isfinite(dt_s) and dt_s > 0):
            raise ValidationError(f"dt must be a positive number of seconds, got {dt_s}")
        network = network.copy()
        network.dt_s = float(dt_s)
    origin = str(path) if path is not None else "network"
    defaults.check_timesteps(timesteps, len(network.layers))
    x, y, info = _samples(network, inputs, dataset, split, samples, data_dir, labels, origin)
    ann_outputs, ann_hidden, ann_source = ann_reference(network, x)
    opts = {"progress": True} if progress and backend == "reference" else {}
    opts.update(options)
    meta = network.metadata
    info.update({"network_file": None if path is None else str(path), "coding": meta.get("coding"),
                 "model": meta.get("model"), "source": meta.get("source"), "ann_source": ann_source,
                 "dt_source": meta.get("dt_source", "graph"), "input_encoding": network.layers[0].options["encoding"]})
    if ann_hidden is not None:
        info["ann_macs"] = ann_macs(network, x)
    record = _simulate(network, x, timesteps, backend=backend, seed=seed, labels=y, ann_outputs=ann_outputs,
                       info={k: v for k, v in info.items() if v is not None}, **opts)
    if ann_hidden is not None:
        record.info["fidelity"] = fidelity(record, ann_hidden)
    if path is not None:
        record.network["path"] = str(path)
    return SimulationResult(record, network)


def ann_reference(net: Any, x: np.ndarray) -> tuple[np.ndarray | None, list[np.ndarray] | None, str | None]:
    """The source ANN's reconstruction and hidden activations (network units) for a converted network.

    From the checkpoint when it is still there with the same SHA-256, else from the network's
    own weights, which reproduce the ANN exactly (``metadata['ann_equivalent']``).
    """
    from converters.ann_to_snn import ann_forward_from_network, file_sha256, load_ann

    if not net.metadata.get("ann_equivalent"):
        return None, None, None
    hidden, out = ann_forward_from_network(net, x)
    source = net.metadata.get("source")
    if source and Path(source).is_file() and file_sha256(source) == net.metadata.get("source_sha256"):
        ann = load_ann(source, layers=None if net.metadata.get("source_format") != "state_dict"
                       else net.metadata.get("ann_layers"), output_activation=net.metadata.get("output_activation"))
        _, out_ckpt = ann.forward(x)
        if np.allclose(out_ckpt, out, rtol=0, atol=1e-9):
            return out_ckpt, hidden, f"checkpoint {source}"
    return out, hidden, "network weights (ANN-equivalent)"


def fidelity(record: Any, ann_hidden: list[np.ndarray]) -> list[dict[str, Any]]:
    """Per hidden layer: active fractions of the SNN and the ANN and the rate/activation correlation."""
    out = []
    for layer, h in zip(record.layers[1:-1], ann_hidden):
        counts = layer.spike_counts
        rates = counts / max(layer.window, 1)
        entry = {"layer": layer.name, "snn_active_fraction": float((counts > 0).mean()),
                 "ann_active_fraction": float((h > 0).mean())}
        if layer.kind != "sigma_delta" and rates.std() > 0 and h.std() > 0:  # graded counts are not rates
            entry["rate_activation_correlation"] = float(np.corrcoef(rates.ravel(), h.ravel())[0, 1])
            mu_r, mu_h = rates.mean(axis=0), h.mean(axis=0)
            if mu_r.std() > 0 and mu_h.std() > 0:
                entry["unit_mean_correlation"] = float(np.corrcoef(mu_r, mu_h)[0, 1])
        out.append(entry)
    return out


# ------------------------------------------------------------------------------ estimate, report


def load_record(path: str | Path) -> SimulationResult:
    """Read an activity record (``NAME``, ``NAME.json`` or ``NAME.npz``) written by ``simulate``."""
    from neurosim.activity import load_record as _load

    return SimulationResult(_load(path))


def _records(record: Any) -> list[tuple[Any, str]]:
    if isinstance(record, (list, tuple)):
        return [pair for r in record for pair in _records(r)]
    if isinstance(record, (str, Path)):
        return [(load_record(record).record, str(record))]
    if isinstance(record, SimulationResult):
        return [(record.record, str(record.record.network.get("path", "")))]
    return [(record, "")]


def estimate(record: Any, profiles: Any = "all", *, strict: bool = False, source: str = "",
             **options: Any) -> Estimates:
    """Energy and latency per inference of one or more records on hardware profiles.

    Parameters
    ----------
    record : SimulationResult, ActivityRecord, path, or a list of them
    profiles : str, Profile or list
        Bundled names, TOML paths or loaded profiles; ``'all'`` for every bundled profile.
    strict : bool
        Raise :class:`~neurosim.errors.HardwareConstraintError` when a network does not fit.
    source : str
        Where the record came from, copied into each estimate (default: its path when known).
    **options
        Passed to :func:`neurosim.hardware.estimate.estimate`: ``batch_size`` (throughput mode
        on GPUs/CPUs), ``draws`` and ``seed`` (Monte-Carlo sampling of the profiles' figures).

    Returns
    -------
    Estimates
        One result of :func:`neurosim.hardware.estimate.estimate` per (record, profile),
        records outer, profiles inner.
    """
    from neurosim.hardware.estimate import estimate as _estimate
    from neurosim.hardware.profile import load_profiles
    from neurosim.hardware.workload import Workload

    loaded = load_profiles(profiles)
    out = []
    for rec, src in _records(record):
        wl = Workload.from_any(rec)  # once per record: its masks and per-step arrays serve every profile
        out.extend(_estimate(wl, prof, strict=strict, source=source or src, **options) for prof in loaded)
    return Estimates(out)


def report(estimates: Any, fmt: str = "text") -> str:
    """The report of ``estimates`` as text: ``fmt`` is 'text' | 'json' | 'md' | 'html'."""
    from neurosim.reporting.energy_report import format_report

    items = list(estimates.items if isinstance(estimates, Estimates) else estimates)
    return format_report(items, fmt)


# ------------------------------------------------------------------------------ loaders


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A neurosim autoencoder checkpoint (``dense.pt``, ``sparse.pt``, ...), validated."""
    from neurosim.checkpoint import load_checkpoint as _load

    return _load(path)


def load_profile(name_or_path: Any):
    """A hardware profile by bundled name (``'loihi2'``) or TOML path, validated."""
    from neurosim.hardware.profile import load_profile as _load

    return _load(name_or_path)


def load_estimates(path: str | Path) -> Estimates:
    """The JSON list of estimates ``neurosim report`` / ``simulate --profile`` write."""
    path = Path(path)
    if not path.is_file():
        raise NeurosimError(f"{path}: estimates file does not exist")
    try:
        items = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(items, list) or not all(isinstance(e, dict) and "profile" in e for e in items):
        raise ValidationError(f"{path}: not a list of estimates (each an object with a 'profile')")
    return Estimates(items)


def load_config(path: str | Path):
    """A training run's ``config.toml`` as a :class:`~neurosim.training.config.TrainConfig`
    (``neurosim.train(load_config(path))`` reruns it)."""
    from neurosim.training.config import read_config

    return read_config(path)


def load_metrics(path: str | Path) -> dict[str, Any]:
    """A training run's ``metrics.json`` (the run folder or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.json"
    if not path.is_file():
        raise DataError(f"{path}: training metrics file does not exist")
    try:
        metrics = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(metrics, dict):
        raise ValidationError(f"{path}: not a training metrics object")
    return metrics

