"""The demo report as Markdown, figures linked as the PNG files written beside it."""
from __future__ import annotations

from neurosim.reporting.document import ReportDocument
from neurosim.reporting.tables import Table, stage_table


def table_md(table: Table) -> str:
    """A GitHub-flavoured Markdown table (``|`` in cells escaped)."""
    head, body = table
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join([" --- "] * len(head)) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines)


def render_md(doc: ReportDocument) -> str:
    """The whole report as Markdown."""
    lines = [f"# {doc.title}", "", doc.lede, "", " · ".join(doc.meta), ""]
    if doc.summary:
        lines += [" ".join(doc.summary), ""]
    if doc.headline:
        lines += ["## Headline numbers (held-out test digits)", "", table_md(doc.headline), ""]
    lines += ["## Pipeline stages", "", table_md(stage_table(doc.stages)), ""]
    for sec in doc.sections:
        lines += [f"## {sec.title}", "", sec.intro, ""]
        if sec.note:
            lines += [f"> {sec.note}", ""]
        for f in sec.figures:
            lines += [f"![{f.title}]({f.file})", "", f"*{f.title}.* {f.caption}", ""]
        for table in sec.tables:
            lines += [table_md(table), ""]
        if sec.readings:
            lines += [f"- **{r['profile']}** ({r['kind']}): {r['reading']}" for r in sec.readings] + [""]
    lines += [doc.footer, ""]
    return "\n".join(lines)


__all__ = ["render_md", "table_md"]
