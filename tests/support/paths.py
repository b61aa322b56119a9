"""Where the tests' material lives, all inside the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# LINE's OpenAPI descriptions and the SDK's sample webhook payloads (Apache-2.0, see their
# README and LICENSE files).
LINE_OPENAPI = ROOT / "tests" / "line" / "openapi"
SPEC_PATH = LINE_OPENAPI / "messaging-api.yml"
SAMPLES = ROOT / "tests" / "line" / "samples" / "webhook.json"
# The facts the contact details come from, with their sources: the first file (2026-11), its
# companion with more detail (2026-12) and the addendum (2026-12-02).
FACTS = ROOT / "docs" / "sources" / "akita-support-facts.md"
MORE_FACTS = ROOT / "docs" / "sources" / "akita-offices-2026-12.md"
ADDENDUM = ROOT / "docs" / "sources" / "akita-offices-2026-12-addendum.md"
FACT_FILES = (FACTS, MORE_FACTS, ADDENDUM)
