"""The side-by-side demo: run every pipeline stage on handwritten digits and write a report.

:func:`run_demo` calls the stage functions of :mod:`neurosim.pipeline` (train, convert,
simulate, estimate) one after another, times each, and :func:`write_demo_report` turns what
they produced into

* ``DIR/report.html``: one self-contained file (figures embedded as base64 PNG, inline CSS,
  no script, nothing fetched from the network), at most :data:`MAX_REPORT_BYTES`;
* ``DIR/report.md`` with the same figures as PNG files in ``DIR/figures/``;
* ``DIR/report.json``: every number shown, the stage log and the figure list.

A stage that fails is reported with its one-line error and the report is still written
from what the other stages produced. Nothing downstream re-derives what an upstream stage
measured: ANN figures come from the trained models and ``metrics.json``, spiking figures
from activity records, costs from the hardware estimates.

Directory layout written by ``neurosim demo --out DIR``::

    DIR/train/          dense.pt, sparse.pt, small_dense.pt, metrics.json, training plots
    DIR/nets/           {dense,sparse}_{rate,graded}.nir
    DIR/activity/       {dense,sparse}_{rate,graded}.json/.npz (reference engine; rate at T = --timesteps,
                        graded at T = the network's depth, defaults.coding_timesteps)
    (subnetworks and their ablation matrices: report.json, ``numbers.subnetworks``)
    DIR/hardware/       estimates.json (every record on every profile)
    DIR/figures/        the report's PNGs
    DIR/report.html, DIR/report.md, DIR/report.json
"""
from __future__ import annotations

import datetime as _dt
import logging
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from neurosim import __version__, defaults, pipeline
from neurosim.errors import NeurosimError
from neurosim.reporting.context import DemoContext, Stage
from neurosim.reporting.tables import (CODINGS, MODELS, SNN_MODELS, hardware_rows, headline, headline_table,
                                       text_table)
from neurosim.reporting.writer import write_report

log = logging.getLogger(__name__)

SWEEP_TIMESTEPS = (8, 16, 32, 64, 128, 256)
CROSS_CHECK_BACKENDS = ("brian2", "lava")
#: training settings of the MNIST demo where the user gives none: the MNIST recipe of docs/training.md
#: (batch 128, dense Adam rate 0.001, gate margin 0.1) with fewer epochs, so the demo takes minutes
MNIST_TRAINING = {"epochs": 12, "batch_size": 128, "dense_lr": 0.001, "gate_margin": 0.1}
MAX_REPORT_BYTES = 10 * 1024 * 1024


class _Skip(Exception):
    """Raised inside a stage to skip it with a note."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class _StageRunner:
    """Run a stage, time it, and turn a skip or an error into a one-line note."""

    def __init__(self, ctx: DemoContext, say: Callable[[str], None]):
        self.ctx, self.say = ctx, say

    def __call__(self, name: str, fn: Callable[[], str | None]) -> bool:
        start = time.perf_counter()
        try:
            note, status = fn() or "done", "ok"
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


# --------------------------------------------------------------------------- the pipeline


def run_demo(out: str | Path, *, epochs: int | None = None, hidden: int | None = None, samples: int | None = None,
             timesteps: int = defaults.TIMESTEPS, sweep: Sequence[int] = SWEEP_TIMESTEPS, cross_check_samples: int = 10,
             cross_check_timesteps: int = defaults.TIMESTEPS, seed: int = 0, profiles: Sequence[str] | str = "all",
             run: str | Path | None = None, progress: bool = False, live_port: int | None = None,
             on_epoch: Callable | None = None, say: Callable[[str], None] = print, dataset: str = "digits",
             data_dir: str | Path | None = None, sweep_dir: str | Path | None = None) -> DemoContext:
    """Run the whole pipeline into ``out`` and write the report; return the context.

    Parameters
    ----------
    out : path
        Output directory (created).
    epochs, hidden : int, optional
        Training epochs and hidden units (the training defaults when None).
    samples : int, optional
        Number of held-out test digits simulated, classes interleaved (all when None).
    timesteps : int
        ``T`` of the main rate-coded simulations (steps of the network's ``dt_s`` seconds); the
        graded networks run their depth in steps (:func:`neurosim.defaults.coding_timesteps`).
    sweep : sequence of int
        Timesteps of the conversion-fidelity sweep (both codings, dense and sparse).
    cross_check_samples, cross_check_timesteps : int
        Subset simulated on Brian2 and Lava and compared with the reference engine
        (0 samples skips the cross-check).
    profiles : str or sequence of str
        Hardware profiles to estimate ('all': every bundled one).
    run : path, optional
        A finished ``neurosim train`` output directory to reuse instead of training.
    progress : bool
        Training progress bar on stderr.
    live_port : int, optional
        Serve the live training view on 127.0.0.1 at this port (0: a free one).
    on_epoch : callable, optional
        Per-epoch hook passed to the training loop.
    dataset, data_dir : optional
        'digits' (embedded) or 'mnist' with the folder of its IDX files; MNIST trains with
        :data:`MNIST_TRAINING` unless ``epochs`` is given.
    sweep_dir : path, optional
        A finished ``neurosim sweep`` folder: its figures join the hardware section.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    ctx = DemoContext(out, dict(epochs=epochs, hidden=hidden, samples=samples, timesteps=timesteps,
                                sweep=list(sweep), cross_check_samples=cross_check_samples,
                                cross_check_timesteps=cross_check_timesteps, seed=seed, dataset=dataset,
                                **({"sweep_dir": str(sweep_dir)} if sweep_dir is not None else {})),
                      dataset=dataset, data_dir=Path(data_dir) if data_dir is not None else None)
    stage = _StageRunner(ctx, say)
    run_dir = Path(run) if run is not None else out / "train"
    _load_test_set(ctx, samples, say)

    def train() -> str:
        if run is not None:
            _load_run(ctx, run_dir)
            return f"reused the trained models in {run_dir}"
        options = {k: v for k, v in (("epochs", epochs), ("hidden", hidden)) if v is not None}
        if dataset != "digits":
            options = {**(MNIST_TRAINING if dataset == "mnist" else {}), **options, "dataset": dataset,
                       "data_dir": str(data_dir) if data_dir is not None else None}
        result = _train(run_dir, seed, options, progress, live_port, on_epoch, say)
        ctx.models, ctx.metrics = dict(result.models), result.metrics
        ctx.configs = {k: dict(p["config"]) for k, p in result.checkpoints.items()}
        m = ctx.metrics
        return "trained " + ", ".join(f"{k}: test MSE {m[k]['test_mse']:.4f}" for k in MODELS if k in m)

    def convert() -> str:
        nets = out / "nets"
        nets.mkdir(exist_ok=True)
        for model in SNN_MODELS:
            for coding in CODINGS:
                path = nets / f"{model}_{coding}.nir"
                pipeline.convert(run_dir / f"{model}.pt", coding).save(path)
                # simulate what a user would: the network as read back from its NIR file
                ctx.networks[(model, coding)] = pipeline.load_network(path)
        return f"converted {len(ctx.networks)} networks (dense and sparse x rate and graded coding) to NIR"

    def simulate() -> str:
        _simulate_all(ctx, timesteps, sweep)
        depth = len(next(iter(ctx.networks.values())).layers)
        return (f"reference engine: {len(ctx.records)} records (rate T={timesteps}, graded T={depth}) on "
                f"{len(ctx.test_x)} test digits, "
                f"{len(ctx.sweep)} sweep points, spike rasters of {len(ctx.example_idx)} examples")

    def subnetworks() -> str:
        from neurosim.reporting.subnetwork_section import analyse

        return analyse(ctx)

    def cross_check() -> str:
        if cross_check_samples <= 0:
            raise _Skip("cross-check turned off (--cross-check-samples 0)")
        return _cross_check(ctx, cross_check_samples, cross_check_timesteps)

    def estimate() -> str:
        return _estimate(ctx, profiles)

    stage("train", train)
    for name, fn, needs in (("convert", convert, "train"), ("simulate", simulate, "convert"),
                            ("subnetworks", subnetworks, "train"), ("cross-check", cross_check, "convert"), ("estimate", estimate, "simulate")):
        stage(name, fn if ctx.ok(needs) else _skipped(f"no output of the {needs} stage"))
    ctx.wall_time_s = time.perf_counter() - start
    if stage("report", lambda: write_demo_report(ctx)):
        # the report's own stage line is known only now: write the pages again (figures are kept)
        ctx.wall_time_s = time.perf_counter() - start
        write_demo_report(ctx)
    return ctx


def _skipped(reason: str) -> Callable[[], str]:
    def fn() -> str:
        raise _Skip(reason)
    return fn


def _train(run_dir: Path, seed: int, options: dict[str, Any], progress: bool, live_port: int | None,
           on_epoch: Callable | None, say: Callable[[str], None]):
    if live_port is None:
        return pipeline.train(out=run_dir, seed=seed, progress=progress, on_epoch=on_epoch, **options)
    from neurosim.training.live import LiveView, training_callback

    view = LiveView(port=live_port)
    say(f"live view: {view.start()}")
    try:
        return pipeline.train(out=run_dir, seed=seed, progress=progress, on_epoch=training_callback(view), **options)
    finally:
        view.stop()


def _load_run(ctx: DemoContext, run_dir: Path) -> None:
    from neurosim.reporting.ann import model_from_checkpoint

    ctx.metrics = pipeline.load_metrics(run_dir / "metrics.json")
    for model in MODELS:
        payload = pipeline.load_checkpoint(run_dir / f"{model}.pt")
        ctx.models[model] = model_from_checkpoint(payload)
        ctx.configs[model] = dict(payload["config"])


def _load_test_set(ctx: DemoContext, samples: int | None, say: Callable[[str], None] = print) -> None:
    test = pipeline.load_dataset(ctx.dataset, "test", ctx.data_dir)
    idx = np.arange(len(test.y))
    if samples is not None and samples > len(idx):
        say(f"--samples {samples} is more than the {len(idx)} test digits of {ctx.dataset}: all {len(idx)} are used")
        samples = None
    if samples is not None:
        # keep classes balanced in small subsets: interleave the classes
        idx = np.sort(np.lexsort((idx, _rank_within_class(test.y)))[:samples])
    ctx.test_x, ctx.test_y = test.x[idx].astype(np.float64), test.y[idx]
    ctx.image_shape = tuple(test.image_shape)
    ctx.dataset_note = test.note + (f"; {len(idx)} test digits simulated" if samples else "")
    # one example per digit: the first of each class in the (sub)set
    ctx.example_idx = np.array([int(np.flatnonzero(ctx.test_y == c)[0]) for c in range(10) if np.any(ctx.test_y == c)])


def _rank_within_class(y: np.ndarray) -> np.ndarray:
    rank = np.zeros(len(y), dtype=np.int64)
    for c in np.unique(y):
        where = np.flatnonzero(y == c)
        rank[where] = np.arange(len(where))
    return rank


def _simulate_all(ctx: DemoContext, timesteps: int, sweep: Sequence[int]) -> None:
    """Reference engine on every network; the rate networks also record the example digits' spikes."""
    act_dir = ctx.out / "activity"
    act_dir.mkdir(exist_ok=True)
    x, y = ctx.test_x, ctx.test_y
    for (model, coding), net in ctx.networks.items():
        record_steps = ctx.example_idx if coding == "rate" else None
        steps = defaults.coding_timesteps(coding, timesteps, len(net.layers))
        sim = pipeline.simulate(net, inputs=x, labels=y, timesteps=steps, backend="reference",
                                **({"record": record_steps} if record_steps is not None else {}))
        rec = sim.record
        rec.save(act_dir / f"{model}_{coding}")
        ctx.records[(model, coding)] = rec
        if record_steps is not None:
            ctx.spike_trains[model] = rec.step_spikes[net.layers[1].name]
        for t in sweep:
            r = rec if int(t) == int(steps) else pipeline.simulate(net, inputs=x, labels=y, timesteps=int(t)).record
            ctx.sweep.append({"model": model, "coding": coding, "timesteps": int(t), "mse_vs_input": r.mse_vs_input,
                              "mse_vs_ann": r.mse_vs_ann, "synaptic_ops_per_inference": r.synaptic_ops / r.num_samples,
                              "spikes_per_inference": r.total_spikes / r.num_samples})


def _cross_check(ctx: DemoContext, n: int, timesteps: int) -> str:
    """The sparse networks on the other backends vs the reference engine, spike count by spike count."""
    x, y = ctx.test_x[:n], ctx.test_y[:n]
    notes = []
    for backend in CROSS_CHECK_BACKENDS:
        problem = None
        for model, coding in (("sparse", "rate"), ("sparse", "graded")):
            net = ctx.networks[(model, coding)]
            entry: dict[str, Any] = {"backend": backend, "model": model, "coding": coding, "samples": int(len(x)),
                                     "timesteps": int(timesteps), "diff": None}
            try:
                ref = pipeline.simulate(net, inputs=x, labels=y, timesteps=timesteps).record
                other = pipeline.simulate(net, inputs=x, labels=y, timesteps=timesteps, backend=backend).record
            except NeurosimError as exc:
                problem = entry["note"] = str(exc)
                ctx.agreement.append(entry)
                continue
            spiking = [(r, o) for r, o in zip(ref.layers, other.layers) if r.kind != "readout"]
            c_ref = np.concatenate([r.spike_counts.astype(np.int64).ravel() for r, _ in spiking])
            c_other = np.concatenate([o.spike_counts.astype(np.int64).ravel() for _, o in spiking])
            diff = c_other - c_ref
            entry.update(diff=diff, counts_reference=c_ref, counts_backend=c_other,
                         identical_fraction=float(np.mean(diff == 0)),
                         max_abs_diff=int(np.abs(diff).max()) if diff.size else 0,
                         synops_reference=ref.synaptic_ops, synops_backend=other.synaptic_ops,
                         synops_rel_diff=(other.synaptic_ops - ref.synaptic_ops) / max(ref.synaptic_ops, 1),
                         wall_time_reference_s=ref.wall_time_s, wall_time_backend_s=other.wall_time_s,
                         mse_vs_input_reference=ref.mse_vs_input, mse_vs_input_backend=other.mse_vs_input)
            ctx.agreement.append(entry)
        ran = [e for e in ctx.agreement if e["backend"] == backend and e["diff"] is not None]
        if ran:
            notes.append(f"{backend}: >= {min(e['identical_fraction'] for e in ran) * 100:.2f}% identical spike counts")
        else:
            notes.append(f"{backend}: not run ({problem})")
    if not any(e["diff"] is not None for e in ctx.agreement):
        raise _Skip("; ".join(notes))
    return "; ".join(notes)


def _estimate(ctx: DemoContext, profiles: Sequence[str] | str) -> str:
    from neurosim.reporting.energy_report import attach_savings

    names, typed = set(), []
    for (model, coding), rec in sorted(ctx.records.items()):
        source = str(ctx.out / "activity" / f"{model}_{coding}.json")
        for e in pipeline.estimate(rec, profiles, source=source):
            e.labels.update(coding=coding, record_model=model)
            typed.append(e)
            names.add(e.profile)
    attach_savings(typed)  # dense -> sparse savings per Monte-Carlo draw, before the draws are dropped
    ctx.estimates.extend(e.to_dict() for e in typed)
    write_report(ctx.out / "hardware" / "estimates.json", ctx.estimates)
    return f"{len(ctx.estimates)} estimates: {len(ctx.records)} activity records x {len(names)} profiles"


# --------------------------------------------------------------------------- the report


def write_demo_report(ctx: DemoContext) -> str:
    """Write report.html, report.md, report.json and figures/ into ``ctx.out``; return a one-line note."""
    from neurosim.reporting.document import FigureEntry, build_document
    from neurosim.reporting.gallery import FIGURE_DPI, build_figures
    from neurosim.reporting.html import render_html
    from neurosim.reporting.markdown import render_md
    from neurosim.reporting.readings import hardware_readings

    if ctx.rendered is None:
        figs, ctx.numbers = build_figures(ctx)
        try:
            ctx.rendered = [FigureEntry(rf.key, rf.title, rf.caption, rf.section, rf.png(dpi=FIGURE_DPI.get(rf.key, 100)))
                            for rf in figs]
        finally:
            for rf in figs:
                rf.close()
        for f in ctx.rendered:
            write_report(ctx.out / f.file, f.png)
    hw_rows = hardware_rows(ctx.estimates)
    readings = hardware_readings(hw_rows, ctx.records)
    doc = build_document(ctx, ctx.rendered, hw_rows, readings)
    report = {
        "format": "neurosim.reporting.demo", "format_version": 1, "neurosim_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(ctx.wall_time_s, 2), "options": ctx.options, "dataset": ctx.dataset_note,
        "stages": [s.as_dict() for s in ctx.stages],
        "headline": headline(ctx.metrics, ctx.records, ctx.numbers.get("ann_test_mse")),
        "metrics": _slim_metrics(ctx.metrics), "hardware_readings": readings, "numbers": ctx.numbers,
        "figures": [{"key": f.key, "title": f.title, "caption": f.caption, "section": f.section, "file": f.file,
                     "bytes": len(f.png)} for f in ctx.rendered],
    }
    path = write_report(ctx.out / "report.html", render_html(doc), max_bytes=MAX_REPORT_BYTES)
    write_report(ctx.out / "report.md", render_md(doc))
    write_report(ctx.out / "report.json", report)
    return f"{len(ctx.rendered)} figures; report.html {path.stat().st_size / 1e6:.2f} MB"


def _slim_metrics(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    if not metrics:
        return metrics
    return {k: ({kk: vv for kk, vv in v.items() if kk != "history"} if isinstance(v, dict) else v)
            for k, v in metrics.items()}


def demo_summary_text(ctx: DemoContext) -> str:
    """What ``neurosim demo`` prints at the end: where the report is, the stages, the headline table."""
    lines = []
    html_path = ctx.out / "report.html"
    if ctx.ok("report"):
        lines.append(f"report: {html_path} ({html_path.stat().st_size / 1e6:.2f} MB, {len(ctx.rendered or [])} "
                     f"figures; also report.md with figures/, and report.json)")
    else:
        lines.append(f"no report written ({ctx.stage('report').note})")
    lines.append(f"pipeline wall time {ctx.wall_time_s:.0f} s: "
                 + ", ".join(f"{s.name} {s.seconds:.1f} s" for s in ctx.stages if s.status == "ok"))
    lines += [f"  {s.name}: {s.note}" for s in ctx.stages if s.status != "ok"]
    rows = headline(ctx.metrics, ctx.records, ctx.numbers.get("ann_test_mse"))
    if rows:
        lines += ["", text_table(headline_table(rows, hardware_rows(ctx.estimates), ctx.options.get("timesteps")))]
    return "\n".join(lines)


__all__ = ["run_demo", "write_demo_report", "demo_summary_text", "MAX_REPORT_BYTES", "SWEEP_TIMESTEPS"]
