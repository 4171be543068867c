"""A sweep's tidy table: one row per (point, target, coding, T, mode), as ``sweep.csv`` and JSON.

Columns (SI units; energies per inference in joules, latencies in seconds):

``point, model, status, error``
    grid key, ``sparse`` or ``dense`` (the reference), ``done`` / ``failed`` and the error.
``weight_sparsity, activity_target``
    the point's targets (the dense reference: 0 and empty).
``weight_density, activation_density, ann_mse, macs_per_inference``
    what training measured on the held-out split (effective MACs of the ANN).
``profile, kind, runs, coding, timesteps, mode``
    the target, what runs on it (``snn`` / ``ann``), the code (``rate``, ``graded``, ``ann``),
    ``T`` and the operating mode (``latency``: one inference alone; ``throughput``: kept busy).
``mse``
    reconstruction MSE of what runs there (the spiking network's for ``snn`` rows).
``synaptic_ops_per_inference, spikes_per_inference, nonzero_synapses, events_per_synapse``
    of the simulated run; ``events_per_synapse = synaptic ops / nonzero synapses`` of the point's
    own network; ``events_per_dense_synapse = synaptic ops / synapses of the dense network``:
    the "spikes per synapse" of published SNN-vs-ANN analyses, measured against the network
    the point is compared with (the dense ANN does one MAC per dense synapse).
``energy_j, energy_j_p10, energy_j_p90, energy_dynamic_j, energy_static_j, latency_s,
latency_s_p10, latency_s_p90, inferences_per_s, fits``
    the estimate: medians and 10-90 % intervals over the profile's uncertain figures.
``dense_energy_j, saving_vs_dense``
    the dense ANN on the same target and mode (as the ANN on ANN targets, as graded events on
    chips with graded spikes, rate-coded at the same T on chips without) and
    ``dense_energy_j / energy_j``: above 1 the point beats the dense ANN there.
``train_s, total_s``
    wall seconds (the only columns that differ between repeated runs).
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from neurosim.fileio import write_atomic, write_json

COLUMNS = ("point", "model", "status", "error", "weight_sparsity", "activity_target", "weight_density",
           "activation_density", "ann_mse", "macs_per_inference", "profile", "kind", "runs", "coding",
           "timesteps", "mode", "mse", "synaptic_ops_per_inference", "spikes_per_inference", "nonzero_synapses",
           "events_per_synapse", "events_per_dense_synapse", "energy_j", "energy_j_p10", "energy_j_p90", "energy_dynamic_j",
           "energy_static_j", "latency_s", "latency_s_p10", "latency_s_p90", "inferences_per_s", "fits",
           "dense_energy_j", "saving_vs_dense", "train_s", "total_s")

#: columns that measure wall time (they differ between runs of the same sweep)
TIMING_COLUMNS = ("train_s", "total_s")


def _dense_key(row: dict[str, Any]) -> tuple:
    """Which dense row a row compares with: same profile and mode; same T where the dense
    network runs rate-coded (targets without graded spikes)."""
    return (row["profile"], row["mode"], row["timesteps"] if row["dense_coding"] == "rate" else None)


def tidy_rows(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's rows from the point results (:func:`neurosim.sweep.run.load_points`)."""
    rows: list[dict[str, Any]] = []
    for res in points:
        p = res["point"]
        base = {"point": p["key"], "model": p["model"], "status": res["status"], "error": res.get("error", ""),
                "weight_sparsity": p["weight_sparsity"], "activity_target": p["activity"],
                "train_s": res.get("timing", {}).get("train_s"), "total_s": res.get("timing", {}).get("total_s")}
        if res["status"] != "done":
            rows.append(base)
            continue
        m = res["model"]
        base.update(weight_density=m["weight_density"], activation_density=m["activation_density"],
                    ann_mse=m["test_mse"], macs_per_inference=m["macs_per_inference"])
        runs = {(r["coding"], r["timesteps"]): r for r in res["runs"]}
        for e in res["estimates"]:
            sim = runs[("graded" if e["coding"] == "ann" else e["coding"], e["timesteps"])]
            ann = e["coding"] == "ann"
            row = dict(base, profile=e["profile"], kind=e["kind"], runs=e["runs"], coding=e["coding"],
                       timesteps=None if e["coding"] != "rate" else e["timesteps"], mode=e["mode"],
                       mse=m["test_mse"] if ann else sim["mse"],
                       synaptic_ops_per_inference=sim["synaptic_ops_per_inference"],
                       spikes_per_inference=sim["spikes_per_inference"], nonzero_synapses=sim["nonzero_synapses"],
                       events_per_synapse=sim["synaptic_ops_per_inference"] / max(sim["nonzero_synapses"], 1),
                       energy_j=e["energy_j"]["median"], energy_j_p10=e["energy_j"]["p10"],
                       energy_j_p90=e["energy_j"]["p90"], energy_dynamic_j=e["energy_dynamic_j"]["median"],
                       energy_static_j=e["energy_static_j"]["median"], latency_s=e["latency_s"]["median"],
                       latency_s_p10=e["latency_s"]["p10"], latency_s_p90=e["latency_s"]["p90"],
                       inferences_per_s=e["inferences_per_s"]["median"], fits=e["fits"])
            rows.append(row)
    dense: dict[tuple, float] = {}
    for r in rows:
        if r["model"] == "dense" and r.get("profile"):
            r["dense_coding"] = r["coding"]
            dense[_dense_key(r)] = r["energy_j"]
    codings = {r["profile"]: r["coding"] for r in rows if r["model"] == "dense" and r.get("profile")}
    dense_synapses = next((r["nonzero_synapses"] for r in rows if r["model"] == "dense" and r.get("profile")), None)
    for r in rows:
        if not r.get("profile"):
            continue
        r["dense_coding"] = codings.get(r["profile"], r["coding"])
        ref = dense.get(_dense_key(r))
        r["dense_energy_j"] = ref
        r["saving_vs_dense"] = ref / r["energy_j"] if ref is not None and r["energy_j"] > 0 else None
        r["events_per_dense_synapse"] = (r["synaptic_ops_per_inference"] / dense_synapses
                                         if dense_synapses else None)
    for r in rows:
        r.pop("dense_coding", None)
    order = {p["point"]["key"]: i for i, p in enumerate(points)}
    rows.sort(key=lambda r: (r["model"] != "dense", order[r["point"]], r.get("profile") or "",
                             r.get("coding") or "", r.get("timesteps") or 0, r.get("mode") or ""))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> str:
    """The rows as CSV text (empty cells for values that do not apply)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def frontier_groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str, int | None], list[dict[str, Any]]]:
    """Done rows grouped by (profile, coding, T): one panel of the figures each."""
    out: dict[tuple[str, str, int | None], list[dict[str, Any]]] = {}
    for r in rows:
        if r["status"] == "done" and r.get("profile"):
            out.setdefault((r["profile"], r["coding"], r["timesteps"]), []).append(r)
    return out


def pareto_front(energy: np.ndarray, mse: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both energy and MSE, by rising energy.

    A point is on the front when every point with lower (or equal) energy has a higher MSE.
    """
    order = np.lexsort((mse, energy))
    front, best = [], math.inf
    for i in order:
        if mse[i] < best:
            front.append(int(i))
            best = mse[i]
    return np.asarray(front, dtype=int)


def break_even(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (profile, coding, T, mode): where the sparse points stop beating the dense ANN.

    ``events_per_synapse_at_break_even``: sorted by ``events_per_dense_synapse``, every pair of
    neighbouring sparse points where the saving crosses 1 gives a crossing by straight-line
    interpolation of ``log saving`` against ``log events``; the median of these crossings (None
    when no pair crosses). ``winning`` / ``losing`` count the points with saving above / below 1,
    and ``best`` is the point with the largest saving.
    """
    out = []
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        if r["status"] == "done" and r.get("profile") and r["model"] == "sparse" and r.get("saving_vs_dense"):
            groups.setdefault((r["profile"], r["coding"], r["timesteps"], r["mode"]), []).append(r)
    for (profile, coding, t, mode), rs in sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        s = np.array([r["saving_vs_dense"] for r in rs])
        eps = np.array([r["events_per_dense_synapse"] or 0.0 for r in rs])
        cross = None
        ok = (eps > 0) & (s > 0)
        le, ls = np.log10(eps[ok]), np.log10(s[ok])
        order = np.argsort(le, kind="stable")
        le, ls = le[order], ls[order]
        found = [le[i] + (le[i + 1] - le[i]) * ls[i] / (ls[i] - ls[i + 1])
                 for i in range(len(le) - 1) if ls[i] * ls[i + 1] < 0 and le[i + 1] > le[i]]
        if found:
            cross = float(10 ** np.median(found))
        best = rs[int(np.argmax(s))]
        out.append({"profile": profile, "coding": coding, "timesteps": t, "mode": mode,
                    "winning": int((s > 1).sum()), "losing": int((s < 1).sum()),
                    "best_point": best["point"], "best_saving": float(s.max()),
                    "worst_point": rs[int(np.argmin(s))]["point"], "worst_saving": float(s.min()),
                    "events_per_synapse_at_break_even": cross,
                    "losing_points": [r["point"] for r in rs if r["saving_vs_dense"] < 1]})
    return out


def write_results(out: str | Path, points: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Path]:
    """Write ``sweep.csv`` and ``sweep.json`` (config, rows, break-even summary) into ``out``."""
    out = Path(out)
    rows = tidy_rows(points)
    done = sum(p["status"] == "done" for p in points)
    summary = {"points": len(points), "done": done, "failed": len(points) - done,
               "failures": [{"point": p["point"]["key"], "error": p.get("error")} for p in points
                            if p["status"] != "done"],
               "break_even": break_even(rows)}
    return {"csv": write_atomic(out / "sweep.csv", to_csv(rows)),
            "json": write_json({"format": "neurosim.sweep", "config": config, "columns": list(COLUMNS),
                                "rows": rows, "summary": summary}, out / "sweep.json")}
