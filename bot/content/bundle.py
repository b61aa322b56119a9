"""A content bundle: the editors' files as a mapping of names to bytes, parsed into Content.

The same bytes give the same bundle id wherever they come from (the folders, or a version
stored in the database), so a conversation can name the bundle it started on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from bot.content.files import ContentError, Document, Problem, check_schema, read_document
from bot.content.flow import Flow
from bot.content.schema import (
    AreaFile,
    Content,
    Events,
    Feedback,
    Finder,
    Handoff,
    OfficeFile,
    ProgrammeFile,
    RichMenu,
    Rules,
    Safety,
)

CONTENT_FILES = ("programmes", "offices", "areas", "rules", "messages", "safety")
FLOW_FILE = "flows/questionnaire.yaml"
# The people `tsunagu check` plays through the bot. Part of the bundle, so that a published
# version keeps the scenarios it passed; optional, and the bot itself never reads it.
SCENARIOS_FILE = "content/scenarios.yaml"
# The LINE account beyond the questionnaire: optional, so a version published before them
# still loads (it answers with the schema's defaults).
RICHMENU, FINDER, EVENTS, HANDOFF, FEEDBACK = (
    f"content/{n}.yaml" for n in ("richmenu", "finder", "events", "handoff", "feedback"))
ACCOUNT_FILES = (RICHMENU, FINDER, EVENTS, HANDOFF, FEEDBACK)
NAMES = (*(f"content/{name}.yaml" for name in CONTENT_FILES), FLOW_FILE, *ACCOUNT_FILES,
         SCENARIOS_FILE)
OPTIONAL = frozenset({SCENARIOS_FILE, *ACCOUNT_FILES})
REQUIRED = tuple(name for name in NAMES if name not in OPTIONAL)

PROGRAMMES, OFFICES, AREAS, RULES, MESSAGES, SAFETY = (f"content/{n}.yaml" for n in CONTENT_FILES)

# What each file is checked against, and how its entries are named in a problem: a list's key
# -> (the kind of its entries, the field that names one).
SCHEMAS: dict[str, tuple[object, dict[str, tuple[str, str]], str]] = {
    PROGRAMMES: (ProgrammeFile, {"programmes": ("programme", "id")}, ""),
    OFFICES: (OfficeFile, {"offices": ("office", "id")}, ""),
    AREAS: (AreaFile, {"regions": ("region", "name")}, ""),
    RULES: (Rules, {"rules": ("rule", "id"), "fallback": ("fallback rule", "id")}, ""),
    MESSAGES: (dict[str, str], {}, "message"),
    SAFETY: (Safety, {"crisis_lines": ("crisis line", "name"),
                      "crisis_words": ("crisis words", "")}, ""),
    FLOW_FILE: (Flow, {"steps": ("question", "id"), "options": ("option", "value")}, ""),
    RICHMENU: (RichMenu, {"areas": ("menu area", "label")}, ""),
    FINDER: (Finder, {}, ""),
    EVENTS: (Events, {"events": ("event", "id")}, ""),
    HANDOFF: (Handoff, {}, ""),
    FEEDBACK: (Feedback, {"answers": ("feedback answer", "value")}, ""),
}
# Where each optional file's value goes in Content.
ACCOUNT_FIELDS = {RICHMENU: "richmenu", FINDER: "finder", EVENTS: "events", HANDOFF: "handoff",
                  FEEDBACK: "feedback"}

Files = Mapping[str, bytes]


def bundle_id(files: Files) -> str:
    """Return the checksum of a bundle's files: its id."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name])
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def read_folders(content_dir: str | Path, flows_dir: str | Path,
                 complete: bool = True) -> dict[str, bytes]:
    """Read the bundle's files from a content folder and a flows folder."""
    # complete=False: read what is there (`tsunagu check` reports the missing with the rest).
    folders = {"content": Path(content_dir), "flows": Path(flows_dir)}
    files, missing = {}, []
    for name in NAMES:
        folder, _, filename = name.partition("/")
        path = folders[folder] / filename
        try:
            files[name] = path.read_bytes()
        except FileNotFoundError:
            if name not in OPTIONAL:
                missing.append(Problem(name, None, "", f"file is missing (there is no {path})",
                                     "restore it (e.g. from the last version)"))
    if missing and complete:
        raise ContentError.of(missing)
    return files


def documents(files: Files, names: tuple[str, ...] = (*REQUIRED, *ACCOUNT_FILES)
              ) -> tuple[dict[str, Document], list[Problem]]:
    """Read these files of a bundle; return those that read, and every problem found."""
    docs, issues = {}, []
    for name in names:
        if name not in files:
            if name not in OPTIONAL:
                issues.append(Problem(name, None, "", "file is missing",
                                    "restore it (e.g. from the last version)"))
            continue
        try:
            docs[name] = read_document(name, files[name])
        except ContentError as err:
            issues.extend(err.issues)
            continue
        issues.extend(docs[name].duplicate_keys())
    return docs, issues


# Entries that need an id of their own: (file, the list's path, the field naming an entry, kind).
# "*" in a path stands for every entry of the list before it (each step's options).
UNIQUE = (
    (PROGRAMMES, ("programmes",), "id", "programme"),
    (OFFICES, ("offices",), "id", "office"),
    (RULES, ("rules",), "id", "rule"),
    (AREAS, ("regions",), "name", "region"),
    (FLOW_FILE, ("steps",), "id", "question"),
    (FLOW_FILE, ("steps", "*", "options"), "value", "option"),
    (EVENTS, ("events",), "id", "event"),
    (FEEDBACK, ("answers",), "value", "feedback answer"),
)


def _duplicates(doc: Document, path: tuple, field: str, kind: str) -> list[Problem]:
    if "*" in path:
        star = path.index("*")
        entries = doc.data
        for part in path[:star]:
            entries = entries.get(part) if isinstance(entries, Mapping) else None
        count = len(entries) if isinstance(entries, list) else 0
        return [issue for i in range(count)
                for issue in _duplicates(doc, (*path[:star], i, *path[star + 1:]), field, kind)]
    issues = []
    for value, lines in doc.duplicates(field, *path).items():
        shown = " and ".join(str(line) for line in lines)
        where = doc.item(path[:-1], SCHEMAS[doc.name][1]) if len(path) > 1 else ""
        issues.append(Problem(doc.name, lines[1], ", ".join(filter(None, [where,
                                                                          f"{kind} {value!r}"])),
                            f"its {field} is used {len(lines)} times (lines {shown})",
                            f"give each {kind} its own {field}, or remove the extra one"))
    return issues


def _municipalities_twice(doc: Document) -> list[Problem]:
    seen: dict[str, int] = {}
    issues = []
    regions = doc.data.get("regions") if isinstance(doc.data, Mapping) else None
    for i, region in enumerate(regions if isinstance(regions, list) else []):
        places = region.get("municipalities") if isinstance(region, Mapping) else None
        for j, place in enumerate(places if isinstance(places, list) else []):
            line = doc.line("regions", i, "municipalities", j)
            if place in seen:
                issues.append(Problem(doc.name, line, f"municipality {place!r}",
                                    f"is listed twice (lines {seen[place]} and {line})",
                                    "list each municipality in one region only"))
            else:
                seen[place] = line
    return issues


def build(docs: Mapping[str, Document], bundle: str) -> tuple[Content | None, list[Problem]]:
    """Check each file against its schema; return Content, or None and every problem."""
    values, issues = {}, []
    for name, (schema, kinds, top) in SCHEMAS.items():
        if name in docs:
            values[name], found = check_schema(schema, docs[name], kinds, top)
            issues.extend(found)
    for name, path, field, kind in UNIQUE:
        if name in docs:
            issues.extend(_duplicates(docs[name], path, field, kind))
    if AREAS in docs:
        issues.extend(_municipalities_twice(docs[AREAS]))
    needed = [name for name in SCHEMAS if name not in OPTIONAL]
    if issues or any(name not in values for name in needed):
        return None, issues
    programmes = {p.id: p for p in values[PROGRAMMES].programmes}
    offices = {o.id: o for o in values[OFFICES].offices}
    areas = values[AREAS]
    content = Content(programmes=programmes, offices=offices, regions=areas.regions,
                      place_names=areas.other_names, ambiguous_places=areas.ambiguous,
                      rules=values[RULES], messages=values[MESSAGES], safety=values[SAFETY],
                      flow=values[FLOW_FILE], bundle_id=bundle,
                      **{key: values[name] for name, key in ACCOUNT_FIELDS.items()
                         if name in values})
    return content, []


def parse(files: Files) -> Content:
    """Parse and validate a bundle's files into Content (raise ContentError naming the fix)."""
    docs, issues = documents(files)
    content, found = build(docs, bundle_id(files))
    if issues or found or content is None:
        raise ContentError.of([*issues, *found])
    return content


def load(content_dir: str | Path, flows_dir: str | Path) -> Content:
    """Read and parse the bundle in these folders."""
    return parse(read_folders(content_dir, flows_dir))
