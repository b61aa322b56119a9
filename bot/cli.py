"""The `tsunagu` command line."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from bot import create_app
from bot.content.files import ContentError
from bot.settings import HOW_TO_CONNECT, ConfigError
from bot.studio.checks import check_command
from bot.studio.graph import graph_command
from bot.studio.simulate import simulate_command


def create_cli_app():
    """Build the app for command-line tools, which need no LINE connection."""
    return create_app(webhook=False)


cli = FlaskGroup(create_app=create_cli_app,
                 help="tsunagu: the LINE bot of Akita's support platform.")
cli.add_command(check_command)  # on the group itself, so it runs without building the app
cli.add_command(graph_command)  # as check: it draws the draft, no app needed
cli.add_command(simulate_command)  # builds the app only for --version


@cli.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def serve_command(host: str, port: int) -> None:
    """Upgrade the database and start a development server."""
    from bot.db.database import upgrade

    upgrade(current_app)
    app = create_app()
    if not app.config["LINE_CONNECTED"]:
        click.echo(HOW_TO_CONNECT, err=True)
    elif app.config["REDIS_URL"]:
        click.echo("Replies are queued in Redis: run `tsunagu send-replies` too, or unset "
                   "TSUNAGU_REDIS_URL to reply from the webhook.", err=True)
    # app.run() refuses to run inside the flask CLI; call the server it would have used.
    run_simple(host, port, app, threaded=True)


def main() -> None:
    """Run the CLI; print configuration problems as one clear line."""
    try:
        cli.main(prog_name="tsunagu")
    except (ConfigError, ContentError) as err:
        click.echo(f"tsunagu: {err}", err=True)
        sys.exit(2)
