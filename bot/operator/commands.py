"""The operator's commands for the LINE account: `tsunagu richmenu` and `tsunagu line`."""

from __future__ import annotations

from flask import Flask

from bot.operator import channel, richmenu


def init_app(app: Flask) -> None:
    """Register `tsunagu richmenu` (deploy, status) and `tsunagu line` (status, test-webhook)."""
    richmenu.init_app(app)
    app.cli.add_command(channel.line_cli)
