"""A real browser for the tests: Debian's Chromium driven by Playwright, and the app served."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
# Playwright cannot download its own browser on our machines: the tests use Debian's.
MISSING = (f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with "
           "`apt-get update && apt-get install -y chromium` (.ci/run does this).")
PHONE = {"width": 390, "height": 844}  # a phone-sized screen, in CSS pixels


def require_chromium() -> None:
    """Fail (not skip) the test when Debian's Chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(MISSING, pytrace=False)


@contextmanager
def served(app) -> Iterator[str]:
    """Serve the app on a free local port in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


class Console:
    """Collect what a page reports as wrong: console errors, uncaught errors, CSP violations."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda err: self.errors.append(f"uncaught: {err}"))

    def _console(self, message) -> None:
        # Chromium reports every Content-Security-Policy violation as a console error.
        if message.type in ("error", "warning") or "Content Security Policy" in message.text:
            self.errors.append(f"{message.type}: {message.text}")


def launch_chromium():
    """Yield Debian's Chromium driven by Playwright (a fixture body: see tests/conftest.py)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


AXE = Path(__file__).parent / "axe" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def accessibility_problems(page) -> list[str]:
    """Run axe-core on the page (WCAG 2.1 A and AA); return its serious and critical findings.

    The page's context must be opened with `bypass_csp=True`: the app's CSP (rightly) refuses
    the script the test injects.
    """
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return result.violations.filter(v => ["serious", "critical"].includes(v.impact))
            .map(v => `${v.impact} ${v.id}: ${v.help} — ` +
                 v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
    }""", WCAG_AA)
    return list(found)
