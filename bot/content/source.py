"""Where the app's content bundles come from: `content_source(app)`.

Before anything is published the bot answers with the draft, the files in the configured
folders. Once editors publish, each channel ("live", "staging") answers with the version its
pointer in the database names: every process looks at the pointer at most every few seconds
(one small query), so a publish or a rollback reaches every worker on every host without a
restart. The source reads the database through two callables the app gives it, so this room
does not import the database room.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import Flask, current_app

from bot.content import bundle
from bot.content.bundle import Files
from bot.content.files import ContentError
from bot.content.schema import Content

log = logging.getLogger(__name__)

_KEY = "tsunagu.content"
LIVE = "live"  # the real account
STAGING = "staging"  # the editors' private test account
# A channel's pointer: (version number, bundle id), or None when nothing is published for it.
PointerOf = Callable[[str], "tuple[int, str] | None"]
# A stored bundle's files by bundle id, or None if no version has that id.
FilesOf = Callable[[str], "Files | None"]


class ContentSource:
    """The bundles the app can use, and which one each channel's new conversations start on."""

    def __init__(self, draft: Content, pointer_of: PointerOf | None = None,
                 files_of: FilesOf | None = None, every: float = 2.0, keep: int = 16,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.draft = draft
        self.pointer_of = pointer_of
        self.files_of = files_of
        self.every = every
        self.keep = keep
        self.clock = clock
        self._known: OrderedDict[str, Content] = OrderedDict({draft.bundle_id: draft})
        self._current: dict[str, Content] = {}
        self._numbers: dict[str, int] = {}  # bundle id -> version number, as pointers said
        self._looked: dict[str, float] = {}
        self._lock = threading.Lock()

    def current(self, channel: str = LIVE) -> Content:
        """Return the bundle new conversations of this channel start on."""
        if self.pointer_of is not None and self.clock() - self._looked.get(channel, -1e9) >= (
                self.every):
            self.refresh(channel)
        found = self._current.get(channel)
        if found is None and channel != LIVE:
            return self.current(LIVE)  # a channel with no version of its own answers as live
        return found or self.draft

    def refresh(self, channel: str = LIVE) -> None:
        """Look at the channel's pointer now; load the version it names if it is new here."""
        if not self._lock.acquire(blocking=False):
            return  # another thread is looking: answer with what we have meanwhile
        try:
            self._looked[channel] = self.clock()
            pointer = self.pointer_of(channel)
            if pointer is None:
                self._current.pop(channel, None)
                return
            number, bundle_id = pointer
            content = self._load(bundle_id)
            if content is None:
                log.error("version %s (%s) cannot be loaded; keeping the bundle in use",
                          number, bundle_id)
                return
            self._numbers[bundle_id] = number
            if self._current.get(channel) is not content:
                log.info("%s answers with version %s (%s)", channel, number, bundle_id)
            self._current[channel] = content
        finally:
            self._lock.release()

    def use(self, content: Content, channel: str = LIVE) -> None:
        """Start this channel's new conversations on this bundle (until a pointer says else)."""
        self._remember(content)
        self._current[channel] = content

    def get(self, bundle_id: str) -> Content | None:
        """Return the bundle with this id (loading a stored version), or None if unknown."""
        found = self._known.get(bundle_id)
        if found is not None:
            return found
        with self._lock:
            return self._load(bundle_id)

    def number_of(self, bundle_id: str) -> int | None:
        """Return the version number a pointer gave this bundle, if any."""
        return self._numbers.get(bundle_id)

    def _load(self, bundle_id: str) -> Content | None:
        found = self._known.get(bundle_id)
        if found is not None or self.files_of is None:
            return found
        files = self.files_of(bundle_id)
        if files is None:
            return None
        try:
            content = bundle.parse(files)
        except ContentError:  # stored versions passed the checks; a newer schema may differ
            log.exception("stored version %s no longer parses", bundle_id)
            return None
        self._remember(content)
        return content

    def _remember(self, content: Content) -> None:
        self._known[content.bundle_id] = content
        self._known.move_to_end(content.bundle_id)
        in_use = {c.bundle_id for c in self._current.values()} | {self.draft.bundle_id}
        for old in list(self._known):
            if len(self._known) <= self.keep:
                break
            if old not in in_use and old != content.bundle_id:
                del self._known[old]


def content_source(app: Flask | None = None) -> ContentSource:
    """Return the app's content source."""
    return (app or current_app).extensions[_KEY]


def init_app(app: Flask, pointer_of: PointerOf | None = None,
             files_of: FilesOf | None = None) -> None:
    """Read the draft in the configured folders; follow published versions if given."""
    try:
        draft = bundle.load(app.config["CONTENT_DIR"], app.config["FLOWS_DIR"])
    except ContentError:
        # A draft being edited must not stop a bot that answers with a published version.
        draft = _published(pointer_of, files_of)
        if draft is None:
            raise
        log.warning("the draft in the content folders does not load; `tsunagu check` says why")
    app.extensions[_KEY] = ContentSource(draft, pointer_of, files_of,
                                         every=app.config.get("CONTENT_REFRESH_SECONDS", 2.0))


def _published(pointer_of: PointerOf | None, files_of: FilesOf | None) -> Content | None:
    pointer = pointer_of(LIVE) if pointer_of else None
    files = files_of(pointer[1]) if pointer and files_of else None
    return bundle.parse(files) if files else None
