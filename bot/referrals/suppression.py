"""Small-cell protection for published counts: primary and secondary suppression, area merging.

A table is a set of cells with values and a list of *lines*: groups of cells bound by one
linear relation (a row with its total, a column with its total, a row's 本人 + 家族 = 計 …).
A hidden cell could be recomputed from a line in which it is the only hidden cell, so every
line must hold no hidden cell or at least two; the last cell of a line is the sum of the
others, so the lines together are also solved as equations, and no hidden cell may follow
from them either.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from fractions import Fraction

MARK = "＊"  # what a published table shows for a suppressed count

Cell = Hashable


def primary(values: Mapping[Cell, int], threshold: int,
            counts: Iterable[Cell] | None = None) -> set[Cell]:
    """Return the count cells from 1 to threshold - 1 (0 may be shown: it points to no one)."""
    cells = values if counts is None else counts
    return {cell for cell in cells if 0 < values[cell] < threshold}


def secondary(values: Mapping[Cell, int], lines: Sequence[Sequence[Cell]],
              hidden: set[Cell], totals: Iterable[Cell] = ()) -> set[Cell]:
    """Return hidden grown until no hidden cell can be recomputed (the fewest, smallest added)."""
    hidden = set(hidden)
    totals = set(totals)
    lines_of: dict[Cell, list[int]] = {}
    for index, line in enumerate(lines):
        for cell in line:
            lines_of.setdefault(cell, []).append(index)

    def exposed(index: int) -> bool:
        return sum(cell in hidden for cell in lines[index]) == 1

    def cost(cell: Cell) -> tuple:
        value = values[cell]
        # A cell that also mends another exposed line saves a suppression; a hidden zero
        # protects little (the hidden cells' sum is then the small count itself); a total
        # hides more than the table needs.
        mends = sum(exposed(i) for i in lines_of[cell])
        return (value == 0, -mends, abs(value), cell in totals, repr(cell))

    while True:
        open_lines = [i for i in range(len(lines)) if exposed(i)]
        if open_lines:
            line = lines[open_lines[0]]
            hidden.add(min((c for c in line if c not in hidden), key=cost))
            continue
        # Every line has 0 or 2+ hidden cells, yet lines together may still pin one down
        # (hidden cells forming a chain, not a cycle): hide one more beside it.
        candidates = [c for cell in recomputable(lines, hidden) for i in lines_of[cell]
                      for c in lines[i] if c not in hidden]
        if not candidates:
            return hidden
        hidden.add(min(candidates, key=cost))


def recomputable(lines: Sequence[Sequence[Cell]], hidden: set[Cell]) -> list[Cell]:
    """Return the hidden cells the lines' totals determine (each line: last = sum of others)."""
    order = sorted(hidden, key=repr)
    index = {cell: i for i, cell in enumerate(order)}
    # One equation per line over the hidden cells; the visible ones are known constants.
    rows = []
    for line in lines:
        row = [Fraction(0)] * len(order)
        for position, cell in enumerate(line):
            if cell in index:
                row[index[cell]] += -1 if position == len(line) - 1 else 1
        if any(row):
            rows.append(row)
    basis = _echelon(rows, len(order))
    found = []
    for cell in order:
        unit = [Fraction(0)] * len(order)
        unit[index[cell]] = Fraction(1)
        if not any(_reduce(unit, basis)):
            found.append(cell)
    return found


def _echelon(rows: list[list[Fraction]], width: int) -> list[tuple[int, list[Fraction]]]:
    """Return a reduced row echelon basis of the rows as (pivot column, row)."""
    basis: list[tuple[int, list[Fraction]]] = []
    for row in rows:
        row = _reduce(row, basis)
        pivot = next((i for i in range(width) if row[i]), None)
        if pivot is None:
            continue
        row = [value / row[pivot] for value in row]
        basis = [(p, [a - b[pivot] * c for a, c in zip(b, row, strict=True)]
                  if b[pivot] else b) for p, b in basis]
        basis.append((pivot, row))
    return basis


def _reduce(row: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> list[Fraction]:
    for pivot, base in basis:
        if row[pivot]:
            factor = row[pivot]
            row = [a - factor * b for a, b in zip(row, base, strict=True)]
    return row


def suppress(values: Mapping[Cell, int], lines: Sequence[Sequence[Cell]], threshold: int,
             counts: Iterable[Cell] | None = None, totals: Iterable[Cell] = ()) -> set[Cell]:
    """Return the cells to hide: counts from 1 to threshold - 1, then what protects them."""
    if threshold <= 1:
        return set()
    return secondary(values, lines, primary(values, threshold, counts), totals)


def unprotected(lines: Sequence[Sequence[Cell]], hidden: set[Cell]) -> list[Sequence[Cell]]:
    """Return the lines from which a hidden cell could be recomputed (exactly one hidden)."""
    return [line for line in lines if sum(cell in hidden for cell in line) == 1]


def grid_lines(rows: int, columns: int) -> list[list[tuple[int, int]]]:
    """Return the lines of a rows × columns grid whose last row and last column are totals."""
    return ([[(r, c) for c in range(columns)] for r in range(rows)]
            + [[(r, c) for r in range(rows)] for c in range(columns)])


def merge_small(counts: Mapping[str, Sequence[int]], regions: Sequence[tuple[str, list[str]]],
                threshold: int) -> list[tuple[str, list[int]]]:
    """Merge municipalities with a count from 1 to threshold - 1 into their region's row.

    Each municipality maps to its counts (one per column); a municipality is shown alone only
    if all its counts are 0 or at least the threshold (MHLW's 最小集計単位). Areas of no
    region are merged into one row, その他・不明.
    """
    width = len(next(iter(counts.values()), []))
    rows: list[tuple[str, list[int]]] = []
    placed: set[str] = set()
    for region, municipalities in regions:
        merged = [0] * width
        small = False
        for name in municipalities:
            placed.add(name)
            values = list(counts.get(name, [0] * width))
            if any(0 < v < threshold for v in values):
                merged = [a + b for a, b in zip(merged, values, strict=True)]
                small = True
            elif any(values):
                rows.append((name, values))
        if small:
            rows.append((f"{region}（上記以外の市町村）", merged))
    rest = [0] * width
    for name, values in counts.items():
        if name not in placed:
            rest = [a + b for a, b in zip(rest, values, strict=True)]
    if any(rest):
        rows.append(("その他・不明", rest))
    return rows
