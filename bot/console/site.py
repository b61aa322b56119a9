"""The console put together: its pages, sessions, CSRF and the `tsunagu users` command."""

from __future__ import annotations

from flask import Flask

from bot.console import (
    accounts,
    admin,
    auth,
    dashboard,
    drafting,
    editing,
    editors,
    exports,
    funnels,
    scenario_results,
    web,
)

# Imported for their views on the blueprint.
PAGES = (dashboard, funnels, exports, editors, drafting, editing, scenario_results, admin)
PREVIEW = "/admin/preview"


def init_app(app: Flask) -> None:
    """Register the console at /admin (and where the preview goes) and `tsunagu users`."""
    if app.config["ENV"] != "development":
        # The editors' preview, behind their login (bot/studio/preview.py reads this).
        app.config.setdefault("PREVIEW_URL_PREFIX", PREVIEW)
    web.init_app(app)
    auth.init_app(app)
    app.register_blueprint(web.blueprint)
    accounts.init_app(app)
