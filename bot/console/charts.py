"""Simple bar charts drawn as SVG on the server (no JavaScript): horizontal bars of counts, and
a month by month chart of a few series (one row of columns each)."""

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


# The month by month chart: one row per series, a column per month, each row scaled to its own
# largest month (the table beside it has every number), the months named once at the bottom.
MONTH_COLUMN = 40  # pixels per month
MONTH_BAR = 26  # pixels of a row's tallest column
MONTH_ROW = MONTH_BAR + 24  # with its number above and a gap
SERIES_LABEL = 150  # pixels for the series' names


def month_chart(months: list[str], series: list[tuple[str, list[int]]], title: str,
                chart_id: str) -> Markup:
    """Return an SVG chart of series of monthly counts, with a text alternative that names
    every number (its <title> and <desc>, which `aria-labelledby` reads)."""
    if not months or not series:
        return Markup("")
    width = SERIES_LABEL + MONTH_COLUMN * len(months) + 8
    height = MONTH_ROW * len(series) + 20
    said = "。".join(f"{name}: " + "、".join(f"{month} {count}" for month, count
                                              in zip(months, counts, strict=True))
                    for name, counts in series)
    parts = [f'<svg class="chart months" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
             'xmlns="http://www.w3.org/2000/svg">'
             f'<title id="{chart_id}-title">{escape(title)}</title>'
             f'<desc id="{chart_id}-desc">{escape(said)}。</desc>']
    for row, (name, counts) in enumerate(series):
        top = max(counts) or 1
        base = row * MONTH_ROW + 16 + MONTH_BAR
        parts.append(f'<text class="label" x="{SERIES_LABEL - 8}" y="{base - 8}">'
                     f'{escape(_cut(name))}</text>'
                     f'<line class="axis" x1="{SERIES_LABEL}" y1="{base}" x2="{width - 8}" '
                     f'y2="{base}"></line>')  # zero reads as zero, not as nothing drawn
        for i, count in enumerate(counts):
            x = SERIES_LABEL + i * MONTH_COLUMN
            tall = round(MONTH_BAR * count / top)
            parts.append(f'<rect class="bar" x="{x + 6}" y="{base - tall}" '
                         f'width="{MONTH_COLUMN - 12}" height="{tall}"></rect>')
            if count:
                parts.append(f'<text class="count" x="{x + MONTH_COLUMN / 2:g}" '
                             f'y="{base - tall - 3}" text-anchor="middle">{count}</text>')
    axis = MONTH_ROW * len(series) + 14
    parts += [f'<text class="count" x="{SERIES_LABEL + i * MONTH_COLUMN + MONTH_COLUMN / 2:g}" '
              f'y="{axis}" text-anchor="middle">{escape(month)}</text>'
              for i, month in enumerate(months)]
    parts.append("</svg>")
    return Markup("".join(parts))
