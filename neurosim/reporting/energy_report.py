"""Format energy & latency estimates (:func:`neurosim.hardware.estimate`) for people.

``format_report(estimates, fmt)`` renders a list of estimate dicts as ``'text'`` (aligned
table), ``'md'`` (Markdown), ``'html'`` (standalone page) or ``'json'``;
:func:`neurosim.reporting.writer.write_report` writes it; :func:`print_report_for` estimates a record on
profiles and prints the report straight away (what ``neurosim simulate --profile X`` calls).

Every number is per inference; a range is shown as ``typical [low - high]``.
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


def rng(d: dict[str, float], unit: str) -> str:
    return f"{si(d['typical'], unit)} [{si(d['low'], unit)} - {si(d['high'], unit)}]"


def resources_text(est: dict[str, Any]) -> str:
    r = est.get("resources", {})
    kind = est.get("kind")
    if kind == "neuromorphic":
        return f"{r.get('cores')} cores, {r.get('chips')} chip{'s' if r.get('chips') != 1 else ''}"
    if kind == "crossbar":
        return f"{r.get('tiles')} tiles (dense {r.get('tiles_if_dense')}), {r.get('chips')} chip{'s' if r.get('chips') != 1 else ''}"
    if kind == "wafer_scale":
        return f"{r.get('cores')} cores ({100 * r.get('wafer_fraction', 0):.2g} % of wafer)"
    if kind == "gpu":
        return f"{r.get('gpus', 1)} GPU"
    return json.dumps(r)


COLUMNS = ("profile", "runs", "model", "energy / inference", "latency / inference", "synaptic ops", "spikes",
           "MACs", "resources", "fits")


def table_rows(estimates: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for e in estimates:
        rows.append([e["profile"], e.get("runs", ""), str(e.get("model", "")),
                     rng(e["energy_per_inference_j"], "J"), rng(e["latency_per_inference_s"], "s"),
                     count(e.get("synaptic_ops_per_inference")), count(e.get("spikes_per_inference")),
                     count(e.get("macs_per_inference")), resources_text(e), "yes" if e.get("fits", True) else "NO"])
    return rows


def _header(estimates: list[dict[str, Any]]) -> str:
    if not estimates:
        return "Energy and latency per inference"
    srcs = sorted({str(e.get("source") or "") for e in estimates} - {""})
    samples = sorted({e.get("num_samples") for e in estimates})
    steps = sorted({e.get("timesteps") for e in estimates})
    text = "Energy and latency per inference, typical [low - high]"
    detail = []
    if srcs:
        detail.append("record " + ", ".join(srcs))
    detail.append(f"{', '.join(map(str, samples))} samples, {', '.join(map(str, steps))} timesteps")
    return text + " (" + "; ".join(detail) + ")"


def _sparsity_line(e: dict[str, Any]) -> str | None:
    sp = e.get("extra", {}).get("sparsity")
    if not sp:
        return None
    return (f"tiles used {sp['tiles_used']} of {sp['tiles_if_weights_dense']} for dense weights "
            f"({100 * sp['nonzero_weight_fraction']:.0f} % of weights nonzero); typical energy "
            f"{si(sp['energy_typical_j'], 'J')}, with dense weights {si(sp['energy_if_weights_dense_j'], 'J')}, "
            f"with every input nonzero {si(sp['energy_if_all_inputs_nonzero_j'], 'J')}")


def _breakdown_share(e: dict[str, Any]) -> str:
    total = e["energy_per_inference_j"]["typical"]
    parts = []
    for name, d in e.get("breakdown", {}).items():
        share = d["typical"] / total if total > 0 else 0.0
        if share >= 0.005:
            parts.append(f"{name} {100 * share:.0f} %")
    return ", ".join(parts) or "-"


def format_text(estimates: list[dict[str, Any]]) -> str:
    rows = table_rows(estimates)
    widths = [max(len(COLUMNS[i]), *(len(r[i]) for r in rows)) if rows else len(COLUMNS[i])
              for i in range(len(COLUMNS))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [_header(estimates), "", line(COLUMNS), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    out.append("")
    out.append("Energy by component (typical):")
    for e in estimates:
        out.append(f"  {e['profile']} / {e.get('model')}: {_breakdown_share(e)}")
    notes = []
    for e in estimates:
        for issue in e.get("constraint_issues", []):
            if issue["severity"] == "error":
                notes.append(f"  {e['profile']} / {e.get('model')}: does not fit: {issue['message']}")
        sp = _sparsity_line(e)
        if sp:
            notes.append(f"  {e['profile']} / {e.get('model')}: {sp}")
    if notes:
        out += ["", "Notes:"] + notes
    out += ["", "Every figure's source and confidence: `neurosim profiles`, or 'sources' in the JSON."]
    return "\n".join(out) + "\n"


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def format_md(estimates: list[dict[str, Any]]) -> str:
    out = [f"# {_header(estimates)}", "", "| " + " | ".join(COLUMNS) + " |",
           "|" + "|".join(["---"] * len(COLUMNS)) + "|"]
    for r in table_rows(estimates):
        out.append("| " + " | ".join(_md_escape(c) for c in r) + " |")
    for e in estimates:
        out += ["", f"## {e['profile']} / {e.get('model')} ({e.get('profile_title', '')})", ""]
        out += ["| energy component | low | typical | high |", "|---|---|---|---|"]
        for name, d in e.get("breakdown", {}).items():
            out.append(f"| {name} | {si(d['low'], 'J')} | {si(d['typical'], 'J')} | {si(d['high'], 'J')} |")
        out += ["", f"Resources: {_md_escape(resources_text(e))}."]
        sp = _sparsity_line(e)
        if sp:
            out.append(f"Sparsity: {sp}.")
        issues = e.get("constraint_issues", [])
        if issues:
            out += ["", "Fit check:"] + [f"- **{i['severity']}**: {_md_escape(i['message'])}" for i in issues]
        out += ["", "Assumptions:"] + [f"- {_md_escape(a)}" for a in e.get("assumptions", [])]
        out += ["", "<details><summary>Sources</summary>", ""]
        out += [f"- `{s['figure']}` ({s['confidence']}): {_md_escape(s['source'])}" for s in e.get("sources", [])]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def format_html(estimates: list[dict[str, Any]]) -> str:
    esc = html.escape
    head = esc(_header(estimates))
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">", f"<title>{head}</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
             "th{background:#eee}.no{color:#b00;font-weight:bold}</style></head><body>", f"<h1>{head}</h1>",
             "<table id=\"estimates\"><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
             + "</tr></thead><tbody>"]
    for r in table_rows(estimates):
        cells = [f"<td class=\"no\">{esc(c)}</td>" if i == len(r) - 1 and c == "NO" else f"<td>{esc(c)}</td>"
                 for i, c in enumerate(r)]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    for e in estimates:
        parts.append(f"<h2>{esc(e['profile'])} / {esc(str(e.get('model')))}</h2>")
        parts.append(f"<p>{esc(e.get('profile_title', ''))}. Resources: {esc(resources_text(e))}.</p>")
        parts.append("<table><tr><th>energy component</th><th>low</th><th>typical</th><th>high</th></tr>")
        for name, d in e.get("breakdown", {}).items():
            parts.append(f"<tr><td>{esc(name)}</td><td>{esc(si(d['low'], 'J'))}</td>"
                         f"<td>{esc(si(d['typical'], 'J'))}</td><td>{esc(si(d['high'], 'J'))}</td></tr>")
        parts.append("</table>")
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


def to_json(estimates: list[dict[str, Any]]) -> str:
    return json.dumps(estimates, indent=2, default=json_default) + "\n"


def format_report(estimates: list[dict[str, Any]], fmt: str = "text") -> str:
    """Render ``estimates`` as ``fmt`` ('text' | 'json' | 'md' | 'html')."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")
    return {"text": format_text, "json": to_json, "md": format_md, "html": format_html}[fmt](estimates)


def print_report_for(record: Any, profiles: Iterable[Any] | str, fmt: str = "text", *,
                     out: str | Path | None = None, json_path: str | Path | None = None,
                     stream: TextIO | None = None, strict: bool = False, source: str = "") -> list[dict[str, Any]]:
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
    """
    from neurosim.activity import load_record
    from neurosim.hardware import estimate, load_profiles

    if isinstance(record, (str, Path)):
        source = source or str(record)
        record = load_record(record)
    if fmt not in FORMATS:
        raise ValidationError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")
    loaded = load_profiles(profiles if not isinstance(profiles, str) else [profiles])
    estimates = [estimate(record, p, strict=strict, source=source) for p in loaded]
    text = format_report(estimates, fmt)
    if out is not None:
        write_atomic(out, text)
    else:
        (stream or sys.stdout).write(text)
    if json_path is not None and not (out is not None and fmt == "json" and Path(out) == Path(json_path)):
        write_atomic(json_path, to_json(estimates))
    return estimates

