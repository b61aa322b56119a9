"""`tsunagu graph`: every question, the end and every branch, in mermaid, DOT and SVG."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.content.flow import DONE
from bot.studio import graph, library
from tests.support.paths import ROOT

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def no_app(monkeypatch):
    """Make building the app fail, so the command shows it needs none (nor LINE settings)."""
    monkeypatch.setenv("TSUNAGU_ENV", "production")
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "TSUNAGU_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


def draw(*args: str) -> str:
    result = CliRunner().invoke(cli, ["graph", *args])
    assert result.exit_code == 0, result.output
    return result.output


def arrows(flow) -> dict[tuple[str, str], set[str]]:
    """Return where each answer leads, read from the flow itself: (step, dest) -> labels."""
    found: dict[tuple[str, str], set[str]] = {}
    for step in flow.steps:
        if not step.options:  # a municipality: any answer goes to the step's next
            found.setdefault((step.id, step.next), set())
        for option in step.options:
            found.setdefault((step.id, option.next or step.next), set()).add(option.label)
    return found


def copy_root(tmp_path: Path) -> Path:
    for folder in ("content", "flows"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def edit_flow(root: Path, old: str, new: str) -> None:
    path = root / "flows" / "questionnaire.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def content():
    return library.draft()


def test_the_shipped_flow_has_the_arrows_of_its_branches(content):
    found = {(e.source, e.dest): e.label for e in graph.edges(content.flow)}
    assert found[("subject", "employer_need")] == "企業・事業主の方"
    assert found[("subject", "age")] == "ご本人・ご家族"
    assert found[("employer_need", "area")] == graph.ANY
    assert found[("area", DONE)] == graph.ANY
    assert set(found) == set(arrows(content.flow))


def test_mermaid_names_every_step_done_and_arrow(content):
    text = draw()  # mermaid is the default
    assert text.startswith("flowchart TD\n")
    for step in [*content.flow.steps]:
        assert re.search(rf"^    {step.id}\[\"{step.id}\b", text, re.M), step.id
    assert re.search(r'^    done\(\["done<br>', text, re.M)
    for (source, dest), labels in arrows(content.flow).items():
        line = re.search(rf'^    {source} -->\|"([^"]*)"\| {dest}$', text, re.M)
        assert line, (source, dest)
        every = labels == {o.label for o in content.flow.step(source).options}
        assert line[1] == (graph.ANY if every else "・".join(
            o.label for o in content.flow.step(source).options if o.label in labels))
    assert text.count("-->") == len(arrows(content.flow))


def test_dot_names_every_step_done_and_arrow(content):
    text = draw("--format", "dot")
    assert text.startswith('digraph "questionnaire" {') and text.rstrip().endswith("}")
    declared = set(re.findall(r'^    "([^"]+)" \[label=', text, re.M))
    assert declared == {s.id for s in content.flow.steps} | {DONE}
    drawn = dict(re.findall(r'^    ("[^"]+" -> "[^"]+") \[label="([^"]*)"\];$', text, re.M))
    for source, dest in arrows(content.flow):
        assert f'"{source}" -> "{dest}"' in drawn, (source, dest)
    assert drawn['"subject" -> "employer_need"'] == "企業・事業主の方"
    assert len(drawn) == len(arrows(content.flow))


def parse_svg(text: str) -> ET.Element:
    root = ET.fromstring(text.encode("utf-8"))  # fails on anything that is not XML
    assert root.tag == f"{SVG}svg"
    return root


def boxes(root: ET.Element) -> dict[str, ET.Element]:
    """Return each box's rect by its id."""
    return {g.get("id").removeprefix("step-"): g.find(f"{SVG}rect")
            for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("step-")}


def test_svg_is_xml_with_every_step_done_and_arrow(content):
    root = parse_svg(draw("--format", "svg"))
    found = boxes(root)
    assert set(found) == {s.id for s in content.flow.steps} | {DONE}
    texts = {g.get("id"): "".join(g.itertext()) for g in root.iter(f"{SVG}g") if g.get("id")}
    for step in content.flow.steps:
        assert step.id in texts[f"step-{step.id}"]
        assert step.question(None)[:6] in texts[f"step-{step.id}"]  # the question, shortened
    edges = {g.get("id") for g in root.iter(f"{SVG}g") if g.get("class") == "edge"}
    assert edges == {f"edge-{s}-{d}" for s, d in arrows(content.flow)}
    assert "企業・事業主の方" in texts["edge-subject-employer_need"]
    labels = "".join(next(g for g in root.iter(f"{SVG}g") if g.get("class") == "labels")
                     .itertext())
    assert "企業・事業主の方" in labels and "ご本人・ご家族" in labels
    for path in root.iter(f"{SVG}path"):
        assert re.fullmatch(r"[MLCz0-9 .,\-]+", path.get("d")), path.get("d")


def test_svg_layers_questions_top_to_bottom_by_the_longest_path(content):
    found = boxes(parse_svg(graph.svg(content)))
    y = {name: float(rect.get("y")) for name, rect in found.items()}
    x = {name: float(rect.get("x")) for name, rect in found.items()}
    chain = ["subject", "age", "employment", "single_parent", "hikikomori", "wish", "area", DONE]
    assert [y[a] < y[b] for a, b in zip(chain, chain[1:], strict=False)] == [True] * 7
    assert y["employer_need"] == y["age"] and x["employer_need"] != x["age"]
    # Boxes of one layer never overlap.
    for a in found:
        for b in found:
            if a < b and y[a] == y[b]:
                assert abs(x[a] - x[b]) >= graph.BOX_W, (a, b)


def test_o_writes_the_file_in_the_format_its_name_says(tmp_path):
    for name, start in (("flow.svg", "<?xml"), ("flow.dot", "digraph"),
                        ("flow.mmd", "flowchart TD")):
        out = draw("-o", str(tmp_path / name))
        assert f"Wrote {tmp_path / name}" in out
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)
    draw("--format", "dot", "-o", str(tmp_path / "other.txt"))
    assert (tmp_path / "other.txt").read_text(encoding="utf-8").startswith("digraph")


def test_root_draws_a_copy_with_a_new_branch(tmp_path):
    root = copy_root(tmp_path)
    # ひとり親 "はい" skips the ひきこもり question; a new question text shows too.
    edit_flow(root, '        label: はい\n', '        label: はい\n        next: wish\n')
    edit_flow(root, "ひとり親のご家庭ですか？", "ひとり親ですか？（試し）")
    mermaid = draw("--root", str(root))
    assert '    single_parent -->|"はい"| wish' in mermaid
    assert '    single_parent -->|"いいえ"| hikikomori' in mermaid
    assert "ひとり親ですか？（試し）" in mermaid
    assert '"single_parent" -> "wish" [label="はい"]' in draw("--root", str(root), "--format",
                                                             "dot")
    svg_root = parse_svg(draw("--root", str(root), "--format", "svg"))
    ids = {g.get("id") for g in svg_root.iter(f"{SVG}g")}
    assert {"edge-single_parent-wish", "edge-single_parent-hikikomori"} <= ids
    assert "ひとり親ですか？（試し）" in "".join(svg_root.itertext())
    # The shipped flow is untouched.
    assert "ひとり親ですか？（試し）" not in draw()


def test_a_broken_flow_is_still_drawn(tmp_path):
    root = copy_root(tmp_path)
    edit_flow(root, "    next: area\n\n  - id: employer_need", "    next: nowhere\n\n"
              "  - id: employer_need")  # wish leads to a step nobody wrote
    edit_flow(root, "    next: done\n", "    next: subject\n")  # area loops to the start
    content = library.draft(root)
    svg_root = parse_svg(graph.svg(content))
    ids = {g.get("id") for g in svg_root.iter(f"{SVG}g")}
    assert {"step-nowhere", "step-done", "edge-wish-nowhere", "edge-area-subject"} <= ids
    assert "nowhere" in graph.mermaid(content) and '"nowhere"' in graph.dot(content)


def test_texts_are_shortened_to_fit():
    long = "お住まいの市町村を教えてください。地域を選ぶか、市町村名を入力してください。"
    short = graph.shorten(long, 10)
    assert short.endswith("…") and graph.width(short) <= 10
    lines = graph.wrap(long, 18, 2)
    assert len(lines) == 2 and all(graph.width(line) <= 18 for line in lines)
    assert lines[0].endswith("。")  # broken after the sentence, not inside a word
    assert graph.wrap("ご本人・ご家族", 13, 3) == ["ご本人・ご家族"]
