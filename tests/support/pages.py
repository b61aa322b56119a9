"""A referral's own page: the app with a public address, and the links a person is given."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bot.line.messages import LINE_SHARE
from bot.referrals.links import PAGE_PATH
from tests.support.conversations import answer_up_to_area

# The test client's own host (trusted by every test app), so the page opens from its link.
PUBLIC_URL = "http://localhost"
PAGE_LABEL, SHARE_LABEL = "このご案内をページで見る", "LINEで家族などに送る"


def page_links(line_user) -> tuple[str, str]:
    """Return the addresses of the page and share buttons under the newest referral."""
    uris = {a["label"]: a["uri"] for a in line_user.card_actions if a.get("type") == "uri"}
    return uris[PAGE_LABEL], uris[SHARE_LABEL]


def shared_text(share: str) -> str:
    """Return the text a LINE share link sends (its `text`, decoded)."""
    assert share.startswith(LINE_SHARE), share
    return parse_qs(urlsplit(share).query, strict_parsing=True)["text"][0]


def path_of(page: str) -> str:
    """Return a page link's path (what the test client opens)."""
    assert page.startswith(PUBLIC_URL + PAGE_PATH), page
    return page.removeprefix(PUBLIC_URL)


def referral_in(line_user, area: str = "大仙市") -> tuple[str, str]:
    """Answer the questionnaire in that municipality; return the page and share links."""
    answer_up_to_area(line_user)
    line_user.say(area)
    return page_links(line_user)


def office_cards(line_user) -> list[tuple[str, list[str]]]:
    """Return the office cards of the newest referral: each name and its tel: links."""
    carousel = next(m for m in line_user.messages if m.get("type") == "flex"
                    and m["altText"].startswith("相談先はこちらです"))
    found = []
    for card in carousel["contents"]["contents"]:
        name = card["body"]["contents"][0]["text"]
        buttons = (card.get("footer") or {}).get("contents", [])
        found.append((name, [b["action"]["uri"] for b in buttons
                             if b["action"]["uri"].startswith("tel:")]))
    return found


def programme_titles(line_user) -> list[str]:
    """Return the 取組 the newest referral's text names (its ■ lines)."""
    return [line.removeprefix("■") for line in line_user.messages[0]["text"].splitlines()
            if line.startswith("■")]


def japanese_fonts(folder) -> dict[str, str]:
    """Return an environment in which Chromium has the Noto Sans CJK JP tsunagu installs.

    The test machines have no Japanese font of their own: without one, every character is a
    box and the page's length on paper says nothing.
    """
    import os
    from pathlib import Path

    import noto_cjk_sans_jp_regular

    config = Path(folder) / "fonts.conf"
    config.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>{Path(noto_cjk_sans_jp_regular.__file__).parent}</dir>
  <cachedir>{Path(folder) / "cache"}</cachedir>
</fontconfig>
""", encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(config)}
