"""The sweep's HTML page: one self-contained file (figures embedded as PNG data URIs).

It shows the settings, the break-even summary per target and mode, every figure of
:mod:`neurosim.sweep.figures` and the failures, if any; the numbers are those of ``sweep.csv``.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from neurosim.fileio import write_atomic


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def summary_table(summary: list[dict[str, Any]]) -> str:
    """HTML table of :func:`neurosim.sweep.results.break_even` entries."""
    head = ("<tr><th>target</th><th>runs</th><th>mode</th><th>points beating the dense ANN</th>"
            "<th>points losing</th><th>best point (saving)</th><th>worst point (saving)</th>"
            "<th>fitted break-even, events per synapse</th></tr>")
    body = []
    for b in summary:
        runs = "ANN" if b["coding"] == "ann" else (f"SNN rate T={b['timesteps']}" if b["coding"] == "rate"
                                                  else "SNN graded")
        body.append(f"<tr><td><code>{html.escape(b['profile'])}</code></td><td>{runs}</td><td>{b['mode']}</td>"
                    f"<td>{b['winning']}</td><td>{b['losing']}</td>"
                    f"<td>{html.escape(b['best_point'])} ({_fmt(b['best_saving'])}×)</td>"
                    f"<td>{html.escape(b['worst_point'])} ({_fmt(b['worst_saving'])}×)</td>"
                    f"<td>{_fmt(b['events_per_synapse_at_break_even'])}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>"


CAPTIONS = {
    "mse_vs_energy_latency": "Reconstruction MSE vs energy per inference on each target, one inference alone "
                             "(latency mode). Colour: weight sparsity; marker: activity target; star: the dense "
                             "ANN; line: the Pareto front.",
    "mse_vs_energy_throughput": "The same with the hardware kept busy (throughput mode).",
    "mse_vs_synops": "MSE vs synaptic operations (spiking networks) or effective MACs (ANN) per inference.",
    "saving_heatmap_latency": "Energy of the dense ANN on the same target divided by the point's, over the grid "
                              "(latency mode). Blue: the point saves; red: it costs more; black line: break-even.",
    "saving_heatmap_throughput": "The same in throughput mode.",
    "break_even_latency": "Neuromorphic targets: saving vs synaptic events per inference per synapse of the dense network "
                          "(latency mode). Grey band: 1-2 events per synapse; dashed: the fitted crossing of 1.",
    "break_even_throughput": "The same in throughput mode.",
}


def render_page(results: dict[str, Any], figures: dict[str, bytes], title: str = "neurosim sweep") -> str:
    """The page's HTML from ``sweep.json``'s content and stem -> PNG bytes."""
    cfg = results["config"]
    s = results["summary"]
    settings = ", ".join(f"{k} = {_fmt(v) if not isinstance(v, list) else html.escape(str(v))}"
                         for k, v in cfg.items() if v is not None)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;"
             "color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
             "padding:3px 6px;text-align:left}figure{margin:1.5em 0}img{max-width:100%}"
             "figcaption{font-size:13px;color:#555}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{s['done']} of {s['points']} points finished, {s['failed']} failed.</p>",
             f"<p><small>{settings}</small></p>",
             "<h2>Where sparsity pays, target by target</h2>", summary_table(s["break_even"])]
    if s["failures"]:
        parts.append("<h2>Failed points</h2><ul>" + "".join(
            f"<li>{html.escape(f['point'])}: {html.escape(str(f['error']))}</li>" for f in s["failures"]) + "</ul>")
    parts.append("<h2>Figures</h2>")
    for stem, png in figures.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(stem)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{html.escape(CAPTIONS.get(stem, stem))}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(path: str | Path, results: dict[str, Any], figures: dict[str, bytes]) -> Path:
    """Write :func:`render_page` atomically."""
    return write_atomic(path, render_page(results, figures))
