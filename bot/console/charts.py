"""Simple horizontal bar charts drawn as SVG on the server (no JavaScript)."""

from __future__ import annotations

from markupsafe import Markup, escape

ROW = 26  # pixels per bar
LABEL = 180  # pixels for the labels
BARS = 300  # pixels for the longest bar
LONGEST_LABEL = 12  # characters; longer labels are cut (the table beside has them whole)


def _cut(text: str) -> str:
    return text if len(text) <= LONGEST_LABEL else text[:LONGEST_LABEL - 1] + "…"


def bar_chart(rows: list[tuple[str, int]], title: str) -> Markup:
    """Return an SVG bar chart of (label, count) rows, the largest bar full width."""
    if not rows:
        return Markup("")
    top = max(count for _, count in rows) or 1
    height = ROW * len(rows)
    parts = [f'<svg class="chart" viewBox="0 0 {LABEL + BARS + 60} {height}" '
             f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">']
    for i, (name, count) in enumerate(rows):
        y = i * ROW
        width = round(BARS * count / top)
        parts.append(
            f'<text class="label" x="{LABEL - 8}" y="{y + 17}">{escape(_cut(name))}</text>'
            f'<rect class="bar" x="{LABEL}" y="{y + 5}" width="{width}" height="16"></rect>'
            f'<text class="count" x="{LABEL + width + 6}" y="{y + 17}">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
