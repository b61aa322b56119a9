"""Versions: `tsunagu publish`, `versions`, `diff`, `rollback` and `stage`.

Editors edit the files (the draft). Publishing checks the draft exactly as `tsunagu check`
does, stores its files as a new numbered version and makes it live; every worker follows
within TSUNAGU_CONTENT_REFRESH_SECONDS. Rolling back points live at an older version. Versions
are never changed or deleted, so every conversation and referral can name the one it was on.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from bot import clock
from bot.content import bundle
from bot.content.files import ContentError
from bot.content.schema import Content
from bot.content.source import content_source
from bot.db import versions
from bot.db.audit import audit
from bot.db.database import database
from bot.studio import checks, drafts, library
from bot.studio.diff import diff, summary


def check_errors(files: Mapping[str, bytes]) -> list[str]:
    """Return the errors `tsunagu check` finds in these files (the same checks, all of them)."""
    return [problem.text() for problem in checks.examine(files).errors()]


def live_content(app: Flask, channel: str = versions.LIVE) -> tuple[int | None, Content]:
    """Return the version a channel answers with (None: nothing published, the draft)."""
    found = versions.pointer(database(app), channel)
    if found is None:
        return None, content_source(app).draft
    return found.number, library.version(app, found.number)


def store(app: Flask, files: Mapping[str, bytes], note: str, who: str,
          channel: str) -> int:
    """Check a bundle's files and store them as a new version a channel answers with.

    Raise click.ClickException listing every error; nothing is stored then.
    """
    errors = check_errors(files)
    if errors:
        raise click.ClickException(
            "公開できません。次の誤りを直してください（tsunagu check と同じ確認です）:\n"
            + "\n".join(errors))
    return versions.add(database(app), files, bundle.bundle_id(files), note, who, channel)


def _who(who: str | None) -> str:
    return who or getpass.getuser()


@click.command("publish")
@click.option("--root", type=click.Path(file_okay=False), help="公開する下書きのフォルダ "
              "(content/ と flows/ を含む)。省略時は設定のフォルダ。")
@click.option("--note", required=True, help="何を変えたか（版の一覧に出ます）。")
@click.option("--who", help="公開する人の名前（省略時はログイン名）。")
@with_appcontext
def publish_command(root: str | None, note: str, who: str | None) -> None:
    """Check the draft and make it the live version."""
    app = current_app
    files = library.draft_files(root)
    live_number, live = live_content(app)
    if live_number is not None and bundle.bundle_id(files) == live.bundle_id:
        click.echo(f"下書きは公開中の版 {live_number} と同じです。公開するものはありません。")
        return
    number = store(app, files, note, _who(who), versions.LIVE)
    seconds = app.config["CONTENT_REFRESH_SECONDS"]
    click.echo(f"版 {number} を公開しました（{bundle.bundle_id(files)}）。"
               f"すべてのサーバーが {seconds:g} 秒以内にこの版で答えます。")


@click.command("versions")
@with_appcontext
def versions_command() -> None:
    """List the versions: number, time, note, checksum, who, and which channel uses it."""
    listed = versions.listing(database(current_app))
    if not listed:
        click.echo("まだ公開された版はありません（いまは下書きのファイルで答えています）。")
        return
    names = {versions.LIVE: "公開中", versions.STAGING: "試験中"}
    for v in listed:
        marks = "・".join(names[c] for c in v.channels)
        click.echo(f"{v.number:>4}  {clock.staff_time(v.created_at)}  {v.bundle_id}  "
                   f"{v.author:<12}  紹介 {v.referrals:>5} 件  {marks:<8}  {v.note}")


@click.command("diff")
@click.argument("number", type=int, required=False)
@click.option("--root", type=click.Path(file_okay=False), help="比べる下書きのフォルダ。")
@with_appcontext
def diff_command(number: int | None, root: str | None) -> None:
    """Show what the draft changes from the live version (or from version N)."""
    app = current_app
    if number is None:
        _, base = live_content(app)
    else:
        base = library.version(app, number)
    click.echo(summary(diff(base, library.draft(root))))


@click.command("rollback")
@click.argument("number", type=int)
@click.option("--yes", is_flag=True, help="確かめずに戻す（スクリプト用）。")
@click.option("--who", help="戻す人の名前（省略時はログイン名）。")
@with_appcontext
def rollback_command(number: int, yes: bool, who: str | None) -> None:
    """Make version N live again, after showing what that changes."""
    app = current_app
    target = library.version(app, number)
    live_number, live = live_content(app)
    if live_number == number:
        click.echo(f"版 {number} はすでに公開中です。")
        return
    click.echo(f"版 {live_number or '（下書き）'} から版 {number} に戻すと、次が変わります:")
    click.echo(summary(diff(live, target)))
    if not yes and not click.confirm(f"版 {number} を公開しますか？"):
        click.echo("戻しませんでした。")
        raise SystemExit(1)
    versions.point(database(app), versions.LIVE, number, _who(who))
    click.echo(f"版 {number} を公開しました。すべてのサーバーが "
               f"{app.config['CONTENT_REFRESH_SECONDS']:g} 秒以内にこの版で答えます。")


@click.command("stage")
@click.argument("number", type=int, required=False)
@click.option("--root", type=click.Path(file_okay=False), help="試す下書きのフォルダ。")
@click.option("--note", default="試験用", show_default=True, help="版の一覧に出る説明。")
@click.option("--who", help="試す人の名前（省略時はログイン名）。")
@click.option("--off", is_flag=True, help="試験用アカウントを公開中の版に戻す。")
@with_appcontext
def stage_command(number: int | None, root: str | None, note: str, who: str | None,
                  off: bool) -> None:
    """Let the staging account answer with version N, or with the draft."""
    app = current_app
    db = database(app)
    if off:
        versions.unpoint(db, versions.STAGING)
        click.echo("試験用アカウントは公開中の版で答えます。")
        return
    if number is None:
        number = store(app, library.draft_files(root), note, _who(who), versions.STAGING)
        click.echo(f"下書きを版 {number} として保存しました（まだ公開していません）。")
    else:
        library.version(app, number)  # says so if there is no such version
        versions.point(db, versions.STAGING, number, _who(who))
    if not app.config.get("LINE_STAGING_CONNECTED"):
        click.echo("注意: LINE_STAGING_CHANNEL_SECRET と LINE_STAGING_CHANNEL_ACCESS_TOKEN が"
                   "設定されていないので、試験用アカウントはまだ答えません。", err=True)
    click.echo(f"試験用アカウントは版 {number} で答えます。公開するまで本番の紹介件数には"
               "数えません。")


draft_cli = AppGroup("draft", help="The editors' draft as files: export it, import a folder.")


@draft_cli.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
def draft_export_command(folder: str) -> None:
    """Write the draft (with the console's saves) as the usual files under FOLDER."""
    revision = drafts.latest(database(current_app))
    written = drafts.export(library.draft_files(), Path(folder), revision)
    click.echo(f"Wrote {len(written)} files under {folder} (the draft at revision {revision}); "
               f"`tsunagu check --root {folder}` checks them.")


@draft_cli.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Import even over console saves made since.")
@click.option("--who", default=None, help="Who imports (default: the system user).")
def draft_import_command(folder: str, force: bool, who: str | None) -> None:
    """Load FOLDER's content/ and flows/ into the draft (checked, audited)."""
    db = database(current_app)
    try:
        incoming = library.draft_files(folder)
    except ContentError as err:
        raise click.ClickException(str(err)) from None
    report = checks.examine(incoming)
    if report.errors():
        for problem in report.errors():
            click.echo(problem.text(), err=True)
        raise click.ClickException(f"{len(report.errors())} errors: nothing was imported "
                                   "(`tsunagu check --root` says the same).")
    since, now_at = drafts.exported_at(Path(folder)), drafts.latest(db)
    if not force and now_at and (since is None or since < now_at):
        raise click.ClickException(
            f"the draft was saved (in the console or by an import) since this folder was "
            f"exported or last imported (revision "
            f"{now_at}, the folder {'has none' if since is None else since}): export it again "
            "and merge, or import with --force to overwrite their saves.")
    operator = who or f"cli:{getpass.getuser()}"
    changed = drafts.import_files(db, library.draft_files(), incoming, operator)
    drafts.mark(Path(folder), drafts.latest(db))  # the folder is the draft now
    if not changed:
        click.echo("The folder is the draft already: nothing changed.")
        return
    audit(operator, "draft_import", f"{folder}: {', '.join(changed)}")
    click.echo(f"Imported {len(changed)} files into the draft: {', '.join(changed)}.")


def init_app(app: Flask) -> None:
    for command in (publish_command, versions_command, diff_command, rollback_command,
                    stage_command, draft_cli):
        app.cli.add_command(command)
