"""tsunagu: the LINE chatbot that connects Akita's ice-age generation with support."""

from __future__ import annotations

import logging

from flask import Flask


def create_app(test_config: dict | None = None, webhook: bool = True) -> Flask:
    """Create and configure the tsunagu application (without LINE parts if webhook=False)."""
    # Imported here, as in Flask's tutorial: `tsunagu check` needs none of them.
    from bot import checks, config, content, conversation, db, flowdoc, outbox, stats

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.from_env(app.instance_path))
    if test_config:
        app.config.update(test_config)
    config.check(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # transitions narrates every state change at INFO: per event, that is most of our CPU.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    db.init_app(app)
    content.init_app(app)
    conversation.init_app(app)
    stats.init_app(app)
    checks.init_app(app)
    flowdoc.init_app(app)
    outbox.init_app(app)
    if webhook:
        # The LINE SDK takes a second to import; command-line tools do without it.
        from bot import line
        from bot import webhook as webhook_module

        line.init_app(app)
        webhook_module.init_app(app)
    return app
