"""The `tsunagu` command line."""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from bot import LOG_FORMAT, create_app
from bot.content.files import ContentError
from bot.settings import HOW_TO_CONNECT, ConfigError
from bot.studio.checks import check_command
from bot.studio.graph import graph_command
from bot.studio.simulate import simulate_command

VERBOSE = "tsunagu.verbose"  # in the click context's meta: --verbose was given
NOT_UPGRADED = "the database lacks tsunagu's tables ({problem}): run `tsunagu db upgrade` first"


def create_cli_app():
    """Build the app for command-line tools, which need no LINE connection.

    A command prints what it was asked for, and log records only with --verbose (the web app,
    under gunicorn or `tsunagu serve`, logs at INFO)."""
    ctx = click.get_current_context(silent=True)
    verbose = bool(ctx and ctx.meta.get(VERBOSE))
    # Before create_app's own basicConfig (INFO), which then finds the handler and does nothing.
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format=LOG_FORMAT)
    return create_app(webhook=False)


def _remember_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta[VERBOSE] = value


class TsunaguGroup(FlaskGroup):
    """Flask's command group, where a database never upgraded is one line, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as err:
            problem = missing_schema(err)
            if problem is None:
                raise
            raise click.ClickException(NOT_UPGRADED.format(problem=problem)) from None


def missing_schema(err: BaseException) -> str | None:
    """Say which table or column the database lacks, if that is what `err` is; else None."""
    from sqlalchemy.exc import DBAPIError  # loaded already if the error comes from it

    if not isinstance(err, DBAPIError) or err.orig is None:
        return None
    said = (str(err.orig).strip().splitlines() or [type(err.orig).__name__])[0]
    # SQLite says "no such table: x"; PostgreSQL's codes are undefined_table, undefined_column.
    code = getattr(err.orig, "sqlstate", None) or getattr(err.orig, "pgcode", None)
    if said.startswith(("no such table", "no such column")) or code in ("42P01", "42703"):
        return said
    return None


cli = TsunaguGroup(
    create_app=create_cli_app, help="tsunagu: the LINE bot of Akita's support platform.",
    params=[click.Option(["--verbose"], is_flag=True, expose_value=False,
                         callback=_remember_verbose,
                         help="Also print the log records (INFO and up) on stderr.")])
# On the group itself, so they run without building the app, which refuses to start on a
# draft with errors: they read the draft's database alone (bot.studio.library.read_draft),
# and with --root no database at all.
cli.add_command(check_command)
cli.add_command(graph_command)
cli.add_command(simulate_command)  # builds the app only for --version


@cli.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def serve_command(host: str, port: int) -> None:
    """Upgrade the database and start a development server."""
    from bot.db.database import upgrade

    logging.getLogger().setLevel(logging.INFO)  # a server logs as under gunicorn
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
