"""A content bundle ready to answer: its content, dialogue and renderer, built once per process.

`runtimes(app).for_bundle(bundle_id)` gives the runtime a conversation started on (or the
current one when the app no longer has that bundle); runtimes are immutable and shared by
all threads, and only the few built last are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, current_app

from bot.content.schema import Content
from bot.content.source import LIVE, ContentSource
from bot.dialogue.engine import Dialogue
from bot.line.render import Renderer
from bot.referrals.links import Links

_KEY = "tsunagu.runtimes"


@dataclass(frozen=True)
class Runtime:
    """Everything one bundle needs to answer a person."""

    content: Content
    dialogue: Dialogue
    renderer: Renderer

    @classmethod
    def of(cls, content: Content, values: dict[str, str] | None = None,
           links: Links | None = None) -> Runtime:
        return cls(content, Dialogue(content), Renderer(content, values, links))


class Runtimes:
    """Build each bundle's runtime once; keep the `size` built last."""

    def __init__(self, source: ContentSource, size: int = 8,
                 values: dict[str, str] | None = None, links: Links | None = None) -> None:
        self.source = source
        self.size = size
        self.values = values  # the deployment's facts the messages name
        self.links = links  # the referrals' own pages (None: no public address set)
        self._built: OrderedDict[str, Runtime] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._built)

    def current(self, channel: str = LIVE) -> Runtime:
        """Return the runtime a channel's new conversations start on."""
        return self._runtime(self.source.current(channel))

    def for_bundle(self, bundle_id: str | None, channel: str = LIVE) -> Runtime:
        """Return the runtime of this bundle, or the channel's current one if it is unknown."""
        content = self.source.get(bundle_id) if bundle_id is not None else None
        return self._runtime(content or self.source.current(channel))

    def _runtime(self, content: Content) -> Runtime:
        runtime = self._built.get(content.bundle_id)
        if runtime is not None:
            return runtime
        # Outside the lock: building takes milliseconds.
        built = Runtime.of(content, self.values, self.links)
        with self._lock:
            runtime = self._built.setdefault(content.bundle_id, built)
            self._built.move_to_end(content.bundle_id)
            while len(self._built) > self.size:
                self._built.popitem(last=False)
        return runtime


def runtimes(app: Flask | None = None) -> Runtimes:
    """Return the app's runtimes."""
    return (app or current_app).extensions[_KEY]


def init_app(app: Flask, source: ContentSource) -> None:
    values = {"keep_years": str(app.config["KEEP_REFERRAL_YEARS"])}
    public = app.config.get("PUBLIC_URL")
    links = Links(app.config["TSUNAGU_SECRET_KEY"], public) if public else None
    app.extensions[_KEY] = runtimes_ = Runtimes(source, values=values, links=links)
    runtimes_.current()  # build it now, not on the first event
