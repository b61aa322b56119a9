"""The rich menu at LINE: `tsunagu richmenu deploy` and `tsunagu richmenu status`.

The menu comes from the content (content/richmenu.yaml of the live version, or the draft
before anything is published); its image is drawn from it (`bot.operator.menu_image`) or given.
Deploying checks the menu with `tsunagu check`'s rich-menu rules (passed in by `create_app`:
this room does not import the studio) and with LINE's validate endpoint, creates the menu,
uploads its image to the data host, makes it the default and deletes the menus tsunagu deployed
before. Each menu it creates is recorded (`richmenu_deployments`: LINE's id, the checksum of
the request and image, when, by whom), so deploying the same menu again does nothing.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from bot import clock
from bot.content.schema import Content, MenuArea, RichMenu
from bot.content.source import content_source
from bot.db.audit import audit
from bot.db.database import transaction
from bot.db.models import RichMenuDeployment
from bot.dialogue.engine import menu_area_data
from bot.operator import channel, menu_image
from bot.operator.channel import TIMEOUT, LineProblem, talking_to_line
from bot.studio.checks import menu_errors

_KEY = "tsunagu.richmenu.errors"


def action(area: MenuArea, number: int) -> dict:
    """Return an area's LINE action: a URI action, or a postback the engine answers.

    A postback carries the area's number (from 1), so that its taps are counted per area;
    LINE sends no event when a URI action opens its page, so those are not counted.
    """
    if area.action == "uri":
        return {"type": "uri", "label": area.label, "uri": area.uri}
    return {"type": "postback", "label": area.label,
            "data": menu_area_data(area.action, number), "displayText": area.label}


def request_body(menu: RichMenu) -> dict:
    """Return the rich menu object LINE is sent (create and validate)."""
    return {
        "size": {"width": menu.width, "height": menu.height},
        "selected": menu.selected,
        "name": menu.name,
        "chatBarText": menu.chat_bar_text,
        "areas": [{"bounds": area.bounds.model_dump(), "action": action(area, number)}
                  for number, area in enumerate(menu.areas, 1)],
    }


def checksum(body: dict, image: bytes) -> str:
    """Return the checksum of what a deploy sends: the request body and the image."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode())
    digest.update(b"\0")
    digest.update(image)
    return digest.hexdigest()


@dataclass(frozen=True)
class Prepared:
    """A menu ready to send: checked, with its image."""

    body: dict
    image: bytes
    content_type: str
    checksum: str
    bundle_id: str
    drawn: bool  # False: the editor's --image


def prepare(app: Flask, content: Content, image_path: str | None = None) -> Prepared:
    """Check the content's menu and make its image; raise ClickException saying what to fix."""
    errors = menu_errors(content)  # the rich-menu rules of `tsunagu check`
    if errors:
        raise click.ClickException("the rich menu needs fixing first (`tsunagu check` says "
                                   "the same):\n" + "\n".join(errors))
    menu = content.richmenu
    if not menu.areas:
        raise click.ClickException(f"content {content.bundle_id} has no rich menu "
                                   "(content/richmenu.yaml): there is nothing to deploy")
    try:
        if image_path:
            try:
                image = Path(image_path).read_bytes()
            except OSError as err:
                raise menu_image.ImageError(f"cannot read {image_path}: {err.strerror}") from None
        else:
            image = menu_image.draw(menu, menu_image.find_font(app.config.get("FONT", "")))
        kind = menu_image.check_image(image, menu, name=image_path or "the drawn image")
    except menu_image.ImageError as err:
        raise click.ClickException(str(err)) from None
    body = request_body(menu)
    return Prepared(body, image, kind, checksum(body, image), content.bundle_id,
                    image_path is None)


def deployed(app: Flask) -> list[RichMenuDeployment]:
    """Return the menus tsunagu deployed that it has not deleted, newest first."""
    with transaction(app) as session:
        return list(session.scalars(
            select(RichMenuDeployment).where(RichMenuDeployment.deleted_at.is_(None))
            .order_by(RichMenuDeployment.deployed_at.desc(), RichMenuDeployment.id.desc())))


def _record(app: Flask, menu_id: str, prepared: Prepared, who: str) -> None:
    with transaction(app) as session:
        session.add(RichMenuDeployment(rich_menu_id=menu_id, checksum=prepared.checksum,
                                       bundle_id=prepared.bundle_id, deployed_at=clock.now(),
                                       deployed_by=who[:128]))


def _forget(app: Flask, menu_id: str) -> None:
    with transaction(app) as session:
        for row in session.scalars(select(RichMenuDeployment)
                                   .where(RichMenuDeployment.rich_menu_id == menu_id)):
            row.deleted_at = clock.now()


def when(moment: dt.datetime) -> str:
    """Say a stored time in Japan's time, as staff see it, naming the zone."""
    return f"{clock.staff_time(moment)} JST"


def default_menu(line) -> str | None:
    """Return the id of LINE's default rich menu, or None when there is none."""
    from linebot.v3.messaging import ApiException

    with talking_to_line():
        try:
            return line.get_default_rich_menu_id(_request_timeout=TIMEOUT).rich_menu_id
        except ApiException as err:
            if channel.not_found(err):
                return None
            raise


def validate(line, prepared: Prepared) -> None:
    """Ask LINE whether it takes the menu; raise LineProblem with its answer if not."""
    from linebot.v3.messaging import RichMenuRequest

    with talking_to_line():
        line.validate_rich_menu_object(RichMenuRequest.from_dict(prepared.body),
                                       _request_timeout=TIMEOUT)


def deploy(app: Flask, content: Content, who: str, image_path: str | None = None,
           dry_run: bool = False, out: str | None = None) -> list[str]:
    """Deploy the content's rich menu (or only check it); return what was done, in words."""
    prepared = prepare(app, content, image_path)
    said = []
    if out:
        try:
            Path(out).write_bytes(prepared.image)
        except OSError as err:
            raise click.ClickException(f"cannot write {out}: {err.strerror}") from None
        said.append(f"Wrote the image to {out} ({_kind(prepared)}, "
                    f"{len(prepared.image):,} bytes).")
    last = next(iter(deployed(app)), None)
    same = last is not None and last.checksum == prepared.checksum
    if dry_run:
        return said + _dry_run(app, prepared, last if same else None)
    line = channel.apis(app)
    if same and default_menu(line.messaging) == last.rich_menu_id:
        return said + [f"The rich menu is already deployed and is LINE's default "
                       f"({last.rich_menu_id}, {when(last.deployed_at)} by "
                       f"{last.deployed_by}); nothing to do."]
    from linebot.v3.messaging import RichMenuRequest

    before = [row.rich_menu_id for row in deployed(app)]
    validate(line.messaging, prepared)
    with talking_to_line():
        menu_id = line.messaging.create_rich_menu(RichMenuRequest.from_dict(prepared.body),
                                                  _request_timeout=TIMEOUT).rich_menu_id
    _record(app, menu_id, prepared, who)  # a later deploy deletes it, even if the rest fails
    try:
        with talking_to_line("LINE_API_DATA_BASE_URL"):
            line.blob.set_rich_menu_image(menu_id, prepared.image, _request_timeout=TIMEOUT,
                                          _headers={"Content-Type": prepared.content_type})
        with talking_to_line():
            line.messaging.set_default_rich_menu(menu_id, _request_timeout=TIMEOUT)
    except LineProblem as err:
        raise LineProblem(f"{err.message} (rich menu {menu_id} was created but is not the "
                          "default; the next deploy deletes it)") from None
    deleted = _delete(app, line.messaging, before)
    audit(f"cli:{who}", "richmenu_deploy",
          f"{menu_id} ({prepared.checksum[:12]}, content {prepared.bundle_id}"
          + (", image given" if not prepared.drawn else "")
          + (f"); deleted {', '.join(deleted)}" if deleted else ")"), app=app)
    said.append(f"Deployed the rich menu {menu_id} ({len(prepared.body['areas'])} areas, "
                f"{_kind(prepared)} image of {len(prepared.image):,} bytes) and made it "
                "LINE's default.")
    if deleted:
        said.append(f"Deleted the rich menu{'s' if len(deleted) > 1 else ''} deployed "
                    f"before: {', '.join(deleted)}.")
    return said


def _kind(prepared: Prepared) -> str:
    name = prepared.content_type.removeprefix("image/").upper()
    return name if prepared.drawn else f"{name} (given)"


def _dry_run(app: Flask, prepared: Prepared, same: RichMenuDeployment | None) -> list[str]:
    said = [f"The rich menu passes tsunagu's checks ({len(prepared.body['areas'])} areas, "
            f"{_kind(prepared)} image of {len(prepared.image):,} bytes)."]
    if channel.connected(app):
        validate(channel.apis(app).messaging, prepared)
        said.append("LINE's validation accepts it.")
    else:
        said.append("LINE was not asked to validate it: LINE_CHANNEL_ACCESS_TOKEN is not set.")
    if same is not None:
        said.append(f"It is the menu deployed {when(same.deployed_at)} by {same.deployed_by} "
                    f"({same.rich_menu_id}).")
    said.append("Dry run: nothing was created at LINE.")
    return said


def _delete(app: Flask, line, menu_ids: list[str]) -> list[str]:
    """Delete menus tsunagu deployed before at LINE (one already gone counts as deleted)."""
    from linebot.v3.messaging import ApiException

    deleted = []
    for menu_id in menu_ids:
        with talking_to_line():
            try:
                line.delete_rich_menu(menu_id, _request_timeout=TIMEOUT)
            except ApiException as err:
                if not channel.not_found(err):
                    raise
        _forget(app, menu_id)
        deleted.append(menu_id)
    return deleted


def status_lines(app: Flask) -> list[str]:
    """Return what LINE has next to what tsunagu deployed, in plain words."""
    line = channel.apis(app).messaging
    with talking_to_line():
        menus = line.get_rich_menu_list(_request_timeout=TIMEOUT).richmenus
    default = default_menu(line)
    ours = {row.rich_menu_id: row for row in deployed(app)}
    said = [f"LINE has {len(menus)} rich menu{'' if len(menus) == 1 else 's'}."]
    for menu in menus:
        row = ours.get(menu.rich_menu_id)
        made = (f"deployed by tsunagu {when(row.deployed_at)} by {row.deployed_by} (content "
                f"{row.bundle_id})" if row else "not deployed by tsunagu")
        mark = "the default, " if menu.rich_menu_id == default else ""
        areas = f"{len(menu.areas)} area{'' if len(menu.areas) == 1 else 's'}"
        said.append(f"  {menu.rich_menu_id}: {menu.name!r}, {areas}, "
                    f"{menu.size.width}×{menu.size.height}; {mark}{made}")
    if default is None:
        said.append("No default rich menu: people see no menu (run `tsunagu richmenu deploy`).")
    elif default not in {m.rich_menu_id for m in menus}:
        said.append(f"The default is {default}, which the list does not show.")
    else:
        said.append(f"The default, shown to everyone without a menu of their own: {default}.")
    for menu_id, row in ours.items():
        if menu_id not in {m.rich_menu_id for m in menus}:
            said.append(f"tsunagu deployed {menu_id} ({when(row.deployed_at)}), which LINE "
                        "no longer has; the next deploy forgets it.")
    said.append(_compared(app, next(iter(ours.values()), None)))
    return said


def _compared(app: Flask, last: RichMenuDeployment | None) -> str:
    """Say whether the content's menu (drawn) is the one tsunagu deployed last."""
    content = content_source(app).current()
    if not content.richmenu.areas:
        return "The content has no rich menu (content/richmenu.yaml)."
    try:
        prepared = prepare(app, content)
    except click.ClickException:
        return ("The content's rich menu does not pass the checks or cannot be drawn: "
                "`tsunagu richmenu deploy --dry-run` says why.")
    if last is None:
        return "The content's menu is not deployed yet: run `tsunagu richmenu deploy`."
    if prepared.checksum == last.checksum:
        return f"The content's menu is the one deployed ({last.rich_menu_id})."
    return ("The content's menu differs from the one deployed (or that one was sent with "
            "--image): run `tsunagu richmenu deploy` to send it.")


# ---- `tsunagu richmenu` -------------------------------------------------------------------

richmenu_cli = AppGroup("richmenu", help="The rich menu at the bottom of the chat "
                                         "(content/richmenu.yaml).")


@richmenu_cli.command("deploy")
@click.option("--dry-run", is_flag=True,
              help="Check the menu (here and with LINE) and make its image; create nothing.")
@click.option("--image", "image_path", type=click.Path(dir_okay=False),
              help="Send this PNG or JPEG (exactly the menu's size, at most 1 MB) instead of "
                   "the drawn image.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="Also write the image to this file.")
@click.option("--who", help="Who deploys (default: the login name); recorded and audited.")
def deploy_command(dry_run: bool, image_path: str | None, out: str | None,
                   who: str | None) -> None:
    """Send the content's rich menu to LINE and make it the default (once per change)."""
    app = current_app
    for text in deploy(app, content_source(app).current(), who or getpass.getuser(),
                       image_path=image_path, dry_run=dry_run, out=out):
        click.echo(text)


@richmenu_cli.command("status")
def status_command() -> None:
    """Show the rich menus LINE has, its default, and which tsunagu deployed."""
    for text in status_lines(current_app):
        click.echo(text)


def init_app(app: Flask) -> None:
    """Register `tsunagu richmenu`."""
    app.cli.add_command(richmenu_cli)
