"""Format energy & latency estimates (:func:`neurosim.hardware.estimate`) for people.

``format_report(estimates, fmt)`` renders estimates (typed
:class:`~neurosim.hardware.result.Estimate` s or their ``to_dict()``) as ``'text'`` (aligned
tables), ``'md'`` (Markdown), ``'html'`` (standalone page) or ``'json'``;
:func:`print_report_for` estimates a record on profiles and prints the report straight
away (what ``neurosim simulate --profile X`` calls).

Every number is per inference, for each operating mode (``latency``: one inference alone;
``throughput``: the hardware kept busy), energy split into dynamic and static, shown as
``median [10th - 90th percentile]`` over the Monte-Carlo draws of the profile's figures.
When the estimates hold a dense and a sparse model on the same profile, the savings
(dense / sparse) are computed per draw (:func:`neurosim.hardware.compare`).
"""
from __future__ import annotations

import html
import json
import sys
from pathlib import Path
from typing import Any, Iterable, TextIO

from neurosim.errors import ValidationError
from neurosim.fileio import json_default, write_atomic  # noqa: F401  (write_atomic: used by the commands)
from neurosim.reporting.units import format_count as count, format_si as si  # one formatter for every report

FORMATS = ("text", "json", "md", "html")
MODE_TITLES = {"latency": "latency mode: one inference alone (batch 1)",
               "throughput": "throughput mode: hardware kept busy (steady state)"}


def iv(d: dict[str, float] | None, unit: str) -> str:
    """An interval dict ``{median, p10, p90}`` as ``'median [p10 - p90]'``."""
    if not d:
        return "-"
    if d["p10"] == d["p90"]:
        return si(d["median"], unit)
    return f"{si(d['median'], unit)} [{si(d['p10'], unit)} - {si(d['p90'], unit)}]"


def ratio_iv(d: dict[str, float] | None) -> str:
    if not d:
        return "-"
    f = lambda x: f"{x:.3g}x"  # noqa: E731
    return f(d["median"]) if d["p10"] == d["p90"] else f"{f(d['median'])} [{f(d['p10'])} - {f(d['p90'])}]"


def plain(estimates: Iterable[Any]) -> list[dict[str, Any]]:
    """Estimates as dicts, with ``savings_vs_dense`` added per draw where a dense/sparse pair exists."""
    items = list(estimates)
    attach_savings(items)
    return [e.to_dict() if hasattr(e, "to_dict") else dict(e) for e in items]


def _model_name(e: Any) -> str:
    get = (lambda k: e.get(k)) if isinstance(e, dict) else (lambda k: e.labels.get(k, getattr(e, k, None)))
    text = str(get("record_model") or get("model") or "").lower()
    return "sparse" if text.startswith("sparse") else "dense" if text.startswith("dense") else text


def attach_savings(estimates: list[Any]) -> None:
    """For typed estimates: label each sparse estimate with what it saves over the dense one
    on the same profile (and coding), per draw, in both modes (``labels['savings_vs_dense']``)."""
    from neurosim.hardware.estimate import compare
    from neurosim.hardware.result import MODES

    typed = [e for e in estimates if hasattr(e, "modes") and hasattr(e, "labels")]
    for s in typed:
        if _model_name(s) != "sparse":
            continue
        coding = s.labels.get("coding", s.coding)
        d = next((e for e in typed if _model_name(e) == "dense" and e.profile_path == s.profile_path
                  and e.labels.get("coding", e.coding) == coding and e.seed == s.seed and e.draws == s.draws), None)
        if d is None:
            continue
        s.labels["savings_vs_dense"] = {m: {k: v.as_dict() for k, v in compare(d, s, m).items()} for m in MODES}


def resources_text(e: dict[str, Any], mode: str) -> str:
    r = e["modes"][mode]["resources"]
    kind = e.get("kind")
    if kind == "neuromorphic":
        chips = f"{r.get('chips')} chip{'s' if r.get('chips') != 1 else ''}"
        boards = f" on {r['boards']} board{'s' if r['boards'] != 1 else ''}" if r.get("boards") else ""
        copies = f", {r['copies']} copies" if r.get("copies", 1) > 1 else ""
        return f"{r.get('cores')} cores, {chips}{boards}{copies}"
    if kind == "crossbar":
        return (f"{r.get('tiles')} tiles (dense {r.get('tiles_if_dense')}), {r.get('chips')} "
                f"chip{'s' if r.get('chips') != 1 else ''}" + (", pipelined" if r.get("pipelined") else ""))
    if kind == "wafer_scale":
        copies = f", {r['copies']} copies" if r.get("copies", 1) > 1 else ""
        return f"{r.get('cores')} cores ({100 * r.get('wafer_fraction', 0):.2g} % of wafer){copies}"
    if kind in ("gpu", "cpu"):
        return f"1 {kind.upper()}, batch {r.get('batch_size')}"
    return json.dumps(r, default=json_default)


COLUMNS = ("profile", "runs", "model", "dynamic energy", "static energy", "total energy", "latency",
           "inferences/s", "work paid for", "resources", "fits")


def mode_rows(estimates: list[dict[str, Any]], mode: str) -> list[list[str]]:
    rows = []
    for e in estimates:
        m = e["modes"][mode]
        work = e.get("work", {})
        rows.append([e["profile"], e.get("runs", ""), str(e.get("model", "")), iv(m["energy_dynamic_j"], "J"),
                     iv(m["energy_static_j"], "J"), iv(m["energy_total_j"], "J"), iv(m["latency_s"], "s"),
                     iv(m["inferences_per_s"], ""), f"{count(work.get('per_inference'))} {work.get('label', '')}",
                     resources_text(e, mode), "yes" if e.get("fits", True) else "NO"])
    return rows


SAVINGS_COLUMNS = ("profile", "mode", "total energy", "dynamic energy", "static energy", "latency")


def savings_rows(estimates: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for e in estimates:
        sv = e.get("savings_vs_dense")
        if not sv:
            continue
        for mode in ("latency", "throughput"):
            s = sv[mode]
            rows.append([e["profile"], mode, ratio_iv(s["energy_total"]), ratio_iv(s["energy_dynamic"]),
                         ratio_iv(s["energy_static"]), ratio_iv(s["latency"])])
    return rows


def _header(estimates: list[dict[str, Any]]) -> str:
    if not estimates:
        return "Energy and latency per inference"
    srcs = sorted({str(e.get("source") or "") for e in estimates} - {""})
    samples = sorted({e.get("num_samples") for e in estimates})
    steps = sorted({e.get("timesteps") for e in estimates})
    draws = sorted({e.get("draws") for e in estimates})
    text = f"Energy and latency per inference, median [10 - 90 %] over {', '.join(map(str, draws))} draws"
    detail = []
    if srcs:
        detail.append("record " + ", ".join(srcs))
    detail.append(f"{', '.join(map(str, samples))} samples, {', '.join(map(str, steps))} timesteps")
    return text + " (" + "; ".join(detail) + ")"


def _dominant(e: dict[str, Any]) -> str:
    d = e.get("dominant_uncertainty") or {}
    if not d.get("figure"):
        return "no uncertain figure"
    return f"{d['figure']} ({100 * d['share']:.0f} % of the variance of log energy)"


def _beside_name(key: str) -> str:
    """``static_whole_chips_j`` -> ``static energy of the whole chips``."""
    words = key.removesuffix("_j").split("_")
    return f"{words[0]} energy of the {' '.join(words[1:])}" if len(words) > 1 else key


def _sparsity_line(e: dict[str, Any]) -> str | None:
    sp = e.get("extra", {}).get("sparsity")
    if not sp:
        return None
    return (f"tiles used {sp['tiles_used']} of {sp['tiles_if_weights_dense']} for dense weights "
            f"({100 * sp['nonzero_weight_fraction']:.0f} % of weights nonzero); typical dynamic energy "
            f"{si(sp['dynamic_energy_typical_j'], 'J')}, with dense weights "
            f"{si(sp['dynamic_energy_if_weights_dense_j'], 'J')}, with every input nonzero "
            f"{si(sp['dynamic_energy_if_all_inputs_nonzero_j'], 'J')}")


def _aligned(columns: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    widths = [max(len(columns[i]), *(len(r[i]) for r in rows)) if rows else len(columns[i])
              for i in range(len(columns))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return [line(columns), line(["-" * w for w in widths])] + [line(r) for r in rows]


def format_text(estimates: list[Any]) -> str:
    est = plain(estimates)
    out = [_header(est)]
    deployments = sorted({(e.get("extra") or {}).get("deployment", "bare") for e in est})
    out.append("Deployment: " + ", ".join(deployments) + " (bare: the hardware alone, inputs already on the "
               "device; host_driven: a framework call per batch or host I/O every timestep)")
    for mode in ("latency", "throughput"):
        out += ["", MODE_TITLES[mode] + ":"] + _aligned(COLUMNS, mode_rows(est, mode))
    sv = savings_rows(est)
    if sv:
        out += ["", "Dense -> sparse savings (dense / sparse, per draw: the same hardware in both):"]
        out += _aligned(SAVINGS_COLUMNS, sv)
    out += ["", "Energy by component, latency mode (median):"]
    for e in est:
        m = e["modes"]["latency"]
        total = m["energy_total_j"]["median"]
        parts = [f"{name} ({b['part']}) {100 * b['median'] / total:.0f} %" for name, b in m["breakdown"].items()
                 if total > 0 and b["median"] / total >= 0.005]
        out.append(f"  {e['profile']} / {e.get('model')}: {', '.join(parts) or '-'}")
    out += ["", "Largest source of uncertainty (latency-mode total energy):"]
    out += [f"  {e['profile']} / {e.get('model')}: {_dominant(e)}" for e in est]
    notes = []
    for e in est:
        for name, b in e["modes"]["latency"].get("beside", {}).items():
            notes.append(f"  {e['profile']} / {e.get('model')}: {_beside_name(name)} (not in the total): "
                         f"{iv(b, 'J')}")
        for issue in e.get("constraint_issues", []):
            if issue["severity"] == "error":
                notes.append(f"  {e['profile']} / {e.get('model')}: does not fit: {issue['message']}")
        sp = _sparsity_line(e)
        if sp:
            notes.append(f"  {e['profile']} / {e.get('model')}: {sp}")
    if notes:
        out += ["", "Notes:"] + notes
    out += ["", "Every figure's source, distribution and confidence: `neurosim profiles`, or 'sources' in the JSON."]
    return "\n".join(out) + "\n"


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def _md_table(columns: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join(["---"] * len(columns)) + "|"]
    return out + ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]


def format_md(estimates: list[Any]) -> str:
    est = plain(estimates)
    out = [f"# {_header(est)}"]
    for mode in ("latency", "throughput"):
        out += ["", f"## {MODE_TITLES[mode].capitalize()}", ""] + _md_table(COLUMNS, mode_rows(est, mode))
    sv = savings_rows(est)
    if sv:
        out += ["", "## Dense -> sparse savings (per draw: the same hardware in both)", ""]
        out += _md_table(SAVINGS_COLUMNS, sv)
    for e in est:
        out += ["", f"## {e['profile']} / {e.get('model')} ({e.get('profile_title', '')})", "",
                f"Work the target pays for: {count(e['work'].get('per_inference'))} {e['work'].get('label')} "
                f"per inference. Largest source of uncertainty: {_md_escape(_dominant(e))}.", ""]
        out += ["| mode | component | part | median | 10 % | 90 % |", "|---|---|---|---|---|---|"]
        for mode in ("latency", "throughput"):
            for name, b in e["modes"][mode]["breakdown"].items():
                out.append(f"| {mode} | {name} | {b['part']} | {si(b['median'], 'J')} | {si(b['p10'], 'J')} | "
                           f"{si(b['p90'], 'J')} |")
        for mode in ("latency", "throughput"):
            out += ["", f"{mode.capitalize()} mode: {_md_escape(resources_text(e, mode))}; "
                    + "; ".join(_md_escape(n) for n in e["modes"][mode].get("notes", [])) + "."]
            for name, b in e["modes"][mode].get("beside", {}).items():
                out.append(f"Shown beside (not in the total): {_beside_name(name)} {iv(b, 'J')}.")
        sp = _sparsity_line(e)
        if sp:
            out += ["", f"Sparsity: {sp}."]
        issues = e.get("constraint_issues", [])
        if issues:
            out += ["", "Fit check:"] + [f"- **{i['severity']}**: {_md_escape(i['message'])}" for i in issues]
        out += ["", "Assumptions:"] + [f"- {_md_escape(a)}" for a in e.get("assumptions", [])]
        out += ["", "<details><summary>Sources</summary>", ""]
        out += [f"- `{s['figure']}` ({s['confidence']}): {_md_escape(s['source'])}" for s in e.get("sources", [])]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _bar(e: dict[str, Any], mode: str) -> str:
    """Dynamic vs static energy as a stacked bar (share of the median total)."""
    m = e["modes"][mode]
    dyn, stat = m["energy_dynamic_j"]["median"], m["energy_static_j"]["median"]
    tot = dyn + stat
    if tot <= 0:
        return ""
    d = 100 * dyn / tot
    return (f"<div class='bar' title='dynamic {d:.0f} %, static {100 - d:.0f} %'>"
            f"<span class='dyn' style='width:{d:.1f}%'></span><span class='stat' style='width:{100 - d:.1f}%'></span>"
            "</div>")


def format_html(estimates: list[Any]) -> str:
    est = plain(estimates)
    esc = html.escape
    head = esc(_header(est))
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">", f"<title>{head}</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
             "th{background:#eee}.no{color:#b00;font-weight:bold}.bar{display:flex;width:120px;height:10px;"
             "border:1px solid #999}.dyn{background:#1f77b4}.stat{background:#bbb}</style></head><body>",
             f"<h1>{head}</h1>",
             "<p>Bars: dynamic (blue) vs static (grey) share of the median energy per inference.</p>"]
    for mode in ("latency", "throughput"):
        parts.append(f"<h2>{esc(MODE_TITLES[mode].capitalize())}</h2>")
        parts.append(f"<table id=\"estimates-{mode}\"><thead><tr>"
                     + "".join(f"<th>{esc(c)}</th>" for c in COLUMNS + ("dynamic | static",)) + "</tr></thead><tbody>")
        for e, r in zip(est, mode_rows(est, mode)):
            cells = [f"<td class=\"no\">{esc(c)}</td>" if i == len(r) - 1 and c == "NO" else f"<td>{esc(c)}</td>"
                     for i, c in enumerate(r)]
            parts.append("<tr>" + "".join(cells) + f"<td>{_bar(e, mode)}</td></tr>")
        parts.append("</tbody></table>")
    sv = savings_rows(est)
    if sv:
        parts.append("<h2>Dense &rarr; sparse savings (per draw: the same hardware in both)</h2><table><tr>"
                     + "".join(f"<th>{esc(c)}</th>" for c in SAVINGS_COLUMNS) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in sv]
        parts.append("</table>")
    for e in est:
        parts.append(f"<h2>{esc(e['profile'])} / {esc(str(e.get('model')))}</h2>")
        parts.append(f"<p>{esc(e.get('profile_title', ''))}. Work paid for: "
                     f"{esc(count(e['work'].get('per_inference')))} {esc(str(e['work'].get('label')))} per inference. "
                     f"Largest source of uncertainty: {esc(_dominant(e))}.</p>")
        parts.append("<table><tr><th>mode</th><th>component</th><th>part</th><th>median</th><th>10 %</th>"
                     "<th>90 %</th></tr>")
        for mode in ("latency", "throughput"):
            for name, b in e["modes"][mode]["breakdown"].items():
                parts.append(f"<tr><td>{mode}</td><td>{esc(name)}</td><td>{esc(b['part'])}</td>"
                             f"<td>{esc(si(b['median'], 'J'))}</td><td>{esc(si(b['p10'], 'J'))}</td>"
                             f"<td>{esc(si(b['p90'], 'J'))}</td></tr>")
        parts.append("</table>")
        for mode in ("latency", "throughput"):
            beside = "".join(f" Shown beside (not in the total): {esc(_beside_name(k))} {esc(iv(b, 'J'))}."
                             for k, b in e["modes"][mode].get("beside", {}).items())
            parts.append(f"<p>{esc(mode.capitalize())} mode: {esc(resources_text(e, mode))}; "
                         f"{esc('; '.join(e['modes'][mode].get('notes', [])))}.{beside}</p>")
        sp = _sparsity_line(e)
        if sp:
            parts.append(f"<p>Sparsity: {esc(sp)}.</p>")
        issues = e.get("constraint_issues", [])
        if issues:
            parts.append("<ul>" + "".join(f"<li><b>{esc(i['severity'])}</b>: {esc(i['message'])}</li>"
                                          for i in issues) + "</ul>")
        parts.append("<details><summary>Assumptions</summary><ul>"
                     + "".join(f"<li>{esc(a)}</li>" for a in e.get("assumptions", [])) + "</ul></details>")
        parts.append("<details><summary>Sources</summary><ul>"
                     + "".join(f"<li><code>{esc(s['figure'])}</code> ({esc(s['confidence'])}): {esc(s['source'])}</li>"
                               for s in e.get("sources", [])) + "</ul></details>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def to_json(estimates: list[Any]) -> str:
    return json.dumps(plain(estimates), indent=2, default=json_default) + "\n"


def format_report(estimates: list[Any], fmt: str = "text") -> str:
    """Render ``estimates`` as ``fmt`` ('text' | 'json' | 'md' | 'html')."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")
    return {"text": format_text, "json": to_json, "md": format_md, "html": format_html}[fmt](list(estimates))


def print_report_for(record: Any, profiles: Iterable[Any] | str, fmt: str = "text", *,
                     out: str | Path | None = None, json_path: str | Path | None = None,
                     stream: TextIO | None = None, strict: bool = False, source: str = "",
                     batch_size: int | None = None) -> list[Any]:
    """Estimate ``record`` on ``profiles`` and print (or write) the report; return the estimates.

    Parameters
    ----------
    record : ActivityRecord | Workload | str | Path
        A record, or the path of one (``NAME``, ``NAME.json`` or ``NAME.npz``).
    profiles : str | iterable
        Profile names, paths or :class:`~neurosim.hardware.profile.Profile` objects; ``'all'``
        expands to every bundled profile.
    fmt : str
        'text' | 'json' | 'md' | 'html'.
    out : path, optional
        Write the report there instead of printing it.
    json_path : path, optional
        Also write the JSON list of estimates there (``neurosim`` commands always pass one).
    strict : bool
        Raise :class:`~neurosim.errors.HardwareConstraintError` when a network does not fit.
    batch_size : int, optional
        Batch of the throughput mode on GPUs and CPUs (default: the library's).
    """
    from neurosim.activity import load_record
    from neurosim.hardware import DEFAULT_BATCH, estimate, load_profiles

    if isinstance(record, (str, Path)):
        source = source or str(record)
        record = load_record(record)
    if fmt not in FORMATS:
        raise ValidationError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")
    loaded = load_profiles(profiles if not isinstance(profiles, str) else [profiles])
    estimates = [estimate(record, p, strict=strict, source=source, batch_size=batch_size or DEFAULT_BATCH)
                 for p in loaded]
    text = format_report(estimates, fmt)
    if out is not None:
        write_atomic(out, text)
    else:
        (stream or sys.stdout).write(text)
    if json_path is not None and not (out is not None and fmt == "json" and Path(out) == Path(json_path)):
        write_atomic(json_path, to_json(estimates))
    return estimates
