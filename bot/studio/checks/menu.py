"""The rich menu's rules (richmenu.yaml): areas LINE takes, inside the image, apart."""

from __future__ import annotations

import string
from collections.abc import Iterator

from bot.content import bundle
from bot.content.schema import Content
from bot.dialogue.engine import menu_area_data
from bot.line.limits import (
    MAX_CHAT_BAR_TEXT,
    MAX_MENU_AREAS,
    MAX_MENU_LABEL,
    MAX_MENU_NAME,
    MAX_POSTBACK_DATA,
    MAX_URI,
    URI_SCHEMES,
)
from bot.studio.checks.framework import ERROR, Check, Context, Problem, check, error

# ---- LINE's limits: the rich menu (content/richmenu.yaml) ---------------------------------
# Checked before `tsunagu richmenu deploy` sends anything to LINE (`menu_errors`).

MENU_CHECKS: list[Check] = []  # the rules below, which `menu_errors` runs alone


def _menu_check(func: Check) -> Check:
    MENU_CHECKS.append(func)
    return check(func)


def _menu(c: Context, *path) -> tuple[str, int | None]:
    return "rich menu", c.line(bundle.RICHMENU, *path)


def _menu_area(c: Context, i: int, *path) -> tuple[str, int | None]:
    label = c.content.richmenu.areas[i].label
    return (f"menu area {i + 1} {label!r}", c.line(bundle.RICHMENU, "areas", i, *path))


def _is_color(value: str) -> bool:
    return (len(value) == 7 and value.startswith("#")
            and all(ch in string.hexdigits for ch in value[1:]))


@_menu_check
def menu_has_areas_line_takes(c: Context) -> Iterator[Problem]:
    count = len(c.content.richmenu.areas)
    if not count and bundle.RICHMENU not in c.docs:
        return  # no richmenu.yaml (an older version): no menu, which deploy says
    if not 1 <= count <= MAX_MENU_AREAS:
        yield error(bundle.RICHMENU, _menu(c, "areas"),
                    f"has {count} areas; LINE takes 1 to {MAX_MENU_AREAS}",
                    "give the menu at least one area" if not count
                    else f"join areas until there are at most {MAX_MENU_AREAS}")


@_menu_check
def menu_texts_fit_line(c: Context) -> Iterator[Problem]:
    menu = c.content.richmenu
    if not 1 <= len(menu.chat_bar_text) <= MAX_CHAT_BAR_TEXT:
        yield error(bundle.RICHMENU, _menu(c, "chat_bar_text"),
                    f"chat_bar_text {menu.chat_bar_text!r} is {len(menu.chat_bar_text)} "
                    f"characters; LINE takes 1 to {MAX_CHAT_BAR_TEXT}",
                    f"write the bar's text in at most {MAX_CHAT_BAR_TEXT} characters")
    if not 1 <= len(menu.name) <= MAX_MENU_NAME:
        yield error(bundle.RICHMENU, _menu(c, "name"),
                    f"name is {len(menu.name)} characters; LINE takes 1 to {MAX_MENU_NAME}",
                    "give the menu a short name (people do not see it)")
    for i, area in enumerate(menu.areas):
        if not 1 <= len(area.label) <= MAX_MENU_LABEL:
            yield error(bundle.RICHMENU, _menu_area(c, i, "label"),
                        f"the label is {len(area.label)} characters; LINE takes 1 to "
                        f"{MAX_MENU_LABEL}", f"write it in at most {MAX_MENU_LABEL} characters")


@_menu_check
def menu_areas_are_inside_the_image(c: Context) -> Iterator[Problem]:
    menu = c.content.richmenu
    for i, area in enumerate(menu.areas):
        b = area.bounds
        if (b.width < 1 or b.height < 1 or b.x < 0 or b.y < 0
                or b.x + b.width > menu.width or b.y + b.height > menu.height):
            yield error(bundle.RICHMENU, _menu_area(c, i, "bounds"),
                        f"its bounds (x {b.x}, y {b.y}, width {b.width}, height {b.height}) "
                        f"go outside the {menu.size} image of {menu.width}×{menu.height} "
                        "pixels", f"keep x + width within {menu.width} and y + height within "
                        f"{menu.height}, with width and height of at least 1")


@_menu_check
def menu_areas_do_not_overlap(c: Context) -> Iterator[Problem]:
    areas = c.content.richmenu.areas
    for i, area in enumerate(areas):
        a = area.bounds
        for j in range(i):
            b = areas[j].bounds
            if (a.x < b.x + b.width and b.x < a.x + a.width
                    and a.y < b.y + b.height and b.y < a.y + a.height):
                yield error(bundle.RICHMENU, _menu_area(c, i, "bounds"),
                            f"overlaps area {j + 1} {areas[j].label!r}, so a tap there "
                            "could mean either", "move or shrink one of them: an area "
                            "starts where the one before ends (x + width)")
                break


@_menu_check
def menu_links_fit_line(c: Context) -> Iterator[Problem]:
    for i, area in enumerate(c.content.richmenu.areas):
        if area.action != "uri":
            if area.uri:
                yield error(bundle.RICHMENU, _menu_area(c, i, "uri"),
                            f"has a uri but its action is {area.action!r}, which opens no "
                            "page", "remove the uri, or make the action uri")
            continue
        scheme, _, rest = area.uri.partition(":")
        if not area.uri:
            yield error(bundle.RICHMENU, _menu_area(c, i, "action"),
                        "opens a page (action uri) but has no uri",
                        "add 'uri:' with the page's address, e.g. https://www.pref.akita.lg.jp/")
        elif scheme.lower() not in URI_SCHEMES or not rest.strip("/"):
            yield error(bundle.RICHMENU, _menu_area(c, i, "uri"),
                        f"uri {area.uri!r} is not an address LINE opens",
                        f"start it with one of {', '.join(s + ':' for s in URI_SCHEMES)} "
                        "(a web page: the whole address, as the browser shows it)")
        elif len(area.uri) > MAX_URI:
            yield error(bundle.RICHMENU, _menu_area(c, i, "uri"),
                        f"uri is {len(area.uri)} characters; LINE takes at most {MAX_URI}",
                        "use a shorter address for the same page")


@_menu_check
def menu_data_fits_line(c: Context) -> Iterator[Problem]:
    # What an area's postback carries: its action and its number (its taps are counted).
    for i, area in enumerate(c.content.richmenu.areas):
        if area.action == "uri":
            continue
        size = len(menu_area_data(area.action, i + 1).encode("utf-8"))
        if size > MAX_POSTBACK_DATA:
            yield error(bundle.RICHMENU, _menu_area(c, i, "action"),
                        f"its tap carries {size} bytes of data; LINE takes at most "
                        f"{MAX_POSTBACK_DATA}", "use one of the actions the bot knows")


@_menu_check
def menu_colors_are_colors(c: Context) -> Iterator[Problem]:
    menu = c.content.richmenu
    for key in ("color", "text_color"):
        value = getattr(menu, key)
        if not _is_color(value):
            yield error(bundle.RICHMENU, _menu(c, key), f"{key} {value!r} is not a colour",
                        "write it as # and six hex digits, e.g. \"#1B6B5A\"")
    for i, area in enumerate(menu.areas):
        if area.color and not _is_color(area.color):
            yield error(bundle.RICHMENU, _menu_area(c, i, "color"),
                        f"color {area.color!r} is not a colour", "write it as # and six hex "
                        "digits, e.g. \"#8C2F39\", or remove it to use the menu's color")


def menu_errors(content: Content) -> list[str]:
    """Return the errors the rich-menu rules find in a bundle's menu, one line each."""
    context = Context(content)
    return [p.text() for rule in MENU_CHECKS for p in rule(context) if p.severity == ERROR]
