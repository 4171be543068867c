"""Reports: figures, energy/latency tables and the demo report (HTML, Markdown, JSON)."""
