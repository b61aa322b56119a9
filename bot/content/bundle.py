"""A content bundle: the editors' files as a mapping of names to bytes, parsed into Content.

The same bytes give the same bundle id wherever they come from (the folders today, the
database once editors publish versions), so a conversation can name the bundle it started on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from bot.content.files import ContentError, read_yaml, validate
from bot.content.flow import Flow
from bot.content.schema import AreaFile, Content, OfficeFile, ProgrammeFile, Rules, Safety

CONTENT_FILES = ("programmes", "offices", "areas", "rules", "messages", "safety")
FLOW_FILE = "flows/questionnaire.yaml"
NAMES = (*(f"content/{name}.yaml" for name in CONTENT_FILES), FLOW_FILE)

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


def read_folders(content_dir: str | Path, flows_dir: str | Path) -> dict[str, bytes]:
    """Read the bundle's files from a content folder and a flows folder."""
    folders = {"content": Path(content_dir), "flows": Path(flows_dir)}
    files = {}
    for name in NAMES:
        folder, _, filename = name.partition("/")
        path = folders[folder] / filename
        try:
            files[name] = path.read_bytes()
        except FileNotFoundError as err:
            raise ContentError(f"{path}: file is missing") from err
    return files


def _by_id(items: list, name: str) -> dict:
    found: dict = {}
    for item in items:
        if item.id in found:
            raise ContentError(f"{name}: id {item.id!r} is used twice; give each entry its own id")
        found[item.id] = item
    return found


def parse(files: Files) -> Content:
    """Parse and validate a bundle's files into Content (raise ContentError naming the fix)."""
    missing = [name for name in NAMES if name not in files]
    if missing:
        raise ContentError(f"{missing[0]}: file is missing")
    raw = {name: read_yaml(name, files[name]) for name in NAMES}

    def file(name: str) -> tuple[object, str]:
        key = f"content/{name}.yaml"
        return raw[key], key

    programmes = validate(ProgrammeFile, *file("programmes")).programmes
    offices = validate(OfficeFile, *file("offices")).offices
    content = {
        "programmes": _by_id(programmes, "content/programmes.yaml"),
        "offices": _by_id(offices, "content/offices.yaml"),
        "regions": validate(AreaFile, *file("areas")).regions,
        "rules": validate(Rules, *file("rules")),
        "messages": raw["content/messages.yaml"],
        "safety": validate(Safety, *file("safety")),
        "flow": validate(Flow, raw[FLOW_FILE], FLOW_FILE),
        "bundle_id": bundle_id(files),
    }
    return validate(Content, content, "content")


def load(content_dir: str | Path, flows_dir: str | Path) -> Content:
    """Read and parse the bundle in these folders."""
    return parse(read_folders(content_dir, flows_dir))
