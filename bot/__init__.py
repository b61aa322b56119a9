"""tsunagu: the LINE chatbot that connects Akita's ice-age generation with support."""

from __future__ import annotations

import logging

from flask import Flask

from bot import config, content, conversation, db, line, stats, webhook


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the tsunagu application."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.from_env(app.instance_path))
    if test_config:
        app.config.update(test_config)
    config.check(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db.init_app(app)
    content.init_app(app)
    line.init_app(app)
    conversation.init_app(app)
    webhook.init_app(app)
    stats.init_app(app)
    return app
