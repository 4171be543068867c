"""The demo report's content, independent of its format.

:func:`build_document` turns what the stages produced into a :class:`ReportDocument`:
title, summary, headline table, stage log and six sections (each an introduction, the
figures, tables and readings). :mod:`neurosim.reporting.html` and
:mod:`neurosim.reporting.markdown` render the same document, so both say the same.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from neurosim import __version__
from neurosim.reporting.context import DemoContext, Stage
from neurosim.reporting.tables import (Table, agreement_table, hardware_table, headline, headline_table,
                                       summary_sentences)

TITLE = "Dense vs sparse: from training to hardware"
LEDE = ("Two autoencoders learn handwritten digits side by side. The sparse one keeps few synapses and lets few "
        "neurons fire for any one input; different digits light up different small subnetworks. Converted to spiking "
        "networks and costed on neuromorphic, wafer-scale, analog and GPU targets, this report shows what each kind "
        "of sparsity buys, and where.")
FOOTER = ("Files beside this report: report.md (same content, PNGs in figures/), report.json (every number), "
          "train/ (checkpoints, metrics.json), nets/ (NIR), activity/ (activity records), hardware/ (estimates).")

#: (key, heading, introduction); the introduction's {d} {h} {ws} {af} are the run's own shape and targets
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
     "Different digits activate different sparse subnetworks: input-dependent computational pathways. A digit's "
     "subnetwork is the set of hidden units selective for it (d′ against the other digits above a threshold set by "
     "shuffling the labels); silencing it, in the ANN and in the spiking network, tests whether the digit needs it."),
    ("sparsity", "4. The two kinds of sparsity",
     "Static weight sparsity removes synapses for every input; dynamic activity sparsity silences units per input."),
    ("conversion", "5. From ANN to spiking network",
     "How faithfully the spiking networks reproduce the ANNs, what that costs in synaptic operations, and whether "
     "independent simulators agree."),
    ("hardware", "6. Energy and latency on hardware targets",
     "Costs per inference computed from the measured activity on each hardware profile, every figure traceable to a "
     "published source (see the profile files)."),
]
#: the stages each section is drawn from
SECTION_STAGES = {"training": ("train",), "activity": ("train", "convert", "simulate"),
                  "subnetworks": ("train", "subnetworks"),
                  "sparsity": ("train",), "conversion": ("convert", "simulate", "cross-check"),
                  "hardware": ("estimate",)}


@dataclass
class FigureEntry:
    """A drawn figure: ``png`` bytes, written as ``figures/<key>.png`` beside the Markdown."""

    key: str
    title: str
    caption: str
    section: str
    png: bytes

    @property
    def file(self) -> str:
        return f"figures/{self.key}.png"


@dataclass
class Section:
    key: str
    title: str
    intro: str
    note: str | None = None
    figures: list[FigureEntry] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    readings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ReportDocument:
    title: str
    lede: str
    meta: list[str]
    summary: list[str]
    headline: Table | None
    stages: list[Stage]
    sections: list[Section]
    footer: str


def build_document(ctx: DemoContext, figures: list[FigureEntry], hw_rows: list[dict[str, Any]],
                   readings: list[dict[str, Any]]) -> ReportDocument:
    """The report's content from the context, the drawn figures, hardware rows and readings."""
    rows = headline(ctx.metrics, ctx.records, ctx.numbers.get("ann_test_mse"))
    sections = []
    for key, title, intro in SECTIONS:
        sec = Section(key, title, _intro(ctx, intro), _missing_note(ctx, key),
                      [f for f in figures if f.section == key])
        if key == "conversion" and ctx.agreement:
            sec.tables.append(agreement_table(ctx.agreement))
        if key == "hardware" and hw_rows:
            sec.tables.append(hardware_table(hw_rows))
            sec.readings = readings
        sections.append(sec)
    meta = [f"neurosim {__version__}", ctx.dataset_note, f"pipeline wall time {ctx.wall_time_s:.0f} s",
            f"written {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}"]
    return ReportDocument(TITLE, LEDE, [m for m in meta if m], summary_sentences(rows),
                          headline_table(rows, hw_rows, ctx.options.get("timesteps")) if rows else None,
                          list(ctx.stages), sections, FOOTER)


def _missing_note(ctx: DemoContext, section: str) -> str | None:
    notes = [f"{s.name}: {s.note}" for s in ctx.stages if s.name in SECTION_STAGES[section] and s.status != "ok"]
    return "; ".join(notes) if notes else None


def _intro(ctx: DemoContext, text: str) -> str:
    """A section's introduction with the run's own shape and targets filled in."""
    cfg = ctx.configs.get("sparse", {})
    ws, af = cfg.get("weight_sparsity"), cfg.get("active_fraction")
    return text.format(d=cfg.get("input_dim", "d"), h=cfg.get("hidden", "H"),
                       ws=f"{ws:.0%}" if isinstance(ws, (int, float)) else "most",
                       af=f"≤ {af:.0%}" if isinstance(af, (int, float)) else "a few")


__all__ = ["SECTIONS", "FigureEntry", "Section", "ReportDocument", "build_document"]
