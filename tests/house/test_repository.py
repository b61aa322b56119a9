"""The repository stands on its own: everything the code, tests and content need is inside it."""

from __future__ import annotations

import datetime
import re
import subprocess

import yaml

from tests.support.paths import FACT_FILES, LINE_OPENAPI, ROOT, SAMPLES, SPEC_PATH

# Built from pieces so that this file does not contain them itself.
OUTSIDE = ["..", "/shared"], ["/work", "/shared"], ["TSUNAGU_", "SHARED"]
FORBIDDEN = ["".join(parts) for parts in OUTSIDE]
PLAN = ROOT / "docs" / "plan" / "koteihyo.tsv"
SOURCES = ROOT / "docs" / "sources"


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return [name for name in listing.split("\0") if name]


def test_no_tracked_file_refers_to_a_path_outside_the_repository():
    files = tracked_files()
    assert "content/offices.yaml" in files  # the listing really is the repository's
    found = []
    for name in files:
        path = ROOT / name
        if not path.is_file():  # deleted in the working tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data[:8000]:  # binary, as git decides it
            continue
        text = data.decode("utf-8", errors="replace")
        found += [f"{name}: {word}" for word in FORBIDDEN if word in text]
    assert not found, found


def citation_problems(name: str, sources: list[str]) -> list[str]:
    """Return what is wrong with one item's sources: each names a file here, its URLs are there."""
    facts = "".join(p.read_text("utf-8") for p in sorted(SOURCES.glob("*.md")))
    problems = [] if sources else [f"{name}: no sources"]
    for source in sources:
        cited = [ROOT / m for m in re.findall(r"docs/(?:plan|sources)/[\w.-]+", source)]
        if not cited or not all(p.is_file() for p in cited):
            problems.append(f"{name}: {source!r} cites no file in docs/plan/ or docs/sources/")
        for url in re.findall(r"https?://[^\s;,)]+", source):
            if url not in facts:
                problems.append(f"{name}: {url} is in no file of docs/sources/")
    return problems


def test_every_office_cites_its_sources_and_when_they_were_checked():
    offices = yaml.safe_load((ROOT / "content" / "offices.yaml").read_text("utf-8"))["offices"]
    assert offices
    problems = []
    for office in offices:
        oid = office["id"]
        problems += citation_problems(oid, office.get("sources") or [])
        if not isinstance(office.get("checked"), datetime.date):
            problems.append(f"{oid}: no checked date (got {office.get('checked')!r})")
    assert not problems, problems


def test_every_crisis_line_cites_its_sources():
    safety = yaml.safe_load((ROOT / "content" / "safety.yaml").read_text("utf-8"))
    lines = safety["crisis_lines"]
    assert lines
    problems = [p for line in lines for p in citation_problems(line["name"], line.get("sources"))]
    assert not problems, problems


def test_the_material_the_tests_and_content_use_is_in_the_repository():
    for path in (SPEC_PATH, LINE_OPENAPI / "webhook.yml", SAMPLES, *FACT_FILES, PLAN):
        assert path.is_file(), path
        assert path.stat().st_size > 0, path
    for folder in (LINE_OPENAPI, SAMPLES.parent):
        assert "Apache License" in (folder / "LICENSE").read_text("utf-8"), folder
        assert (folder / "README.md").is_file(), folder
