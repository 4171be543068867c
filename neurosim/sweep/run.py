"""Running a sweep: every grid point through the pipeline, on a Dask cluster, resumable.

Each point (:func:`run_point`) trains with the side-by-side trainer (same seed, same
mini-batches for every point), converts its model to spiking networks (rate coding at each
``T`` and graded coding as needed), simulates them on the reference engine and estimates
them on every profile in both operating modes. The dense reference is the trainer's own dense
ReLU model (identical for every point: its batches and initial weights do not depend on the
sparsity targets).

:func:`run_sweep` sends the points that are not finished yet to a cluster
(:mod:`neurosim.cluster`: a LocalCluster, one single-threaded worker per core, or an existing
scheduler) and writes each result the moment it arrives, atomically, as
``OUT/points/<key>.json``. Rerunning skips finished points, so a killed sweep loses only the
points that were running. A point that raises is recorded with its error (``status:
failed``) and the others go on; a rerun retries it.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from neurosim.defaults import coding_timesteps
from neurosim.errors import ConfigError, NeurosimError
from neurosim.fileio import write_json
from neurosim.sweep.grid import Point, SweepConfig, config_from_mapping, write_sweep_config

#: format tag of a point file
POINT_FORMAT = "neurosim.sweep.point"


# ---------------------------------------------------------------------------- one point


def _target_runs(profile: Any, codings: tuple[str, ...], timesteps: tuple[int, ...]) -> list[tuple[str, int]]:
    """(coding, T) pairs a profile runs: ANN targets one ANN run; neuromorphic targets per the
    sweep's codings (graded only where the chip has graded spikes), rate at every T."""
    if profile.kind != "neuromorphic":
        return [("ann", timesteps[0])]
    graded_ok = profile.flag("graded_spikes")
    out: list[tuple[str, int]] = []
    for c in codings:
        c = ("graded" if graded_ok else "rate") if c == "auto" else c
        if c == "graded" and not graded_ok:
            continue
        for t in (timesteps if c == "rate" else timesteps[:1]):
            if (c, t) not in out:
                out.append((c, t))
    return out


def _dense_runs(profile: Any, timesteps: tuple[int, ...]) -> list[tuple[str, int]]:
    """How the dense ANN runs on a target: as the ANN, as graded events (one per nonzero
    activation) on chips with graded spikes, else rate-coded at every T (its only form there)."""
    if profile.kind != "neuromorphic":
        return [("ann", timesteps[0])]
    if profile.flag("graded_spikes"):
        return [("graded", timesteps[0])]
    return [("rate", t) for t in timesteps]


def _interval(iv: Any) -> dict[str, float]:
    return {"median": iv.median, "p10": iv.p10, "p90": iv.p90}


def run_point(config: SweepConfig | dict[str, Any], point: Point | dict[str, Any]) -> dict[str, Any]:
    """Train, convert, simulate and estimate one grid point.

    Parameters
    ----------
    config : SweepConfig or its dict
    point : Point or its dict (``weight_sparsity``, ``activity``)

    Returns
    -------
    dict
        ``point``, ``model`` (training measurements), ``runs`` (one per simulated coding and
        T; graded runs simulate the network's depth in steps, ``steps_simulated``), ``estimates`` (one per profile, run and mode), ``timing`` (wall seconds; the only
        entries that differ between repeated runs). Energies in joules per inference,
        latencies in seconds.
    """
    import neurosim
    from neurosim.checkpoint import save_checkpoint
    from neurosim.hardware.profile import load_profiles

    if isinstance(config, dict):
        config = config_from_mapping(config)
    if isinstance(point, dict):
        point = Point(point["weight_sparsity"], point["activity"])
    t0 = time.perf_counter()
    result = neurosim.train(config.train_settings(point), plots=False)
    kind = "dense" if point.is_dense else "sparse"
    m = result.metrics[kind]
    t_train = time.perf_counter() - t0
    profiles = load_profiles(list(config.profiles))
    needed: dict[str, list[tuple[str, int]]] = {}
    for prof in profiles:
        needed[prof.name] = (_dense_runs(prof, config.timesteps) if point.is_dense
                             else _target_runs(prof, config.coding, config.timesteps))
    sims = sorted({("graded" if c == "ann" else c, t) for runs in needed.values() for c, t in runs})
    records = {}
    runs = []
    with tempfile.TemporaryDirectory(prefix="neurosim-sweep-") as tmp:
        ckpt = save_checkpoint(result.checkpoints[kind], Path(tmp) / f"{kind}.pt")
        nets = {}
        for coding, t in sims:
            if coding not in nets:
                nets[coding] = neurosim.convert(ckpt, coding=coding)
            steps = coding_timesteps(coding, t, len(nets[coding].network.layers))  # graded: the network's depth
            sim = neurosim.simulate(nets[coding], dataset=config.dataset, data_dir=config.data_dir,
                                    samples=config.samples, timesteps=steps)
            records[(coding, t)] = sim
            runs.append({"coding": coding, "timesteps": t, "steps_simulated": steps, "mse": sim.mse_vs_input,
                         "mse_vs_ann": sim.mse_vs_ann,
                         "synaptic_ops_per_inference": sim.synaptic_ops_per_inference,
                         "spikes_per_inference": sim.spikes_per_inference,
                         "nonzero_synapses": int(nets[coding].nonzero_synapses),
                         "num_samples": sim.num_samples})
    t_sim = time.perf_counter() - t0 - t_train
    estimates = []
    for prof in profiles:
        for coding, t in needed[prof.name]:
            rec = records[("graded" if coding == "ann" else coding, t)]
            est = neurosim.estimate(rec, prof, draws=config.draws, batch_size=config.batch_size_throughput)[0]
            for mode, me in est.modes.items():
                estimates.append({"profile": prof.name, "kind": prof.kind, "runs": est.runs, "coding": coding,
                                  "timesteps": t, "mode": mode, "fits": bool(est.fits),
                                  "energy_j": _interval(me.energy_total_j),
                                  "energy_dynamic_j": _interval(me.energy_dynamic_j),
                                  "energy_static_j": _interval(me.energy_static_j),
                                  "latency_s": _interval(me.latency_s),
                                  "inferences_per_s": _interval(me.inferences_per_s),
                                  "work_per_inference": est.work.get("per_inference"),
                                  "work_label": est.work.get("label")})
    return {
        "format": POINT_FORMAT, "status": "done",
        "point": {"key": point.key, "weight_sparsity": point.weight_sparsity, "activity": point.activity,
                  "model": kind},
        "model": {"test_mse": float(m["test_mse"]), "weight_density": float(m["weight_density"]),
                  "activation_density": float(m["activation_density"]),
                  "macs_per_inference": float(m["macs_per_inference"]), "hidden": int(m.get("hidden", 0)),
                  "dense_macs_per_inference": float(result.metrics["dense"]["macs_per_inference"])},
        "runs": runs, "estimates": estimates,
        "timing": {"train_s": t_train, "simulate_s": t_sim, "total_s": time.perf_counter() - t0},
    }


def point_task(config: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """:func:`run_point` that never raises: an error becomes a ``status: failed`` result."""
    t0 = time.perf_counter()
    try:
        return run_point(config, point)
    except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
        return failed_result(point, exc, time.perf_counter() - t0)


def failed_result(point: dict[str, Any], exc: BaseException | str, seconds: float = 0.0) -> dict[str, Any]:
    """The record of a point that could not be computed."""
    p = Point(point["weight_sparsity"], point["activity"])
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return {"format": POINT_FORMAT, "status": "failed", "error": text,
            "point": {"key": p.key, "weight_sparsity": p.weight_sparsity, "activity": p.activity,
                      "model": "dense" if p.is_dense else "sparse"},
            "timing": {"total_s": seconds}}


# ---------------------------------------------------------------------------- the sweep


def point_path(out: Path, point: Point) -> Path:
    return out / "points" / f"{point.key}.json"


def _finished(out: Path, point: Point, fingerprint: str) -> bool:
    path = point_path(out, point)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and data.get("status") == "done" and data.get("fingerprint") == fingerprint


def prepare(config: SweepConfig, out: str | Path) -> tuple[Path, list[Point]]:
    """Create the sweep folder, save ``sweep.toml`` and return the points still to run.

    Raises :class:`ConfigError` when the folder holds a sweep with other training or estimate
    settings (the grid may grow; the budget may not change under finished points).
    """
    out = Path(out)
    saved = out / "sweep.toml"
    if saved.is_file():
        from neurosim.sweep.grid import read_sweep_config

        old = read_sweep_config(saved)
        if old.fingerprint() != config.fingerprint():
            diff = [k for k, v in config.to_dict().items()
                    if k not in ("weight_sparsity", "activity") and old.to_dict().get(k) != v]
            raise ConfigError(f"{saved}: this folder holds a sweep with other settings ({', '.join(diff)}); "
                              f"use another --out or the same settings")
    write_sweep_config(config, saved)
    fp = config.fingerprint()
    todo = [p for p in config.points() if not _finished(out, p, fp)]
    return out, todo


def _store(out: Path, result: dict[str, Any], fingerprint: str) -> None:
    result = {**result, "fingerprint": fingerprint}
    key = result["point"]["key"]
    write_json(result, out / "points" / f"{key}.json")


class Progress:
    """Counts of done / running / failed points, printed as one line per change."""

    def __init__(self, total: int, skipped: int, stream: TextIO | None) -> None:
        self.total, self.done, self.failed, self.stream = total, skipped, 0, stream
        self.t0 = time.perf_counter()

    def line(self, running: int, last: str = "") -> str:
        return (f"sweep: {self.done}/{self.total} done, {running} running, {self.failed} failed "
                f"({time.perf_counter() - self.t0:.0f} s){'  ' + last if last else ''}")

    def show(self, running: int, last: str = "") -> None:
        if self.stream is not None:
            print(self.line(running, last), file=self.stream, flush=True)


def _describe(result: dict[str, Any]) -> str:
    p = result["point"]
    if result["status"] != "done":
        return f"{p['key']} failed: {result['error']}"
    return f"{p['key']} MSE {result['model']['test_mse']:.5f} in {result['timing']['total_s']:.0f} s"


def run_sweep(config: SweepConfig, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              serial: bool = False, progress: TextIO | None = sys.stderr,
              on_result: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run every unfinished point of ``config`` and write the results into ``out``.

    Parameters
    ----------
    config : SweepConfig
    out : path
        The sweep folder: ``sweep.toml``, ``points/<key>.json`` (one per point, atomic).
    workers : int, optional
        Worker processes of the local cluster (default: one per core).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``).
    serial : bool
        Run the points one after another in this process (no cluster).
    progress : file, optional
        Where progress lines and the dashboard address go (None: silent).
    on_result : callable, optional
        Called with each point's result as it is stored.

    Returns
    -------
    dict
        ``total``, ``ran``, ``skipped``, ``failed`` counts and ``wall_s``.
    """
    config.validate()
    out, todo = prepare(config, out)
    fp = config.fingerprint()
    total = len(config.points())
    prog = Progress(total, total - len(todo), progress)
    t0 = time.perf_counter()
    cfg, failed = config.to_dict(), 0

    def store(result: dict[str, Any]) -> None:
        nonlocal failed
        _store(out, result, fp)
        if result["status"] == "done":
            prog.done += 1
        else:
            failed += 1
            prog.failed += 1
        if on_result is not None:
            on_result(result)

    if not todo:
        prog.show(0, "nothing to run")
    elif serial:
        for p in todo:
            prog.show(1)
            result = point_task(cfg, {"weight_sparsity": p.weight_sparsity, "activity": p.activity})
            store(result)
            prog.show(0, _describe(result))
    else:
        _run_on_cluster(cfg, todo, store, prog, workers, scheduler, progress)
    return {"total": total, "ran": len(todo), "skipped": total - len(todo), "failed": failed,
            "wall_s": time.perf_counter() - t0}


def _run_on_cluster(cfg: dict[str, Any], todo: list[Point], store: Callable[[dict[str, Any]], None],
                    prog: Progress, workers: int | None, scheduler: str | None, stream: TextIO | None) -> None:
    from dask.distributed import as_completed

    from neurosim.cluster import cluster

    with cluster(workers=workers, scheduler=scheduler, announce=stream) as client:
        futures = {}
        for p in todo:
            pd = {"weight_sparsity": p.weight_sparsity, "activity": p.activity}
            fut = client.submit(point_task, cfg, pd, key=f"sweep-{p.key}-{time.time_ns()}", pure=False)
            futures[fut] = pd
        remaining = len(futures)

        def running() -> int:
            try:
                busy = sum(min(len(keys), client.nthreads().get(w, 1)) for w, keys in client.processing().items())
                return min(remaining, busy)
            except Exception:  # noqa: BLE001 - a count for display only
                return 0

        prog.show(running())
        for fut in as_completed(list(futures)):
            remaining -= 1
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker, not the point's own error
                result = failed_result(futures[fut], exc)
            store(result)
            prog.show(running(), _describe(result))


def load_points(out: str | Path) -> list[dict[str, Any]]:
    """Every stored point result of a sweep folder (done and failed), in file-name order."""
    folder = Path(out) / "points"
    if not folder.is_dir():
        raise NeurosimError(f"{out}: not a sweep folder (no points/ inside)")
    results = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise NeurosimError(f"{path}: not a sweep point file ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != POINT_FORMAT:
            raise NeurosimError(f"{path}: not a sweep point file (format is not {POINT_FORMAT})")
        results.append(data)
    return results
