"""The demo report as one self-contained HTML page: inline CSS (defined here, once), figures
as base64 PNG, no script, nothing fetched from the network."""
from __future__ import annotations

import base64
import html

from neurosim.reporting.document import ReportDocument
from neurosim.reporting.palette import css_variables
from neurosim.reporting.tables import Table

MODEL_CELLS = ("dense", "sparse", "small_dense")

CSS = """
:root { %(models)s --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; }
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
td.wrap, th.wrap { text-align: left; white-space: normal; }
.tablewrap { overflow-x: auto; }
figure { margin: 18px 0 26px; }
figure img { max-width: 100%%; height: auto; border: 1px solid var(--line); border-radius: 4px; display:block; }
figcaption { font-size: 14px; color: var(--muted); margin-top: 6px; }
figcaption b { color: var(--ink); }
.stage { display:inline-block; min-width: 64px; text-align:center; font-size: 12px; font-weight:600; border-radius: 10px; padding: 1px 8px; }
.ok { background:#dafbe1; color:#1a7f37; } .skipped { background:#fff8c5; color:#7d4e00; } .failed { background:#ffebe9; color:#cf222e; }
.note { background:#fff8c5; border-left: 4px solid #d4a72c; padding: 8px 12px; margin: 10px 0; font-size: 14px; }
.swatch-dense { color: var(--dense); font-weight:600; } .swatch-sparse { color: var(--sparse); font-weight:600; }
.swatch-small_dense { color: var(--small); font-weight:600; }
ul.readings li { margin-bottom: 6px; }
""" % {"models": css_variables()}


def table_html(table: Table, model_col: int | None = None) -> str:
    """A table; header cells naming a model, and cells of column ``model_col``, in the model's colour."""
    e = html.escape
    head, body = table
    out = ["<div class='tablewrap'><table><thead><tr>"]
    for h in head:
        key = h.replace(" ", "_")
        out.append(f"<th class='swatch-{key}'>{e(h)}</th>" if key in MODEL_CELLS else f"<th>{e(h)}</th>")
    out.append("</tr></thead><tbody>")
    for row in body:
        out.append("<tr>")
        for i, cell in enumerate(row):
            if i == model_col and cell in MODEL_CELLS:
                out.append(f"<td class='swatch-{cell}'>{e(cell.replace('_', ' '))}</td>")
            else:
                out.append(f"<td>{e(str(cell))}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def render_html(doc: ReportDocument) -> str:
    """The whole report as one HTML page."""
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>neurosim demo: {e(doc.title)}</title>",
             f"<style>{CSS}</style></head><body><main>",
             f"<h1>{e(doc.title)}</h1>", f"<p class='lede'>{e(doc.lede)}</p>",
             f"<p class='meta'>{' · '.join(e(m) for m in doc.meta)}</p>"]
    if doc.summary:
        parts.append("<p>" + " ".join(e(t) for t in doc.summary) + "</p>")
    if doc.headline:
        parts.append("<h3 id='headline'>Headline numbers (held-out test digits)</h3>" + table_html(doc.headline))
    parts.append("<h3 id='stages'>Pipeline stages</h3><div class='tablewrap'><table><thead><tr><th>stage</th>"
                 "<th>status</th><th>time</th><th class='wrap'>note</th></tr></thead><tbody>")
    for s in doc.stages:
        parts.append(f"<tr><td>{e(s.name)}</td><td><span class='stage {e(s.status)}'>{e(s.status)}</span></td>"
                     f"<td>{s.seconds:.1f} s</td><td class='wrap'>{e(s.note)}</td></tr>")
    parts.append("</tbody></table></div>")
    parts.append("<nav><ol>" + "".join(f"<li><a href='#{sec.key}'>{e(sec.title.split('. ', 1)[-1])}</a></li>"
                                       for sec in doc.sections) + "</ol></nav>")
    for sec in doc.sections:
        parts.append(f"<h2 id='{sec.key}'>{e(sec.title)}</h2><p>{e(sec.intro)}</p>")
        if sec.note:
            parts.append(f"<div class='note'>{e(sec.note)}</div>")
        for f in sec.figures:
            data = base64.b64encode(f.png).decode("ascii")
            parts.append(f"<figure id='fig-{f.key}'><img src='data:image/png;base64,{data}' alt='{e(f.title)}'>"
                         f"<figcaption><b>{e(f.title)}.</b> {e(f.caption)}</figcaption></figure>")
        for table in sec.tables:
            parts.append(table_html(table, model_col=1 if sec.key == "hardware" else None))
        if sec.readings:
            parts.append("<h3>What each kind of sparsity saves, target by target</h3><ul class='readings'>")
            parts += [f"<li><b>{e(r['profile'])}</b> ({e(r['kind'])}): {e(r['reading'])}</li>" for r in sec.readings]
            parts.append("</ul>")
    parts.append(f"<p class='meta'>{e(doc.footer)}</p></main></body></html>")
    return "\n".join(parts)


__all__ = ["CSS", "render_html", "table_html"]
