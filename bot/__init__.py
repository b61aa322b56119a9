"""tsunagu: the LINE chatbot that connects Akita's ice-age generation with support.

The rooms, bottom to top (a room imports only rooms below it; docs/architecture.md):
db, content -> dialogue -> referrals -> conversations -> line -> studio -> console, operator
-> sheet.
"""

from __future__ import annotations

import logging

from flask import Flask

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def create_app(test_config: dict | None = None, webhook: bool = True) -> Flask:
    """Create and configure the tsunagu application (without LINE parts if webhook=False)."""
    # Imported here, as in Flask's tutorial: `tsunagu check` needs none of them.
    from bot import settings
    from bot.console import site
    from bot.content import source
    from bot.conversations import retention, store
    from bot.db import database, versions
    from bot.line import commands, outbox
    from bot.operator import commands as operator
    from bot.referrals import stats
    from bot.sheet import web as sheet
    from bot.studio import checks, flowdoc, publishing

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.from_env(app.instance_path))
    if test_config:
        app.config.update(test_config)
    settings.check(app)
    # INFO for the web app; the `tsunagu` command sets its own level first (bot/cli.py).
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # transitions narrates every state change at INFO: per event, that is most of our CPU.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    database.init_app(app)
    db = database.database(app)
    source.init_app(app, pointer_of=lambda channel: _pointer(versions.pointer(db, channel)),
                    files_of=lambda bundle_id: versions.files_of(db, bundle_id=bundle_id))
    bundles = source.content_source(app)
    checks.require_fine(bundles.current())
    store.init_app(app)
    retention.init_app(app)
    stats.init_app(app)
    checks.init_app(app)
    flowdoc.init_app(app)
    publishing.init_app(app)
    site.init_app(app)  # the counselors' console at /admin and `tsunagu users`
    sheet.init_app(app)  # a referral's own page at /r/
    outbox.init_app(app)
    commands.init_app(app)  # `tsunagu send-replies`
    operator.init_app(app)  # `tsunagu richmenu`, `tsunagu line`
    if webhook:
        # The LINE SDK takes a second to import; command-line tools do without it.
        from bot.line import client, runtime
        from bot.line import webhook as webhook_module
        from bot.studio import preview

        client.init_app(app)
        runtime.init_app(app, bundles)
        webhook_module.init_app(app)
        preview.init_app(app)  # the editors' browser preview, in development only
    return app


def _pointer(found) -> tuple[int, str] | None:
    return (found.number, found.bundle_id) if found else None
