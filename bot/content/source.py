"""Where the app's content bundles come from: `content_source(app)`.

Today the one bundle is read from the configured folders at start-up; the editors' studio
will add published bundles from the database. Every caller asks this source, so that change
stays in one place.
"""

from __future__ import annotations

from flask import Flask, current_app

from bot.content import bundle
from bot.content.schema import Content

_KEY = "tsunagu.content"


class ContentSource:
    """The bundles the app can use, and which one new conversations start on."""

    def __init__(self, content: Content) -> None:
        self._current = content
        self._known = {content.bundle_id: content}

    def current(self) -> Content:
        """Return the bundle new conversations start on."""
        return self._current

    def use(self, content: Content) -> None:
        """Start new conversations on this bundle; conversations begun before keep theirs."""
        self._known[content.bundle_id] = content
        self._current = content

    def get(self, bundle_id: str) -> Content | None:
        """Return the bundle with this id, or None if the app does not have it (any more)."""
        return self._known.get(bundle_id)


def content_source(app: Flask | None = None) -> ContentSource:
    """Return the app's content source."""
    return (app or current_app).extensions[_KEY]


def init_app(app: Flask) -> None:
    """Read the bundle in the configured folders (checked by the caller before use)."""
    content = bundle.load(app.config["CONTENT_DIR"], app.config["FLOWS_DIR"])
    app.extensions[_KEY] = ContentSource(content)
