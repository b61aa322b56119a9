"""The questionnaire as a diagram: `tsunagu graph` (mermaid, Graphviz DOT or a standalone SVG).

Every step is a box with its id and (shortened) question, the referral is the box `done`, and
each arrow is labelled by the options that take it: a step's `next`, or an option's own `next`
(a branch). The SVG is laid out here, in Python: no Graphviz needs to be installed.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from bot.content import bundle
from bot.content.flow import DONE, Flow, Step
from bot.content.schema import Content

ANY = "any answer"  # the label of an arrow every answer of its step takes
DONE_TEXT = "ご案内（取組と相談先）"
FORMATS = ("mermaid", "dot", "svg")
SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot",
            ".svg": "svg"}


@dataclass(frozen=True)
class Edge:
    """An arrow from a step to the step (or `done`) some of its answers lead to."""

    source: str
    dest: str
    labels: tuple[str, ...]  # the labels of the options that take it
    every: bool  # every answer of the step takes it (an area step: any municipality)
    branch: bool  # an option's own `next`, not the step's

    @property
    def label(self) -> str:
        return ANY if self.every else "・".join(self.labels)


def edges_from(step: Step) -> Iterator[Edge]:
    """Yield the arrows of one step, in the order of `Step.leads_to` (its own `next` last)."""
    for dest in step.leads_to:
        taking = [o for o in step.options if step.next_for(o.value) == dest]
        if step.options and not taking:
            continue  # every option branches elsewhere: no answer takes the step's `next`
        yield Edge(step.id, dest, tuple(o.label for o in taking),
                   every=len(taking) == len(step.options), branch=dest != step.next)


def edges(flow: Flow) -> list[Edge]:
    """Return every arrow of the flow, step by step."""
    return [edge for step in flow.steps for edge in edges_from(step)]


@dataclass(frozen=True)
class Node:
    """A box of the diagram: a step, the end, or a step some `next` names but nobody wrote."""

    id: str
    text: str  # the question (the end: what happens there)
    kind: str  # "step", "start", "done" or "missing"


def nodes(flow: Flow) -> list[Node]:
    """Return the boxes: the steps in file order, then `done`, then any missing step."""
    found = [Node(s.id, s.question(None), "start" if s.id == flow.start else "step")
             for s in flow.steps]
    known = {s.id for s in flow.steps}
    if DONE not in known:
        found.append(Node(DONE, DONE_TEXT, "done"))
        known.add(DONE)
    for edge in edges(flow):
        if edge.dest not in known:  # `tsunagu check` reports it; draw it so it can be seen
            found.append(Node(edge.dest, "(no such step)", "missing"))
            known.add(edge.dest)
    return found


def width(text: str) -> float:
    """Return the width of a text in ems (wide characters count one, others about half)."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text)


def shorten(text: str, ems: float) -> str:
    """Return the text cut to at most `ems` wide, with an ellipsis if it was cut."""
    text = " ".join(text.split())
    if width(text) <= ems:
        return text
    cut = ""
    for ch in text:
        if width(cut + ch) > ems - 1:
            break
        cut += ch
    return cut + "…"


def wrap(text: str, ems: float, lines: int) -> list[str]:
    """Return the text in at most `lines` lines of `ems`, the last one shortened if needed."""
    text = " ".join(text.split())
    out: list[str] = []
    while text and len(out) < lines - 1:
        line = ""
        for ch in text:
            if width(line + ch) > ems:
                break
            line += ch
        if line == text:
            break
        # Break after a separator when one is near the end, so a label is not split in two.
        near = max(line.rfind(sep) for sep in "・、。 ")
        if near >= len(line) // 2:
            line = line[:near + 1]
        out.append(line.rstrip())
        text = text[len(line):].lstrip()
    if text:
        out.append(shorten(text, ems))
    return out


# --- mermaid -------------------------------------------------------------------------------

MERMAID_WORDS = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef",
                 "click", "linkstyle", "default", "call", "href", "direction"}
QUESTION_EMS = 24  # how much of a question mermaid and DOT boxes show


def _mermaid_ids(found: list[Node]) -> dict[str, str]:
    # Step ids become mermaid ids when mermaid can read them; others get a safe one.
    return {node.id: node.id if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", node.id)
            and node.id.lower() not in MERMAID_WORDS else f"n{number}"
            for number, node in enumerate(found)}


def _mermaid_text(text: str) -> str:
    return text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(
        ">", "#gt;")


def mermaid(content: Content) -> str:
    """Return the flow as a mermaid `flowchart TD`."""
    flow = content.flow
    found = nodes(flow)
    ids = _mermaid_ids(found)
    shapes = {"done": ('(["', '"])'), "missing": ('{{"', '"}}')}
    lines = ["flowchart TD"]
    for node in found:
        opening, closing = shapes.get(node.kind, ('["', '"]'))
        title = node.id + (" (start)" if node.kind == "start" else "")
        text = _mermaid_text(shorten(node.text, QUESTION_EMS))
        lines.append(f"    {ids[node.id]}{opening}{_mermaid_text(title)}<br>{text}{closing}")
    for edge in edges(flow):
        lines.append(f'    {ids[edge.source]} -->|"{_mermaid_text(edge.label)}"| '
                     f"{ids[edge.dest]}")
    lines.append("    classDef start stroke-width:3px")
    lines.append("    classDef missing stroke:#c00,stroke-dasharray:4")
    for kind in ("start", "missing"):
        marked = [ids[n.id] for n in found if n.kind == kind]
        if marked:
            lines.append(f"    class {','.join(marked)} {kind}")
    return "\n".join(lines) + "\n"


# --- Graphviz DOT ----------------------------------------------------------------------------

def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(content: Content) -> str:
    """Return the flow as a Graphviz DOT digraph."""
    flow = content.flow
    lines = [f"digraph {_dot(flow.flow)} {{", "    rankdir=TB;",
             '    node [shape=box, style=rounded, fontname="sans-serif", fontsize=11];',
             '    edge [fontname="sans-serif", fontsize=10];']
    looks = {"start": ", penwidth=2", "done": ", style=\"rounded,filled\", fillcolor=\"#e8f4e8\"",
             "missing": ", style=\"rounded,dashed\", color=\"#cc0000\""}
    for node in nodes(flow):
        label = f"{node.id}\n{shorten(node.text, QUESTION_EMS)}"
        lines.append(f"    {_dot(node.id)} [label={_dot(label)}{looks.get(node.kind, '')}];")
    for edge in edges(flow):
        lines.append(f"    {_dot(edge.source)} -> {_dot(edge.dest)} [label={_dot(edge.label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- SVG: a layered layout, top to bottom ----------------------------------------------------

BOX_W, BOX_H = 230, 62  # a step's box
DUMMY_W = 24  # the room a long arrow takes where it passes a layer
GAP_X, GAP_Y = 36, 78  # between boxes in a layer; between layers (the arrows' labels go there)
MARGIN = 24
FONT = 12  # px, the boxes' text
LABEL_FONT = 11  # px, the arrows' labels
TEXT_EMS = (BOX_W - 16) / FONT  # how much text fits on one line of a box
LABEL_EMS = 13


def layers(flow: Flow) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Return each box's layer (the longest path to it from the start) and the back arrows."""
    found = [n.id for n in nodes(flow)]
    out: dict[str, list[str]] = {n: [] for n in found}
    for edge in edges(flow):
        out[edge.source].append(edge.dest)
    # A depth-first walk from the start (then from boxes it never reaches) finds the arrows
    # that close a loop; without them the arrows form a DAG, which longest paths can layer.
    back: set[tuple[str, str]] = set()
    order: list[str] = []
    state: dict[str, int] = {}  # 1 on the walk's path, 2 done

    def walk(node: str) -> None:
        state[node] = 1
        for dest in out[node]:
            if state.get(dest) == 1:
                back.add((node, dest))
            elif dest not in state:
                walk(dest)
        state[node] = 2
        order.append(node)

    start = flow.start if flow.start in out else found[0]
    for node in [start, *found]:
        if node not in state:
            walk(node)
    layer = dict.fromkeys(found, 0)
    for node in reversed(order):  # a topological order of the DAG
        for dest in out[node]:
            if (node, dest) not in back:
                layer[dest] = max(layer[dest], layer[node] + 1)
    if DONE in layer and layer[DONE] == 0 and any(out.values()):
        layer[DONE] = max(layer.values()) + 1  # an end nothing reaches still goes at the bottom
    return layer, back


@dataclass
class _Item:
    """A box, or a point a long arrow passes through, in one layer."""

    key: str | tuple  # a box id, or (source, dest, layer) of an arrow's point
    width: float
    x: float = 0.0


def _spread(count: int, width: float) -> list[float]:
    """Return where `count` arrows leave or enter a box's edge, relative to its centre."""
    step = min(28.0, width / (count + 1))
    return [(i - (count - 1) / 2) * step for i in range(count)]


def _place(row: list[_Item], wanted: list[float]) -> None:
    """Move a layer's items towards the x each wants, keeping their order and gaps."""
    xs = list(wanted)
    for i in range(1, len(row)):
        least = xs[i - 1] + (row[i - 1].width + row[i].width) / 2 + GAP_X
        xs[i] = max(xs[i], least)
    # Pushing right moved the layer; move it back as a whole, by the mean it moved.
    shift = (sum(xs) - sum(wanted)) / len(xs)
    for item, x in zip(row, xs, strict=True):
        item.x = x - shift


def layout(flow: Flow) -> tuple[dict[str, int], list[list[_Item]], set[tuple[str, str]]]:
    """Return the layers, each layer's items in order with their x, and the back arrows."""
    layer, back = layers(flow)
    found = nodes(flow)
    rank = {n.id: i for i, n in enumerate(found)}
    rows: list[list[_Item]] = [[] for _ in range(max(layer.values()) + 1)]
    for node in found:
        rows[layer[node.id]].append(_Item(node.id, BOX_W))
    # Arrows over more than one layer pass through a point in each layer between.
    ups: dict[object, list[object]] = {}  # an item -> the items above it that it joins
    downs: dict[object, list[object]] = {}
    for edge in edges(flow):
        if (edge.source, edge.dest) in back:
            continue
        chain: list[object] = [edge.source]
        for between in range(layer[edge.source] + 1, layer[edge.dest]):
            key = (edge.source, edge.dest, between)
            rows[between].append(_Item(key, DUMMY_W))
            chain.append(key)
        chain.append(edge.dest)
        for upper, lower in zip(chain, chain[1:], strict=False):
            ups.setdefault(lower, []).append(upper)
            downs.setdefault(upper, []).append(lower)

    def tie(item: _Item) -> tuple:
        key = item.key
        return (rank[key], 0) if isinstance(key, str) else (rank[key[0]], 1, rank[key[1]])

    # Order each layer by where the items above it stand (ties in file order), then move the
    # items towards the mean x of their neighbours, down and up a few times.
    index: dict[object, int] = {}
    for row in rows:
        def centre(item: _Item) -> float:
            above = [index[k] for k in ups.get(item.key, []) if k in index]
            return sum(above) / len(above) if above else -1.0
        row.sort(key=lambda item: (centre(item), tie(item)))
        index.update({item.key: i for i, item in enumerate(row)})
    x: dict[object, float] = {}
    for row in rows:
        _place(row, [sum(r.width for r in row[:i]) + GAP_X * i + item.width / 2
                     for i, item in enumerate(row)])
        x.update({item.key: item.x for item in row})
    for _ in range(4):
        for neighbours, order in ((ups, rows[1:]), (downs, rows[-2::-1])):
            for row in order:
                wanted = []
                for item in row:
                    near = [x[k] for k in neighbours.get(item.key, [])]
                    wanted.append(sum(near) / len(near) if near else item.x)
                _place(row, wanted)
                x.update({item.key: item.x for item in row})
    left = min(item.x - item.width / 2 for row in rows for item in row)
    for row in rows:
        for item in row:
            item.x += MARGIN - left
    return layer, rows, back


def _text(parent: ET.Element, x: float, y: float, lines: list[str], size: int,
          attrs: dict[str, str]) -> ET.Element:
    text = ET.SubElement(parent, "text", x=f"{x:.1f}", y=f"{y:.1f}", attrib={
        "font-size": str(size), "text-anchor": "middle", **attrs})
    for number, line in enumerate(lines):
        span = ET.SubElement(text, "tspan", x=f"{x:.1f}", dy="0" if number == 0 else
                             f"{size * 1.25:.1f}")
        span.text = line
    return text


def _points(points: list[tuple[float, float]]) -> str:
    return "M " + " L ".join(f"{x:.1f} {y:.1f}" for x, y in points)


def svg(content: Content) -> str:
    """Return the flow as a standalone SVG image, laid out top to bottom by layers."""
    flow = content.flow
    layer, rows, back = layout(flow)
    xs = {item.key: item.x for row in rows for item in row}
    top = {n: MARGIN + layer[n] * (BOX_H + GAP_Y) for n in layer}
    row_y = [MARGIN + i * (BOX_H + GAP_Y) + BOX_H / 2 for i in range(len(rows))]
    right = max(item.x + item.width / 2 for row in rows for item in row)
    loops = [e for e in edges(flow) if (e.source, e.dest) in back]
    width_px = right + MARGIN + (90 if loops else 0)
    height_px = MARGIN * 2 + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y
    root = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", version="1.1",
                      width=f"{width_px:.0f}", height=f"{height_px:.0f}",
                      viewBox=f"0 0 {width_px:.0f} {height_px:.0f}",
                      attrib={"font-family": "sans-serif"})
    ET.SubElement(root, "title").text = f"{flow.flow}: the questionnaire"
    marker = ET.SubElement(ET.SubElement(root, "defs"), "marker", id="arrow",
                           viewBox="0 0 10 10", refX="10", refY="5", markerWidth="7",
                           markerHeight="7", orient="auto-start-reverse")
    ET.SubElement(marker, "path", d="M 0 0 L 10 5 L 0 10 z", fill="#555")

    # Where each arrow leaves and enters its boxes: spread along the edge, ordered by x.
    forward = [e for e in edges(flow) if (e.source, e.dest) not in back]

    def first_x(edge: Edge) -> float:
        return xs.get((edge.source, edge.dest, layer[edge.source] + 1), xs[edge.dest])

    def last_x(edge: Edge) -> float:
        return xs.get((edge.source, edge.dest, layer[edge.dest] - 1), xs[edge.source])

    leave: dict[tuple[str, str], float] = {}
    enter: dict[tuple[str, str], float] = {}
    for node in layer:
        going = sorted((e for e in forward if e.source == node), key=first_x)
        for edge, dx in zip(going, _spread(len(going), BOX_W), strict=True):
            leave[edge.source, edge.dest] = xs[node] + dx
        coming = sorted((e for e in forward if e.dest == node), key=last_x)
        for edge, dx in zip(coming, _spread(len(coming), BOX_W), strict=True):
            enter[edge.source, edge.dest] = xs[node] + dx

    arrows = ET.SubElement(root, "g", attrib={"class": "edges", "fill": "none"})
    labels = ET.SubElement(root, "g", attrib={"class": "labels"})
    for edge in edges(flow):
        group = ET.SubElement(arrows, "g", id=f"edge-{edge.source}-{edge.dest}",
                              attrib={"class": "edge"})
        ET.SubElement(group, "title").text = f"{edge.source} → {edge.dest}: {edge.label}"
        key = (edge.source, edge.dest)
        if key in back:  # a loop: out of the right side and back up into the box it returns to
            x1, y1 = xs[edge.source] + BOX_W / 2, top[edge.source] + BOX_H / 2
            x2, y2 = xs[edge.dest] + BOX_W / 2, top[edge.dest] + BOX_H / 2
            bend = max(x1, x2) + 70
            ET.SubElement(group, "path", d=f"M {x1:.1f} {y1:.1f} C {bend:.1f} {y1:.1f}, "
                          f"{bend:.1f} {y2:.1f}, {x2:.1f} {y2:.1f}", stroke="#a33",
                          attrib={"stroke-dasharray": "5 3", "marker-end": "url(#arrow)"})
            where = (bend - 8, (y1 + y2) / 2)
        else:
            points = [(leave[key], top[edge.source] + BOX_H)]
            for between in range(layer[edge.source] + 1, layer[edge.dest]):
                points.append((xs[(edge.source, edge.dest, between)], row_y[between]))
            points.append((enter[key], top[edge.dest]))
            ET.SubElement(group, "path", d=_points(points), stroke="#555",
                          attrib={"stroke-width": "1.3", "marker-end": "url(#arrow)"})
            (xa, ya), (xb, yb) = points[0], points[1]
            # In the gap under the box the arrow leaves, where no box is.
            share = min(0.5, (GAP_Y / 2) / max(yb - ya, 1.0))
            where = (xa + (xb - xa) * share, ya + (yb - ya) * share)
        lines = wrap(edge.label, LABEL_EMS, 3)
        lifted = where[1] - (len(lines) - 1) * LABEL_FONT * 1.25 / 2 + LABEL_FONT * 0.35
        # A white halo keeps a label readable where it crosses an arrow.
        _text(labels, where[0], lifted, lines, LABEL_FONT,
              {"fill": "#333", "stroke": "#fff", "stroke-width": "4", "paint-order": "stroke",
               "stroke-linejoin": "round"})

    looks = {"step": ("#ffffff", "#333", "1.2", ""), "start": ("#ffffff", "#333", "2.5", ""),
             "done": ("#e8f4e8", "#363", "1.5", ""), "missing": ("#fff4f4", "#c00", "1.2", "5 3")}
    boxes = ET.SubElement(root, "g", attrib={"class": "nodes"})
    for node in nodes(flow):
        fill, stroke, thick, dashes = looks[node.kind]
        group = ET.SubElement(boxes, "g", id=f"step-{node.id}", attrib={"class": node.kind})
        ET.SubElement(group, "title").text = f"{node.id}: {node.text}"
        x, y = xs[node.id] - BOX_W / 2, top[node.id]
        rect = {"fill": fill, "stroke": stroke, "stroke-width": thick}
        if dashes:
            rect["stroke-dasharray"] = dashes
        ET.SubElement(group, "rect", x=f"{x:.1f}", y=f"{y:.1f}", width=str(BOX_W),
                      height=str(BOX_H), rx="14" if node.kind == "done" else "6", attrib=rect)
        title = node.id + ("（開始）" if node.kind == "start" else "")
        _text(group, xs[node.id], y + 17, [title], FONT,
              {"fill": "#000", "font-weight": "bold", "font-family": "monospace"})
        _text(group, xs[node.id], y + 35, wrap(node.text, TEXT_EMS, 2), FONT, {"fill": "#222"})
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


RENDER = {"mermaid": mermaid, "dot": dot, "svg": svg}


@click.command("graph")
@click.option("--format", "form", type=click.Choice(FORMATS),
              help="mermaid (a flowchart), dot (Graphviz) or svg (an image); default: from "
                   "the -o file's suffix, else mermaid.")
@click.option("-o", "--output", "path", type=click.Path(dir_okay=False),
              help="Write to this file instead of printing.")
@click.option("--root", type=click.Path(exists=True, file_okay=False),
              help="Draw ROOT/content and ROOT/flows alone: no database is read "
                   "(default: the draft).")
def graph_command(form: str | None, path: str | None, root: str | None) -> None:
    """Draw the questionnaire: each question, the end and the answers between them.

    It draws the draft, unless --root names a folder: what the console shows, the configured
    folders (TSUNAGU_CONTENT_DIR, TSUNAGU_FLOWS_DIR) with the files editors saved in the
    console over them, read from the database (DATABASE_URL; one never upgraded has none).
    When there are such files, a line on stderr names them.
    """
    # Imported here: the library reaches the database, which --root never needs.
    from bot.studio import library

    if form is None:
        form = SUFFIXES.get(Path(path).suffix.lower(), "mermaid") if path else "mermaid"
    draft = library.read_draft(root)
    if draft.saved:
        click.echo(f"Drew the draft: {draft.described()}.", err=True)
    text = RENDER[form](bundle.parse(draft.files))
    if path:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {path} ({form}).")
    else:
        click.echo(text, nl=False)
