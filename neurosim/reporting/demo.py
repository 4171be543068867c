"""The side-by-side demo: run every pipeline stage on the embedded digits and write a report.

:func:`run_demo` drives the stages through their public interfaces (the CLI subcommands'
functions for train / convert / report, :func:`neurosim.backends.simulate` for the
simulations) and :func:`write_report` turns what they wrote into

* ``DIR/report.html``: one self-contained file (figures embedded as base64 PNG, inline CSS,
  no script, nothing fetched from the network), meant to stay well under 10 MB;
* ``DIR/report.md`` with the same figures as PNG files in ``DIR/figures/``;
* ``DIR/report.json``: every number shown, the stage log and the figure list.

A stage whose code is not installed yet (a module missing from this checkout) is skipped
with a one-line note in the report; a stage that fails is reported with its one-line error
and the report is still written from what the other stages produced. Nothing downstream
re-derives what an upstream stage measured: ANN figures come from the checkpoints and
``metrics.json``, spiking figures from activity records, costs from the hardware report.

Directory layout written by ``neurosim demo --out DIR``::

    DIR/train/          dense.pt, sparse.pt, small_dense.pt, metrics.json, training plots
    DIR/nets/           {dense,sparse}_{rate,graded}.nir
    DIR/activity/       {dense,sparse}_{rate,graded}.json/.npz (reference engine, T = --timesteps)
    DIR/hardware/       {dense,sparse}.json (estimates on every profile)
    DIR/figures/        the report's PNGs
    DIR/report.html, DIR/report.md, DIR/report.json
"""
from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import html
import importlib.util
import io
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from neurosim import __version__
from neurosim.errors import NeurosimError
from neurosim.fileio import json_default, write_atomic

log = logging.getLogger(__name__)

MODELS = ("dense", "sparse", "small_dense")
SNN_MODELS = ("dense", "sparse")
CODINGS = ("rate", "graded")
SWEEP_TIMESTEPS = (8, 16, 32, 64, 128, 256)
CROSS_CHECK_BACKENDS = ("brian2", "lava")
MAX_REPORT_BYTES = 10 * 1024 * 1024
#: figures with fine detail are drawn sharper (the rest at 100 dpi)
FIGURE_DPI = {"activity_rasters": 130, "subnetworks": 120, "class_unit_map": 120}


# --------------------------------------------------------------------------- data classes


@dataclass
class Stage:
    """One pipeline stage's outcome: ``status`` is 'ok', 'skipped' or 'failed'."""

    name: str
    status: str
    note: str
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "note": self.note, "seconds": round(self.seconds, 2)}


@dataclass
class ModelView:
    """An autoencoder checkpoint as numpy arrays, with the contract's forward pass.

    ``h = relu(x @ W_enc.T + b_enc - theta)`` and ``y = sigmoid(h @ W_dec.T + b_dec)``
    (see :mod:`neurosim.checkpoint`); pruned weights are exact zeros.
    """

    name: str
    w_enc: np.ndarray  # (H, d)
    b_enc: np.ndarray
    w_dec: np.ndarray  # (d, H)
    b_dec: np.ndarray
    theta: np.ndarray
    config: dict[str, Any]
    masks: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_checkpoint(cls, payload: dict[str, Any], name: str | None = None) -> "ModelView":
        sd = {k: v.detach().cpu().numpy().astype(np.float64) for k, v in payload["state_dict"].items()}
        h = sd["encoder.weight"].shape[0]
        masks = None
        if payload.get("masks"):
            m = payload["masks"]
            masks = (m["encoder.weight"].cpu().numpy().astype(bool), m["decoder.weight"].cpu().numpy().astype(bool))
        return cls(name or payload.get("model", "model"), sd["encoder.weight"], sd["encoder.bias"],
                   sd["decoder.weight"], sd["decoder.bias"], sd.get("gate.threshold", np.zeros(h)),
                   dict(payload.get("config", {})), masks)

    @property
    def hidden(self) -> int:
        return int(self.w_enc.shape[0])

    def hidden_activations(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(np.asarray(x, dtype=np.float64) @ self.w_enc.T + self.b_enc - self.theta, 0.0)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.hidden_activations(x) @ self.w_dec.T + self.b_dec)))

    def surviving(self) -> tuple[np.ndarray, np.ndarray]:
        if self.masks is not None:
            return self.masks[0] & (self.w_enc != 0), self.masks[1] & (self.w_dec != 0)
        return self.w_enc != 0, self.w_dec != 0


@dataclass
class DemoContext:
    """Everything the stages produced, in memory, for the report."""

    out: Path
    options: dict[str, Any]
    stages: list[Stage] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    models: dict[str, ModelView] = field(default_factory=dict)
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
    wall_time_s: float = 0.0
    rendered: list | None = None  # (ReportFigure, png bytes) once drawn
    numbers: dict[str, Any] = field(default_factory=dict)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def ok(self, name: str) -> bool:
        s = self.stage(name)
        return s is not None and s.status == "ok"


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class _StageRunner:
    """Run a stage, time it, and turn a missing module or an error into a one-line note."""

    def __init__(self, ctx: DemoContext, say: Callable[[str], None]):
        self.ctx, self.say = ctx, say

    def __call__(self, name: str, needs: Sequence[str], what: str, fn: Callable[[], str | None]) -> bool:
        missing = [m for m in needs if not _have(m)]
        if missing:
            note = f"skipped: {what} is not in this install yet ({', '.join(missing)} missing)"
            self.ctx.stages.append(Stage(name, "skipped", note))
            self.say(f"[{name}] {note}")
            return False
        start = time.perf_counter()
        try:
            note = fn() or "done"
            status = "ok"
        except _Skip as exc:
            status, note = "skipped", f"skipped: {exc}"
        except NeurosimError as exc:
            status, note = "failed", f"failed: {exc}"
        except Exception as exc:  # a stage's bug must not cost the user the rest of the report
            log.exception("demo stage %s failed", name)
            status, note = "failed", f"failed: {_one_line(exc)}"
        seconds = time.perf_counter() - start
        self.ctx.stages.append(Stage(name, status, note, seconds))
        self.say(f"[{name}] {note} ({seconds:.1f} s)")
        return status == "ok"


class _Skip(Exception):
    """Raised inside a stage to skip it with a note."""


def _run_cli(argv: list[str], quiet: bool = True) -> None:
    """Run one ``neurosim`` subcommand in-process; raise its NeurosimError or a one-line error."""
    from neurosim.cli import build_parser

    parser = build_parser(only=argv[0])
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        raise NeurosimError(f"`neurosim {' '.join(argv)}` rejected its arguments (exit {exc.code})") from None
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        rc = args.func(args)
    if rc not in (None, 0):
        raise NeurosimError(f"`neurosim {argv[0]}` exited with status {rc}")


# --------------------------------------------------------------------------- the pipeline


def run_demo(out: str | Path, *, epochs: int | None = None, hidden: int | None = None, samples: int | None = None,
             timesteps: int = 32, sweep: Sequence[int] = SWEEP_TIMESTEPS, cross_check_samples: int = 10,
             cross_check_timesteps: int = 32, seed: int = 0, profiles: Sequence[str] = ("all",),
             train_extra: Sequence[str] = (), run: str | Path | None = None, on_epoch: Callable | None = None,
             say: Callable[[str], None] = print) -> DemoContext:
    """Run the whole pipeline into ``out`` and write the report; return the context.

    Parameters
    ----------
    out : path
        Output directory (created).
    epochs, hidden : int, optional
        Passed to ``neurosim train`` (its defaults when None).
    samples : int, optional
        Number of held-out test digits simulated (all 360 when None).
    timesteps : int
        ``T`` of the main simulations (steps of the network's ``dt_s`` seconds).
    sweep : sequence of int
        Timesteps of the conversion-fidelity sweep (both codings, dense and sparse).
    cross_check_samples, cross_check_timesteps : int
        Subset simulated on Brian2 and Lava and compared with the reference engine
        (0 samples skips the cross-check).
    run : path, optional
        A finished ``neurosim train`` output directory to reuse instead of training.
    on_epoch : callable, optional
        Per-epoch hook passed to the training loop (the live view).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    ctx = DemoContext(out, dict(epochs=epochs, hidden=hidden, samples=samples, timesteps=timesteps,
                                sweep=list(sweep), cross_check_samples=cross_check_samples,
                                cross_check_timesteps=cross_check_timesteps, seed=seed))
    stage = _StageRunner(ctx, say)
    run_dir = Path(run) if run is not None else out / "train"

    def train() -> str:
        if run is not None:
            _load_training(ctx, run_dir)
            if not ctx.models:
                raise NeurosimError(f"{run_dir}: no dense.pt / sparse.pt checkpoints to reuse")
            return f"reused the trained models in {run_dir}"
        argv = ["train", "--dataset", "digits", "--out", str(run_dir), "--seed", str(seed)]
        if epochs is not None:
            argv += ["--epochs", str(epochs)]
        if hidden is not None:
            argv += ["--hidden", str(hidden)]
        _run_cli(argv + list(train_extra), quiet=False)
        _load_training(ctx, run_dir)
        m = ctx.metrics or {}
        parts = [f"{k}: test MSE {m[k]['test_mse']:.4f}" for k in MODELS if k in m and "test_mse" in m[k]]
        return "trained " + ", ".join(parts)

    stage("train", [] if run is not None else ["neurosim.commands.train", "neurosim.training.loop"],
          "training (issue 2)", train)
    _load_test_set(ctx, samples)

    def convert() -> str:
        if not ctx.models:
            raise _Skip("no trained checkpoints to convert")
        from converters.ann_to_snn import convert_file
        from converters.nir_io import read_network, write_network

        nets = out / "nets"
        nets.mkdir(exist_ok=True)
        for model in SNN_MODELS:
            if model not in ctx.models:
                continue
            for coding in CODINGS:
                path = nets / f"{model}_{coding}.nir"
                net, _ = convert_file(run_dir / f"{model}.pt", coding)
                write_network(net, path)
                # simulate what a user would: the network as read back from its NIR file
                ctx.networks[(model, coding)] = read_network(path)
        return f"converted {len(ctx.networks)} networks (dense and sparse x rate and graded coding) to NIR"

    stage("convert", ["converters.ann_to_snn", "converters.nir_io"], "ANN-to-SNN conversion (issue 3)", convert)

    def simulate_stage() -> str:
        if not ctx.networks:
            raise _Skip("no converted networks to simulate")
        _simulate_all(ctx, timesteps, sweep, say)
        return (f"reference engine: {len(ctx.records)} records at T={timesteps} on {len(ctx.test_x)} test digits, "
                f"{len(ctx.sweep)} sweep points, spike rasters of {len(ctx.example_idx)} examples")

    stage("simulate", ["neurosim.backends.reference"], "the reference engine (issue 3)", simulate_stage)

    def cross_check() -> str:
        if not ctx.networks:
            raise _Skip("no converted networks to cross-check")
        if cross_check_samples <= 0:
            raise _Skip("cross-check turned off (--cross-check-samples 0)")
        return _cross_check(ctx, cross_check_samples, cross_check_timesteps, say)

    stage("cross-check", ["neurosim.backends.reference"], "the reference engine (issue 3)", cross_check)

    def estimate() -> str:
        if not ctx.records:
            raise _Skip("no activity records to estimate")
        return _estimate(ctx, profiles)

    stage("estimate", ["neurosim.hardware.estimate", "neurosim.hardware.profile"],
          "hardware profiles and cost models (issue 5)", estimate)

    ctx.wall_time_s = time.perf_counter() - start
    stage("report", [], "the report", lambda: write_report(ctx))
    ctx.wall_time_s = time.perf_counter() - start
    # the report's own stage line is known only now: rewrite the HTML/MD/JSON (figures are kept)
    if ctx.ok("report"):
        write_report(ctx)
    return ctx


def _load_training(ctx: DemoContext, run_dir: Path) -> None:
    from neurosim.checkpoint import load_checkpoint

    metrics_path = run_dir / "metrics.json"
    if metrics_path.is_file():
        ctx.metrics = json.loads(metrics_path.read_text())
    for model in MODELS:
        path = run_dir / f"{model}.pt"
        if path.is_file():
            ctx.models[model] = ModelView.from_checkpoint(load_checkpoint(path), model)
    if "sparse" in ctx.models:
        shape = ctx.models["sparse"].config.get("image_shape")
        if shape:
            ctx.image_shape = tuple(int(v) for v in shape)


def _load_test_set(ctx: DemoContext, samples: int | None) -> None:
    from neurosim.data import load_dataset

    test = load_dataset("digits", "test")
    if samples is not None:
        # keep classes balanced in small subsets: interleave the classes
        order = np.lexsort((np.arange(len(test.y)), _rank_within_class(test.y)))
        idx = np.sort(order[:samples])
        ctx.test_x, ctx.test_y = test.x[idx].astype(np.float64), test.y[idx]
    else:
        ctx.test_x, ctx.test_y = test.x.astype(np.float64), test.y
    ctx.image_shape = tuple(test.image_shape)
    ctx.dataset_note = test.note + (f"; {len(ctx.test_x)} test digits simulated" if samples else "")
    # one example per digit: the first of each class in the (sub)set
    ctx.example_idx = np.array([int(np.flatnonzero(ctx.test_y == c)[0]) for c in range(10)
                                if np.any(ctx.test_y == c)])


def _rank_within_class(y: np.ndarray) -> np.ndarray:
    rank = np.zeros(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rank[idx] = np.arange(len(idx))
    return rank


def _simulate_all(ctx: DemoContext, timesteps: int, sweep: Sequence[int], say) -> None:
    from neurosim.backends import simulate

    from neurosim.reporting.figures import record_spikes

    act_dir = ctx.out / "activity"
    act_dir.mkdir(exist_ok=True)
    x, y = ctx.test_x, ctx.test_y
    for (model, coding), net in ctx.networks.items():
        ann = ctx.models[model].reconstruct(x) if model in ctx.models else None
        rec = simulate(net, x, timesteps, backend="reference", labels=y, ann_outputs=ann,
                       info={"dataset": "digits", "coding": coding, "model": model, "split": "test"})
        rec.save(act_dir / f"{model}_{coding}")
        ctx.records[(model, coding)] = rec
        for t in sweep:
            r = rec if int(t) == int(timesteps) else simulate(net, x, int(t), backend="reference", ann_outputs=ann)
            ctx.sweep.append({"model": model, "coding": coding, "timesteps": int(t), "mse_vs_input": r.mse_vs_input,
                              "mse_vs_ann": r.mse_vs_ann, "synaptic_ops_per_inference": r.synaptic_ops / r.num_samples,
                              "spikes_per_inference": r.total_spikes / r.num_samples})
    examples = x[ctx.example_idx]
    for model in SNN_MODELS:
        net = ctx.networks.get((model, "rate"))
        if net is not None:
            trains = record_spikes(net, examples, timesteps)
            ctx.spike_trains[model] = trains[1]


def _cross_check(ctx: DemoContext, n: int, timesteps: int, say) -> str:
    from neurosim.backends import get_backend, simulate

    x = ctx.test_x[:n]
    notes = []
    for backend in CROSS_CHECK_BACKENDS:
        try:
            get_backend(backend)
            problem = None
        except ModuleNotFoundError as exc:
            problem = f"backend {backend!r} is not in this install yet ({exc.name} missing)"
        except NeurosimError as exc:
            problem = str(exc)
        for model, coding in (("sparse", "rate"), ("sparse", "graded")):
            net = ctx.networks.get((model, coding))
            if net is None:
                continue
            entry: dict[str, Any] = {"backend": backend, "model": model, "coding": coding, "samples": int(len(x)),
                                     "timesteps": int(timesteps), "diff": None}
            if problem:
                entry["note"] = problem
                ctx.agreement.append(entry)
                continue
            try:
                ref = simulate(net, x, timesteps, backend="reference")
                other = simulate(net, x, timesteps, backend=backend)
            except NeurosimError as exc:
                entry["note"] = str(exc)
                ctx.agreement.append(entry)
                continue
            spiking = [(r, o) for r, o in zip(ref.layers, other.layers) if r.kind != "readout"]
            c_ref = np.concatenate([r.spike_counts.astype(np.int64).ravel() for r, _ in spiking])
            c_other = np.concatenate([o.spike_counts.astype(np.int64).ravel() for _, o in spiking])
            diff = c_other - c_ref
            entry.update(diff=diff, counts_reference=c_ref, counts_backend=c_other, identical_fraction=float(np.mean(diff == 0)),
                         max_abs_diff=int(np.abs(diff).max()) if diff.size else 0,
                         synops_reference=ref.synaptic_ops, synops_backend=other.synaptic_ops,
                         synops_rel_diff=(other.synaptic_ops - ref.synaptic_ops) / max(ref.synaptic_ops, 1),
                         wall_time_reference_s=ref.wall_time_s, wall_time_backend_s=other.wall_time_s,
                         mse_vs_input_reference=ref.mse_vs_input, mse_vs_input_backend=other.mse_vs_input)
            ctx.agreement.append(entry)
        ran = [e for e in ctx.agreement if e["backend"] == backend and e["diff"] is not None]
        if ran:
            worst = min(e["identical_fraction"] for e in ran)
            notes.append(f"{backend}: >= {worst * 100:.2f}% identical spike counts")
        else:
            notes.append(f"{backend}: not run ({problem or 'see report'})")
    if not any(e["diff"] is not None for e in ctx.agreement):
        raise _Skip("; ".join(notes))
    return "; ".join(notes)


def _estimate(ctx: DemoContext, profiles: Sequence[str]) -> str:
    from neurosim.hardware.estimate import estimate
    from neurosim.hardware.profile import available_profiles

    names = list(available_profiles()) if list(profiles) == ["all"] else list(profiles)
    hw = ctx.out / "hardware"
    hw.mkdir(exist_ok=True)
    for (model, coding), rec in sorted(ctx.records.items()):
        source = str(ctx.out / "activity" / f"{model}_{coding}.json")
        for name in names:
            e = estimate(rec, name, source=source)
            e["coding"] = coding
            e["record_model"] = model
            ctx.estimates.append(e)
    (hw / "estimates.json").write_text(json.dumps(ctx.estimates, indent=2, default=json_default))
    return f"{len(ctx.estimates)} estimates: {len(ctx.records)} activity records x {len(names)} profiles"


# --------------------------------------------------------------------------- figures


def build_figures(ctx: DemoContext) -> tuple[list, dict[str, Any]]:
    """Make every figure the context supports; return (figures, numbers for report.json)."""
    from neurosim.reporting import figures as F

    figs: list = []
    numbers: dict[str, Any] = {}
    m = ctx.metrics or {}
    x, y = ctx.test_x, ctx.test_y
    classes = list(range(10))
    # ---- training
    hist = {k: m[k].get("history") for k in MODELS if isinstance(m.get(k), dict) and m[k].get("history")}
    hist = {k: v for k, v in hist.items() if isinstance(v, dict)}
    if hist:
        figs.append(F.training_curves(hist))
    if ctx.models and x is not None:
        ex = x[ctx.example_idx]
        outs = {k: ctx.models[k].reconstruct(ex) for k in MODELS if k in ctx.models}
        mse = {k: float(np.mean((ctx.models[k].reconstruct(x) - x) ** 2)) for k in outs}
        figs.append(F.reconstructions(ex, outs, ctx.image_shape, y[ctx.example_idx], mse))
        numbers["ann_test_mse"] = mse
    # ---- subnetworks and activity
    hidden = {k: ctx.models[k].hidden_activations(x) for k in SNN_MODELS if k in ctx.models}
    freqs = {k: F.firing_frequency(h > 0, y, classes) for k, h in hidden.items()}
    orders = {k: F.unit_order(f) for k, f in freqs.items()}
    if hidden:
        ex = x[ctx.example_idx]
        figs.append(F.activity_rasters(
            ex, y[ctx.example_idx], ctx.image_shape, {k: ctx.spike_trains.get(k) for k in hidden},
            {k: hidden[k][ctx.example_idx] for k in hidden}, {k: orders[k] for k in hidden},
            dt_s=_dt_s(ctx), coding="rate"))
        figs.append(F.class_unit_map(freqs, orders, classes))
        sets = {k: [list(np.flatnonzero(freqs[k][c] > 0.5)) for c in classes] for k in freqs}
        jac = {k: F.jaccard_matrix(s) for k, s in sets.items()}
        figs.append(F.jaccard_figure(jac, classes))
        numbers["subnetworks"] = {k: {"active_units_per_class": {str(c): [int(j) for j in sets[k][c]] for c in classes},
                                      "mean_jaccard": F.mean_offdiag(jac[k]),
                                      "jaccard": np.round(jac[k], 4).tolist()} for k in sets}
        if "sparse" in ctx.models:
            mv = ctx.models["sparse"]
            hs = hidden["sparse"]
            strength = {c: hs[y == c].mean(axis=0) for c in classes}
            means = {c: x[y == c].mean(axis=0) for c in classes}
            figs.append(F.subnetwork_gallery(mv.w_enc, mv.w_dec, mv.b_dec, dict(enumerate(sets["sparse"])),
                                             strength, means, ctx.image_shape, mv.surviving()))
    if ctx.models:
        dens = {}
        for k in MODELS:
            if k in ctx.models:
                enc, dec = ctx.models[k].surviving()
                dens[k] = {"encoder": float(enc.mean()), "decoder": float(dec.mean())}
        numbers["weight_density_per_layer"] = dens
        if "sparse" in ctx.models:
            enc, dec = ctx.models["sparse"].surviving()
            layers = {"encoder (input → hidden)": {"mask": enc.T, "ylabel": "input pixel (row-major index)"},
                      "decoder (hidden → output)": {"mask": dec, "ylabel": "output pixel (row-major index)"}}
            figs.append(F.weight_masks(layers, dens, orders.get("sparse", (None,))[0], ctx.image_shape))
    if hidden:
        series: dict[str, np.ndarray] = {}
        for k in SNN_MODELS:
            if k in hidden:
                series[f"{k} ANN"] = np.array([(hidden[k][y == c] > 0).mean() for c in classes])
            rec = ctx.records.get((k, "rate"))
            if rec is not None and len(rec.layers) > 1:
                counts = rec.layers[1].spike_counts
                ry = rec.labels if rec.labels is not None else y
                series[f"{k} SNN ({ctx.options.get('timesteps')} steps, rate)"] = np.array(
                    [(counts[ry == c] > 0).mean() for c in classes])
        target = None
        if "sparse" in ctx.models:
            target = ctx.models["sparse"].config.get("active_fraction")
        figs.append(F.activation_density(classes, series, target))
        numbers["activation_density_per_class"] = {k: np.round(v, 4).tolist() for k, v in series.items()}
    # ---- conversion
    if ctx.sweep:
        ann_mse = {k: numbers.get("ann_test_mse", {}).get(k) for k in SNN_MODELS}
        ann_macs = {k: (m.get(k) or {}).get("macs_per_inference") for k in SNN_MODELS}
        figs.append(F.fidelity_vs_timesteps(ctx.sweep, ann_mse, ann_macs))
        numbers["fidelity_sweep"] = ctx.sweep
    if ctx.agreement:
        figs.append(F.backend_agreement(ctx.agreement))
        numbers["backend_agreement"] = [{k: v for k, v in e.items() if not isinstance(v, np.ndarray)}
                                        for e in ctx.agreement]
    # ---- hardware
    rows = hardware_rows(ctx.estimates)
    if rows:
        figs.append(F.energy_latency(rows))
        numbers["hardware"] = [{k: v for k, v in r.items() if k != "raw"} for r in rows]
    return figs, numbers


def _dt_s(ctx: DemoContext) -> float:
    for net in ctx.networks.values():
        return float(getattr(net, "dt_s", 1e-3))
    return 1e-3


def _range(value: Any) -> dict[str, float] | None:
    if isinstance(value, dict) and "typical" in value:
        t = float(value["typical"])
        return {"low": float(value.get("low", t)), "typical": t, "high": float(value.get("high", t))}
    if isinstance(value, (int, float)):
        return {"low": float(value), "typical": float(value), "high": float(value)}
    return None


def hardware_rows(estimates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (profile, model) from the hardware estimates.

    Each target is shown with one coding for both models, so that dense and sparse compare
    like with like: ``graded`` where both graded networks fit the target (it is the coding
    whose synaptic operations track the ANN's MACs), else ``rate``. Targets that run the ANN
    (``runs == 'ann'``) get the same ANN figures from either record. ``ops`` is what the
    target executes: synaptic operations on neuromorphic targets, MACs elsewhere.
    """
    def row(e: dict[str, Any]) -> dict[str, Any] | None:
        energy, latency = _range(e.get("energy_per_inference_j")), _range(e.get("latency_per_inference_s"))
        if energy is None or latency is None:
            return None
        runs = e.get("runs") or ("ann" if e.get("macs_per_inference") is not None else "snn")
        ops = e.get("macs_per_inference") if runs == "ann" else e.get("synaptic_ops_per_inference")
        model = str(e.get("record_model") or e.get("model"))
        model = "sparse" if "sparse" in model else "dense" if "dense" in model else model
        return {"profile": str(e.get("profile")), "model": model, "coding": e.get("coding"), "runs": runs,
                "fits": bool(e.get("fits", True)), "energy": energy, "latency": latency,
                "ops": float(ops) if ops is not None else None,
                "ops_kind": "MACs" if runs == "ann" else "synaptic ops",
                "kind": e.get("kind") or _guess_kind(str(e.get("profile"))), "breakdown": e.get("breakdown"),
                "extra": e.get("extra") if isinstance(e.get("extra"), dict) else {},
                "timesteps": e.get("timesteps"), "title": e.get("profile_title")}

    rows = [r for r in (row(e) for e in estimates) if r is not None]
    out = []
    for profile in dict.fromkeys(r["profile"] for r in rows):
        mine = [r for r in rows if r["profile"] == profile]
        graded = [r for r in mine if r["coding"] == "graded"]
        use = "graded" if graded and all(r["fits"] for r in graded) else "rate"
        chosen = [r for r in mine if r["coding"] == use] or mine
        seen = set()
        for r in chosen:
            if r["model"] in seen:
                continue
            seen.add(r["model"])
            r["label"] = (f"{profile} (SNN, {r['coding']}" + (f", T={r['timesteps']})" if r["coding"] == "rate" else ")")
                          if r["runs"] == "snn" else f"{profile} (ANN)")
            out.append(r)
    return out


# --------------------------------------------------------------------------- text


def headline(ctx: DemoContext) -> list[dict[str, Any]]:
    """The headline table: one row per model, the numbers people quote."""
    m = ctx.metrics or {}
    rows = []
    for model in MODELS:
        mm = m.get(model)
        if not isinstance(mm, dict) and model not in ctx.models:
            continue
        mm = mm or {}
        row: dict[str, Any] = {"model": model, "test_mse": mm.get("test_mse"),
                               "weight_density": mm.get("weight_density"),
                               "activation_density": mm.get("activation_density"),
                               "macs_per_inference": mm.get("macs_per_inference")}
        for coding in CODINGS:
            rec = ctx.records.get((model, coding))
            if rec is not None:
                row[f"snn_{coding}_mse"] = rec.mse_vs_input
                row[f"snn_{coding}_synops"] = rec.synaptic_ops / max(rec.num_samples, 1)
        rows.append(row)
    return rows


#: targets whose energy appears in the headline table (when estimated)
HEADLINE_PROFILES = ("loihi2", "spinnaker2", "gpu_baseline")


def headline_table(ctx: DemoContext, rows: list[dict[str, Any]], hw_rows: list[dict[str, Any]] | None = None
                   ) -> tuple[list[str], list[list[str]]]:
    """The headline numbers transposed: one row per quantity, one column per model, and
    the dense-to-sparse ratio (what sparsity saves)."""
    from neurosim.reporting.figures import format_count, format_si

    t = ctx.options.get("timesteps")
    models = [r["model"] for r in rows]
    by = {r["model"]: r for r in rows}
    spec = [("test_mse", "ANN test MSE (pixel²)", _f4, "×"), ("weight_density", "weights kept (fraction)", _f3, "÷"),
            ("activation_density", "hidden units active per input (fraction)", _f3, "÷"),
            ("macs_per_inference", "ANN MACs per inference", format_count, "÷"),
            ("snn_rate_mse", f"SNN MSE, rate coding, T={t}", _f4, "×"),
            ("snn_rate_synops", f"SNN synaptic ops per inference, rate, T={t}", format_count, "÷"),
            ("snn_graded_mse", "SNN MSE, graded spikes", _f4, "×"),
            ("snn_graded_synops", "SNN synaptic ops per inference, graded", format_count, "÷")]
    head = ["quantity"] + [m.replace("_", " ") for m in models]
    show_ratio = "dense" in by and "sparse" in by
    if show_ratio:
        head.append("sparse vs dense")
    body = []
    for key, label, fmt, how in spec:
        vals = [by[m].get(key) for m in models]
        if all(v is None for v in vals):
            continue
        line = [label] + [fmt(v) if v is not None else "–" for v in vals]
        if show_ratio:
            d, sp = by["dense"].get(key), by["sparse"].get(key)
            line.append(_ratio_text(d, sp, how))
        body.append(line)
    for profile in HEADLINE_PROFILES:
        mine = {r["model"]: r for r in (hw_rows or []) if r["profile"] == profile}
        if not mine:
            continue
        label = next(iter(mine.values())).get("label", profile)
        line = [f"energy per inference on {label}"] + [
            format_si(mine[m]["energy"]["typical"], "J") if m in mine else "–" for m in models]
        if show_ratio:
            d, sp = mine.get("dense"), mine.get("sparse")
            line.append(_ratio_text(d["energy"]["typical"] if d else None, sp["energy"]["typical"] if sp else None,
                                    "less"))
        body.append(line)
    return head, body


def _ratio_text(dense: Any, sparse: Any, how: str) -> str:
    if dense is None or sparse is None or not dense or not sparse:
        return "–"
    if how == "×":  # an error: how many times the dense one
        return f"{sparse / dense:.2f}x the dense"
    r = dense / sparse
    word = "less" if how == "less" else "fewer"
    return f"{r:.3g}x {word}" if r >= 1.05 else f"{1 / r:.3g}x more" if r <= 1 / 1.05 else "same"


def headline_text(head: list[str], body: list[list[str]]) -> str:
    """A table as fixed-width text (what ``neurosim demo`` prints)."""
    table = [head] + body
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def demo_summary_text(ctx: DemoContext) -> str:
    """What ``neurosim demo`` prints at the end: where the report is, the stages, the headline table."""
    lines = []
    html_path = ctx.out / "report.html"
    if ctx.ok("report") and html_path.is_file():
        size = html_path.stat().st_size / 1e6
        lines.append(f"report: {html_path} ({size:.2f} MB, {len(ctx.rendered or [])} figures; "
                     f"also report.md with figures/, and report.json)")
    else:
        lines.append(f"no report written ({(ctx.stage('report') or Stage('report', 'failed', '?')).note})")
    lines.append(f"pipeline wall time {ctx.wall_time_s:.0f} s: "
                 + ", ".join(f"{s.name} {s.seconds:.1f} s" for s in ctx.stages if s.status == "ok"))
    for s in ctx.stages:
        if s.status != "ok":
            lines.append(f"  {s.name}: {s.note}")
    rows = headline(ctx)
    if rows:
        head, body = headline_table(ctx, rows, hardware_rows(ctx.estimates))
        lines += ["", headline_text(head, body)]
    return "\n".join(lines)


def _f4(v: Any) -> str:
    return f"{float(v):.4f}"


def _f3(v: Any) -> str:
    return f"{float(v):.3f}"


STATIC_WORDS = ("static", "overhead", "idle", "leak", "baseline")


def hardware_readings(rows: list[dict[str, Any]], ctx: DemoContext) -> list[dict[str, Any]]:
    """A short plain-language reading per profile: what each kind of sparsity saves there.

    Built from the numbers only: the dense/sparse energy and latency ratios, the share of
    static (time-proportional) energy in the breakdown, and what shrinks the work on that
    kind of target: spikes x fan-out (neuromorphic, from the activity records), executed
    MACs (wafer-scale, GPU), tiles and active rows (crossbars).
    """
    out = []
    for profile in dict.fromkeys(r["profile"] for r in rows):
        d = next((r for r in rows if r["profile"] == profile and r["model"] == "dense"), None)
        s = next((r for r in rows if r["profile"] == profile and r["model"] == "sparse"), None)
        if d is None or s is None:
            continue
        ratio = d["energy"]["typical"] / max(s["energy"]["typical"], 1e-300)
        lat = d["latency"]["typical"] / max(s["latency"]["typical"], 1e-300)
        kind = str(s.get("kind") or d.get("kind") or _guess_kind(profile))
        parts = [f"Compared with the dense model, the sparse one {_energy_phrase(ratio)} and {_speed_phrase(lat)}."]
        static_d, dyn_d = _split_breakdown(d.get("breakdown"))
        static_s, dyn_s = _split_breakdown(s.get("breakdown"))
        if static_s is not None and dyn_s is not None and static_s + dyn_s > 0:
            share = static_s / (static_s + dyn_s)
            if share > 0.5:
                parts.append(f"{share * 100:.0f}% of its energy is static power or fixed overhead paid for the time "
                             "the inference takes, so "
                             + ("sparsity pays here mainly through the shorter latency" if lat >= 1.05 else
                                "at this network's size the fixed cost swamps what sparsity saves in work"))
                if dyn_s > 0 and dyn_d and dyn_d / dyn_s >= 1.05:
                    parts[-1] += f"; the activity-dependent part alone shrinks {dyn_d / dyn_s:.3g}x."
                else:
                    parts[-1] += "."
        parts.append(_kind_reading(kind, s, d, ctx))
        # the same per-event figures apply to both models, so compare like scenarios with like
        scen = [d["energy"][k] / s["energy"][k] for k in ("low", "high") if s["energy"][k] > 0]
        if scen and (max(scen) / min(scen) > 1.05 or abs(max(scen) - ratio) / ratio > 0.05):
            lo, hi = min(scen + [ratio]), max(scen + [ratio])
            parts.append(f"With the profile's low or its high figures for both models alike, the energy ratio spans "
                         f"{lo:.3g}x to {hi:.3g}x.")
        out.append({"profile": profile, "kind": kind, "coding": s.get("coding") if s.get("runs") == "snn" else None,
                    "energy_ratio_dense_over_sparse": ratio, "latency_ratio_dense_over_sparse": lat,
                    "energy_ratio_by_scenario": {k: d["energy"][k] / s["energy"][k] for k in ("low", "typical", "high")
                                                 if s["energy"][k] > 0},
                    "reading": " ".join(p for p in parts if p)})
    return out


def _split_breakdown(breakdown: Any) -> tuple[float | None, float | None]:
    if not isinstance(breakdown, dict) or not breakdown:
        return None, None
    static = dynamic = 0.0
    for name, value in breakdown.items():
        v = _range(value)
        if v is None:
            continue
        if any(w in name.lower() for w in STATIC_WORDS):
            static += v["typical"]
        else:
            dynamic += v["typical"]
    return static, dynamic


def _energy_phrase(r: float) -> str:
    if r >= 1.05:
        return f"uses {r:.3g}x less energy"
    if r <= 1 / 1.05:
        return f"uses {1 / r:.3g}x MORE energy"
    return "uses about the same energy"


def _speed_phrase(r: float) -> str:
    if r >= 1.05:
        return f"is {r:.3g}x faster"
    if r <= 1 / 1.05:
        return f"is {1 / r:.3g}x slower"
    return "is about as fast"


def _guess_kind(profile: str) -> str:
    p = profile.lower()
    if "loihi" in p or "spinnaker" in p:
        return "neuromorphic"
    if "wse" in p or "cerebras" in p:
        return "wafer_scale"
    if "rram" in p or "pcm" in p or "crossbar" in p:
        return "crossbar"
    if "gpu" in p:
        return "gpu"
    return "unknown"


def _kind_reading(kind: str, s: dict, d: dict, ctx: DemoContext) -> str:
    k = kind.lower()
    if "neuro" in k:
        coding = s.get("coding") or "graded"
        dr, sr = ctx.records.get(("dense", coding)), ctx.records.get(("sparse", coding))
        if dr is not None and sr is not None and dr.total_spikes and sr.total_spikes:
            spike_ratio = dr.total_spikes / sr.total_spikes
            fan_ratio = (dr.synaptic_ops / dr.total_spikes) / max(sr.synaptic_ops / sr.total_spikes, 1e-12)
            return (f"Work here is events: activity sparsity sends {spike_ratio:.3g}x fewer spikes and weight "
                    f"sparsity leaves each spike {fan_ratio:.3g}x fewer synapses to update, so synaptic operations "
                    f"fall {spike_ratio * fan_ratio:.3g}x (the two multiply).")
        return "Work here is events (spikes x surviving synapses), so both kinds of sparsity multiply."
    if "wafer" in k or "cerebras" in k or "dataflow" in k:
        if d.get("ops") and s.get("ops"):
            return (f"The dataflow engine executes {d['ops'] / s['ops']:.3g}x fewer MACs for the sparse model: it "
                    "skips zero weights (static sparsity), and silent units where the profile says it can.")
        return "The dataflow engine skips work on zero weights (static sparsity pays)."
    if "cross" in k or "analog" in k:
        sp = (s.get("extra") or {}).get("sparsity") or {}
        typical = sp.get("energy_typical_j")
        if typical and sp.get("energy_if_weights_dense_j") and sp.get("energy_if_all_inputs_nonzero_j"):
            w_gain = sp["energy_if_weights_dense_j"] / typical
            a_gain = sp["energy_if_all_inputs_nonzero_j"] / typical
            tiles = (f" (pruning empties {sp['tiles_if_weights_dense'] - sp['tiles_used']} of "
                     f"{sp['tiles_if_weights_dense']} tiles)" if "tiles_used" in sp and "tiles_if_weights_dense" in sp
                     else "")
            return (f"On a crossbar a pruned weight still occupies its cell: weight sparsity saves {w_gain:.3g}x"
                    f"{tiles}, while silent inputs, which skip their row drivers, save {a_gain:.3g}x.")
        return ("On a crossbar a pruned weight still occupies its cell: unstructured weight sparsity saves only the "
                "tiles it empties entirely, while silent inputs skip row drivers and ADC work (activity sparsity pays).")
    if "gpu" in k:
        return ("The GPU multiplies zeros like any other number: the dense kernel costs the same for both models, "
                "so neither kind of sparsity pays.")
    return ""


# --------------------------------------------------------------------------- writers


CSS = """
:root { --dense:#4C72B0; --sparse:#DD8452; --small:#55A868; --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.55 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color:var(--ink); background:#f6f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 60px; background:#fff; min-height:100vh; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 40px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 6px; }
p.lede { font-size: 16px; color: var(--muted); margin-top: 4px; }
.meta { color: var(--muted); font-size: 13px; }
nav ol { columns: 2; font-size: 14px; padding-left: 20px; }
table { border-collapse: collapse; margin: 10px 0 6px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
.tablewrap { overflow-x: auto; }
figure { margin: 18px 0 26px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; display:block; }
figcaption { font-size: 14px; color: var(--muted); margin-top: 6px; }
figcaption b { color: var(--ink); }
.stage { display:inline-block; min-width: 64px; text-align:center; font-size: 12px; font-weight:600; border-radius: 10px; padding: 1px 8px; }
.ok { background:#dafbe1; color:#1a7f37; } .skipped { background:#fff8c5; color:#7d4e00; } .failed { background:#ffebe9; color:#cf222e; }
.note { background:#fff8c5; border-left: 4px solid #d4a72c; padding: 8px 12px; margin: 10px 0; font-size: 14px; }
.swatch-dense { color: var(--dense); font-weight:600; } .swatch-sparse { color: var(--sparse); font-weight:600; }
.swatch-small_dense { color: var(--small); font-weight:600; }
ul.readings li { margin-bottom: 6px; }
code { background:#f6f8fa; padding: 1px 4px; border-radius: 3px; font-size: 13px; }
"""

SECTIONS = [
    ("training", "1. Training side by side",
     "Two autoencoders ({d} → {h} → {d}, ReLU hidden, sigmoid output) train on the same batches from the same seed: "
     "a dense baseline and a sparse model that prunes {ws} of its weights (static weight sparsity) and gates its "
     "hidden layer so only a few units respond to each input (dynamic activity sparsity, target {af} active). A small "
     "dense model with the sparse model's compute budget is the iso-compute baseline."),
    ("activity", "2. Which neurons fire for each digit",
     "The trained networks are converted to spiking networks and simulated. For one test image of each digit, the "
     "raster shows every hidden unit's spikes over time, beside the ANN's gated activation of the same unit."),
    ("subnetworks", "3. Digit-specific subnetworks",
     "Different digits activate different sparse subnetworks: input-dependent computational pathways."),
    ("sparsity", "4. The two kinds of sparsity",
     "Static weight sparsity removes synapses for every input; dynamic activity sparsity silences units per input."),
    ("conversion", "5. From ANN to spiking network",
     "How faithfully the spiking networks reproduce the ANNs, what that costs in synaptic operations, and whether "
     "independent simulators agree."),
    ("hardware", "6. Energy and latency on hardware targets",
     "Costs per inference computed from the measured activity on each hardware profile, every figure traceable to a "
     "published source (see the profile files)."),
]


def write_report(ctx: DemoContext) -> str:
    """Write report.html, report.md, report.json and figures/ into ``ctx.out``; return a one-line note."""
    if ctx.rendered is None:
        figs, ctx.numbers = build_figures(ctx)
        fig_dir = ctx.out / "figures"
        fig_dir.mkdir(exist_ok=True)
        rendered = []
        try:
            for rf in figs:
                png = rf.png(dpi=FIGURE_DPI.get(rf.key, 100))
                write_atomic(fig_dir / f"{rf.key}.png", png)
                rendered.append((rf, png))
        finally:
            for rf in figs:
                rf.close()
        ctx.rendered = rendered
    rendered, numbers = ctx.rendered, ctx.numbers
    rows = headline(ctx)
    hw_rows = hardware_rows(ctx.estimates)
    readings = hardware_readings(hw_rows, ctx)
    report = {
        "format": "neurosim.reporting.demo", "format_version": 1, "neurosim_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(ctx.wall_time_s, 2), "options": ctx.options, "dataset": ctx.dataset_note,
        "stages": [s.as_dict() for s in ctx.stages], "headline": rows, "metrics": _slim_metrics(ctx.metrics),
        "hardware_readings": readings, "numbers": numbers,
        "figures": [{"key": rf.key, "title": rf.title, "caption": rf.caption, "section": rf.section,
                     "file": f"figures/{rf.key}.png", "bytes": len(png)} for rf, png in rendered],
    }
    html_text = render_html(ctx, rendered, rows, hw_rows, readings)
    md_text = render_md(ctx, rendered, rows, hw_rows, readings)
    write_atomic(ctx.out / "report.html", html_text.encode("utf-8"))
    write_atomic(ctx.out / "report.md", md_text.encode("utf-8"))
    write_atomic(ctx.out / "report.json", json.dumps(report, indent=2, default=json_default).encode("utf-8"))
    size = (ctx.out / "report.html").stat().st_size
    if size > MAX_REPORT_BYTES:
        raise NeurosimError(f"{ctx.out / 'report.html'}: {size / 1e6:.1f} MB exceeds the 10 MB report budget")
    return f"{len(rendered)} figures; report.html {size / 1e6:.2f} MB"


def _slim_metrics(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    if not metrics:
        return metrics
    return {k: ({kk: vv for kk, vv in v.items() if kk != "history"} if isinstance(v, dict) else v)
            for k, v in metrics.items()}


def _hw_cells(hw_rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    from neurosim.reporting.figures import format_count, format_si

    head = ["profile (what runs)", "model", "energy / inference (typical)", "low – high", "latency / inference (typical)",
            "low – high", "work / inference"]
    body = []
    for r in hw_rows:
        e, l = r["energy"], r["latency"]
        body.append([r.get("label", r["profile"]), r["model"], format_si(e["typical"], "J"),
                     f"{format_si(e['low'], 'J')} – {format_si(e['high'], 'J')}", format_si(l["typical"], "s"),
                     f"{format_si(l['low'], 's')} – {format_si(l['high'], 's')}",
                     f"{format_count(r['ops'])} {r['ops_kind']}" if r.get("ops") is not None else "–"])
    return head, body


def _html_table(head: list[str], body: list[list[str]], model_col: int | None = 0) -> str:
    out = ["<div class='tablewrap'><table><thead><tr>"]
    out += [f"<th class='swatch-{h.replace(' ', '_')}'>{html.escape(h)}</th>" if h in ("dense", "sparse", "small dense")
            else f"<th>{html.escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in body:
        out.append("<tr>")
        for i, cell in enumerate(row):
            if i == model_col and cell in ("dense", "sparse", "small_dense"):
                out.append(f"<td class='swatch-{cell}'>{html.escape(cell.replace('_', ' '))}</td>")
            else:
                out.append(f"<td>{html.escape(str(cell))}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _md_table(head: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join([" --- "] * len(head)) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines)


def _stage_missing_note(ctx: DemoContext, section: str) -> str | None:
    needs = {"training": ["train"], "activity": ["train", "convert", "simulate"], "subnetworks": ["train"],
             "sparsity": ["train"], "conversion": ["convert", "simulate", "cross-check"],
             "hardware": ["estimate"]}[section]
    notes = [f"{s.name}: {s.note}" for s in ctx.stages if s.name in needs and s.status != "ok"]
    return "; ".join(notes) if notes else None


def _summary_sentences(ctx: DemoContext, rows: list[dict[str, Any]]) -> list[str]:
    m = {r["model"]: r for r in rows}
    out = []
    d, s, sd = m.get("dense"), m.get("sparse"), m.get("small_dense")
    if d and s and d.get("macs_per_inference") and s.get("macs_per_inference"):
        out.append(f"The sparse model keeps {s['weight_density'] * 100:.0f}% of its weights and, per input, "
                   f"{s['activation_density'] * 100:.0f}% of its hidden units active, so it needs "
                   f"{d['macs_per_inference'] / s['macs_per_inference']:.0f}x fewer multiply-accumulates than the "
                   f"dense model of the same shape.")
    if d and s and d.get("test_mse") and s.get("test_mse"):
        txt = (f"That costs accuracy: its reconstruction error (test MSE) is {s['test_mse']:.4f}, "
               f"{s['test_mse'] / d['test_mse']:.2f}x the dense model's {d['test_mse']:.4f}")
        if sd and sd.get("test_mse"):
            r = sd["test_mse"] / s["test_mse"]
            txt += (f"; a small dense model with the same compute reaches {sd['test_mse']:.4f}, so at equal compute "
                    + (f"large-and-sparse is {r:.1f}x more accurate" if r >= 1 else
                       f"large-and-sparse is {1 / r:.1f}x LESS accurate than small-and-dense"))
        out.append(txt + ".")
    if s and s.get("snn_graded_synops") and d and d.get("snn_graded_synops"):
        out.append(f"As spiking networks with graded spikes, the sparse one needs {format_ratio(d['snn_graded_synops'], s['snn_graded_synops'])} "
                   f"fewer synaptic operations per inference than the dense one.")
    return out


def format_ratio(a: float, b: float) -> str:
    return f"{a / b:.0f}x" if b else "∞x"


def _intro(ctx: DemoContext, text: str) -> str:
    """A section's introduction with the run's own shape and targets filled in."""
    mv = ctx.models.get("sparse")
    cfg = mv.config if mv is not None else {}
    ws, af = cfg.get("weight_sparsity"), cfg.get("active_fraction")
    return text.format(d=mv.w_enc.shape[1] if mv is not None else "d", h=mv.hidden if mv is not None else "H",
                       ws=f"{ws:.0%}" if isinstance(ws, (int, float)) else "most",
                       af=f"≤ {af:.0%}" if isinstance(af, (int, float)) else "a few")


def render_html(ctx: DemoContext, rendered: list, rows, hw_rows, readings) -> str:
    """The self-contained HTML report (inline CSS, base64 PNGs, no scripts, no external links)."""
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<title>neurosim demo: dense vs sparse, from training to hardware</title>",
             f"<style>{CSS}</style></head><body><main>",
             "<h1>Dense vs sparse: from training to hardware</h1>",
             "<p class='lede'>Two autoencoders learn handwritten digits side by side. The sparse one keeps few synapses "
             "and lets few neurons fire for any one input; different digits light up different small subnetworks. "
             "Converted to spiking networks and costed on neuromorphic, wafer-scale, analog and GPU targets, "
             "this report shows what each kind of sparsity buys, and where.</p>",
             f"<p class='meta'>neurosim {e(__version__)} · {e(ctx.dataset_note)} · pipeline wall time "
             f"{ctx.wall_time_s:.0f} s · written {e(_dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}</p>"]
    summary = _summary_sentences(ctx, rows)
    if summary:
        parts.append("<p>" + " ".join(e(t) for t in summary) + "</p>")
    if rows:
        head, body = headline_table(ctx, rows, hw_rows)
        parts.append("<h3>Headline numbers (held-out test digits)</h3>" + _html_table(head, body, model_col=None))
    parts.append("<h3>Pipeline stages</h3><div class='tablewrap'><table><thead><tr><th>stage</th><th>status</th>"
                 "<th>time</th><th style='text-align:left'>note</th></tr></thead><tbody>")
    for s in ctx.stages:
        parts.append(f"<tr><td>{e(s.name)}</td><td><span class='stage {e(s.status)}'>{e(s.status)}</span></td>"
                     f"<td>{s.seconds:.1f} s</td><td style='text-align:left;white-space:normal'>{e(s.note)}</td></tr>")
    parts.append("</tbody></table></div>")
    parts.append("<nav><ol>" + "".join(f"<li><a href='#{key}'>{e(t.split('. ', 1)[1])}</a></li>"
                                       for key, t, _ in SECTIONS) + "</ol></nav>")
    by_section: dict[str, list] = {}
    for rf, png in rendered:
        by_section.setdefault(rf.section, []).append((rf, png))
    for key, title, intro in SECTIONS:
        parts.append(f"<h2 id='{key}'>{e(title)}</h2><p>{e(_intro(ctx, intro))}</p>")
        note = _stage_missing_note(ctx, key)
        if note:
            parts.append(f"<div class='note'>{e(note)}</div>")
        for rf, png in by_section.get(key, []):
            data = base64.b64encode(png).decode("ascii")
            parts.append(f"<figure id='fig-{rf.key}'><img src='data:image/png;base64,{data}' alt='{e(rf.title)}'>"
                         f"<figcaption><b>{e(rf.title)}.</b> {e(rf.caption)}</figcaption></figure>")
        if key == "conversion" and ctx.agreement:
            parts.append(_html_table(*_agreement_cells(ctx.agreement), model_col=None))
        if key == "hardware" and hw_rows:
            parts.append(_html_table(*_hw_cells(hw_rows), model_col=1))
            if readings:
                parts.append("<h3>What each kind of sparsity saves, target by target</h3><ul class='readings'>")
                parts += [f"<li><b>{e(r['profile'])}</b> ({e(r['kind'])}): {e(r['reading'])}</li>" for r in readings]
                parts.append("</ul>")
    parts.append("<p class='meta'>Files beside this report: report.md (same content, PNGs in figures/), "
                 "report.json (every number), train/ (checkpoints, metrics.json), nets/ (NIR), activity/ "
                 "(activity records), hardware/ (estimates).</p></main></body></html>")
    return "\n".join(parts)


def _agreement_cells(entries: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    head = ["backend", "network", "samples x T", "identical spike counts", "max |diff|", "synaptic ops vs reference",
            "note"]
    body = []
    for a in entries:
        ran = a.get("diff") is not None
        body.append([a["backend"], f"{a['model']} {a['coding']}", f"{a['samples']} x {a['timesteps']}",
                     f"{a['identical_fraction'] * 100:.2f}%" if ran else "–",
                     str(a["max_abs_diff"]) if ran else "–",
                     f"{a['synops_rel_diff'] * 100:+.2f}%" if ran else "–", "" if ran else a.get("note", "")])
    return head, body


def render_md(ctx: DemoContext, rendered: list, rows, hw_rows, readings) -> str:
    lines = ["# Dense vs sparse: from training to hardware", "",
             f"neurosim {__version__} · {ctx.dataset_note} · pipeline wall time {ctx.wall_time_s:.0f} s", ""]
    lines += [" ".join(_summary_sentences(ctx, rows)), ""]
    if rows:
        head, body = headline_table(ctx, rows, hw_rows)
        lines += ["## Headline numbers (held-out test digits)", "", _md_table(head, body), ""]
    lines += ["## Pipeline stages", "", _md_table(["stage", "status", "time", "note"],
                                                   [[s.name, s.status, f"{s.seconds:.1f} s", s.note] for s in ctx.stages]), ""]
    by_section: dict[str, list] = {}
    for rf, _ in rendered:
        by_section.setdefault(rf.section, []).append(rf)
    for key, title, intro in SECTIONS:
        lines += [f"## {title}", "", _intro(ctx, intro), ""]
        note = _stage_missing_note(ctx, key)
        if note:
            lines += [f"> {note}", ""]
        for rf in by_section.get(key, []):
            lines += [f"![{rf.title}](figures/{rf.key}.png)", "", f"*{rf.title}.* {rf.caption}", ""]
        if key == "conversion" and ctx.agreement:
            lines += [_md_table(*_agreement_cells(ctx.agreement)), ""]
        if key == "hardware" and hw_rows:
            lines += [_md_table(*_hw_cells(hw_rows)), ""]
            lines += [f"- **{r['profile']}** ({r['kind']}): {r['reading']}" for r in readings] + [""]
    return "\n".join(lines)
