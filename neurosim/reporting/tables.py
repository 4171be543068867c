"""The demo report's tables as data: header and rows of strings, rendered by
:mod:`neurosim.reporting.html`, :mod:`neurosim.reporting.markdown` or as fixed-width text.

Nothing here recomputes a measurement: ANN figures come from the training metrics,
spiking figures from activity records, costs from the hardware estimates.
"""
from __future__ import annotations

from typing import Any, Mapping

from neurosim.reporting.units import MISSING, format_count, format_ratio, format_si

#: the models trained side by side, in report order
MODELS = ("dense", "sparse", "small_dense")
#: the models converted to spiking networks
SNN_MODELS = ("dense", "sparse")
CODINGS = ("rate", "graded")
#: targets whose energy appears in the headline table (when estimated)
HEADLINE_PROFILES = ("loihi2", "spinnaker2", "gpu_baseline")

Table = tuple[list[str], list[list[str]]]


def as_range(value: Any) -> dict[str, float] | None:
    """A ``{low, typical, high}`` dict (a plain number is all three); None if neither."""
    if isinstance(value, dict) and "typical" in value:
        t = float(value["typical"])
        return {"low": float(value.get("low", t)), "typical": t, "high": float(value.get("high", t))}
    if isinstance(value, (int, float)):
        return {"low": float(value), "typical": float(value), "high": float(value)}
    return None


# --------------------------------------------------------------------------- rows (data)


def headline(metrics: Mapping[str, Any] | None, records: Mapping[tuple[str, str], Any],
             ann_mse: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """One row per model with the numbers people quote.

    ``test_mse``, ``weight_density``, ``activation_density``, ``macs_per_inference`` from the
    training metrics; ``snn_{coding}_mse`` (mean squared error vs the input, pixel²) and
    ``snn_{coding}_synops`` (synaptic operations per inference) from the activity records.
    ``ann_mse`` (model -> MSE of the ANN on the simulated samples), when given, replaces the
    training metrics' ``test_mse`` so that ANN and SNN are compared on the same samples.
    """
    m = metrics or {}
    rows = []
    for model in MODELS:
        mm = m.get(model)
        if not isinstance(mm, dict):
            continue
        row: dict[str, Any] = {"model": model, "test_mse": (ann_mse or {}).get(model, mm.get("test_mse")),
                               "weight_density": mm.get("weight_density"),
                               "activation_density": mm.get("activation_density"),
                               "macs_per_inference": mm.get("macs_per_inference")}
        for coding in CODINGS:
            rec = records.get((model, coding))
            if rec is not None:
                row[f"snn_{coding}_mse"] = rec.mse_vs_input
                row[f"snn_{coding}_synops"] = rec.synaptic_ops / max(rec.num_samples, 1)
        rows.append(row)
    return rows


def _range(interval: dict[str, float]) -> dict[str, float]:
    """An estimate's interval ``{median, p10, p90}`` as ``{low: p10, typical: median, high: p90}``."""
    return {"low": float(interval["p10"]), "typical": float(interval["median"]), "high": float(interval["p90"])}


def hardware_rows(estimates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (profile, model) from the hardware estimates.

    Each target is shown with one coding for both models, so that dense and sparse compare
    like with like: ``graded`` where both graded networks fit the target (it is the coding
    whose synaptic operations track the ANN's MACs), else ``rate``. Targets that run the ANN
    (``runs == 'ann'``) get the same ANN figures from either record. ``ops`` is what the
    target executes: synaptic operations on neuromorphic targets, MACs elsewhere. ``energy``
    and ``latency`` are the latency mode's total energy and latency as ``{low: 10th
    percentile, typical: median, high: 90th percentile}``; ``modes`` holds both modes' dynamic,
    static and total energy, latency and inferences/s; ``savings`` the per-draw dense/sparse
    ratios (on the sparse row) where the estimates carry them.
    """
    def row(e: dict[str, Any]) -> dict[str, Any] | None:
        modes = e.get("modes")
        if not isinstance(modes, dict) or "latency" not in modes:
            return None
        lat = modes["latency"]
        runs = e["runs"]
        model = str(e.get("record_model") or e.get("model"))
        model = "sparse" if "sparse" in model else "dense" if "dense" in model else model
        work = e.get("work") or {}
        return {"profile": str(e.get("profile")), "model": model, "coding": e.get("coding"), "runs": runs,
                "fits": bool(e.get("fits", True)), "energy": _range(lat["energy_total_j"]),
                "latency": _range(lat["latency_s"]), "modes": modes, "savings": e.get("savings_vs_dense"),
                "dominant_uncertainty": e.get("dominant_uncertainty"),
                "ops": work.get("per_inference"), "ops_kind": work.get("label"),
                "kind": e["kind"], "extra": e.get("extra") if isinstance(e.get("extra"), dict) else {},
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


# --------------------------------------------------------------------------- tables (strings)


def headline_table(rows: list[dict[str, Any]], hw_rows: list[dict[str, Any]] | None = None,
                   timesteps: int | None = None) -> Table:
    """The headline numbers transposed: one row per quantity, one column per model, and
    the dense-to-sparse ratio (what sparsity saves)."""
    t = timesteps
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
        line = [label] + [fmt(v) if v is not None else MISSING for v in vals]
        if show_ratio:
            line.append(_ratio_text(by["dense"].get(key), by["sparse"].get(key), how))
        body.append(line)
    for profile in HEADLINE_PROFILES:
        mine = {r["model"]: r for r in (hw_rows or []) if r["profile"] == profile}
        if not mine:
            continue
        label = next(iter(mine.values())).get("label", profile)
        line = [f"energy per inference on {label} (one inference alone, median)"] + [
            format_si(mine[m]["energy"]["typical"], "J") if m in mine else MISSING for m in models]
        if show_ratio:
            d, sp = mine.get("dense"), mine.get("sparse")
            saved = ((sp or {}).get("savings") or {}).get("latency", {}).get("energy_total")
            if saved:  # per Monte-Carlo draw: the same hardware for both models
                line.append(_ratio_text(saved["median"], 1.0, "less")
                            + f" [{saved['p10']:.3g}–{saved['p90']:.3g}]")
            else:
                line.append(_ratio_text(d["energy"]["typical"] if d else None,
                                        sp["energy"]["typical"] if sp else None, "less"))
        body.append(line)
    return head, body


def hardware_table(hw_rows: list[dict[str, Any]]) -> Table:
    """Energy per inference (dynamic, static, total), latency and inferences/s on every profile,
    in both modes, median [10th - 90th percentile]; the work each target pays for; and, on
    the sparse row, what it saves over dense (dense / sparse per draw)."""
    def iv(d: dict[str, float], unit: str) -> str:
        if d["p10"] == d["p90"]:
            return format_si(d["median"], unit)
        return f"{format_si(d['median'], unit)} [{format_si(d['p10'], unit)} – {format_si(d['p90'], unit)}]"

    def ratio(d: dict[str, float] | None) -> str:
        if not d:
            return MISSING
        return f"{d['median']:.3g}x" + ("" if d["p10"] == d["p90"] else f" [{d['p10']:.3g} – {d['p90']:.3g}]")

    head = ["profile (what runs)", "model", "mode", "dynamic energy", "static energy", "total energy", "latency",
            "inferences / s", "work / inference (what the target pays for)", "dense ÷ sparse total energy"]
    body = []
    for r in hw_rows:
        for mode in ("latency", "throughput"):
            m = r["modes"][mode]
            sv = (r.get("savings") or {}).get(mode, {}).get("energy_total")
            body.append([r.get("label", r["profile"]), r["model"], mode, iv(m["energy_dynamic_j"], "J"),
                         iv(m["energy_static_j"], "J"), iv(m["energy_total_j"], "J"), iv(m["latency_s"], "s"),
                         iv(m["inferences_per_s"], ""),
                         f"{format_count(r['ops'])} {r['ops_kind']}" if r.get("ops") is not None else MISSING,
                         ratio(sv) if r["model"] == "sparse" else MISSING])
    return head, body


def agreement_table(entries: list[dict[str, Any]]) -> Table:
    """Other backends against the reference engine: identical spike counts, synaptic ops."""
    head = ["backend", "network", "samples x T", "identical spike counts", "max |diff|", "synaptic ops vs reference",
            "note"]
    body = []
    for a in entries:
        ran = a.get("diff") is not None
        body.append([a["backend"], f"{a['model']} {a['coding']}", f"{a['samples']} x {a['timesteps']}",
                     f"{a['identical_fraction'] * 100:.2f}%" if ran else MISSING,
                     str(a["max_abs_diff"]) if ran else MISSING,
                     f"{a['synops_rel_diff'] * 100:+.2f}%" if ran else MISSING, "" if ran else a.get("note", "")])
    return head, body


def stage_table(stages: list[Any]) -> Table:
    """The pipeline's stages: name, status, seconds, note."""
    return ["stage", "status", "time", "note"], [[s.name, s.status, f"{s.seconds:.1f} s", s.note] for s in stages]


def text_table(table: Table) -> str:
    """A table as fixed-width text (what ``neurosim demo`` prints)."""
    head, body = table
    rows = [head] + body
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_sentences(rows: list[dict[str, Any]]) -> list[str]:
    """The headline in words: MACs saved, what it costs in accuracy, iso-compute, synaptic ops."""
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
        out.append(f"As spiking networks with graded spikes, the sparse one needs "
                   f"{format_ratio(d['snn_graded_synops'], s['snn_graded_synops'])} fewer synaptic operations per "
                   f"inference than the dense one.")
    return out


def _ratio_text(dense: Any, sparse: Any, how: str) -> str:
    if dense is None or sparse is None or not dense or not sparse:
        return MISSING
    if how == "×":  # an error: how many times the dense one
        return f"{sparse / dense:.2f}x the dense"
    r = dense / sparse
    word = "less" if how == "less" else "fewer"
    return f"{r:.3g}x {word}" if r >= 1.05 else f"{1 / r:.3g}x more" if r <= 1 / 1.05 else "same"


def _f4(v: Any) -> str:
    return f"{float(v):.4f}"


def _f3(v: Any) -> str:
    return f"{float(v):.3f}"


__all__ = ["MODELS", "SNN_MODELS", "CODINGS", "HEADLINE_PROFILES", "as_range", "headline", "hardware_rows",
           "headline_table", "hardware_table", "agreement_table", "stage_table", "text_table", "summary_sentences"]
