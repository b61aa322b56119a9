"""What a referral's own page shows: the referral made again from the link's answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.clock import JST, japan_date
from bot.content.schema import Content, Office, Programme
from bot.content.source import ContentSource
from bot.dialogue.matching import match
from bot.line.limits import MAX_BUBBLES, MAX_URI
from bot.line.messages import share_uri, tel_uri
from bot.referrals.links import Signed


@dataclass(frozen=True)
class Contact:
    """An office as the page lists it, with its tap-to-call link ("" without a phone)."""

    office: Office
    tel: str


@dataclass(frozen=True)
class Sheet:
    """Everything the page shows, made from the link alone."""

    intro: str
    summary: list[tuple[str, str]]  # (what was asked, as the note names it; the answer)
    programmes: list[Programme]
    notes: list[str]
    offices: list[Contact]
    no_contact: str  # said of an office with no phone and no web address
    made: str  # when the link was made and until when it opens, as a Japanese date
    expires: str
    live_instead: bool  # the link's version is no longer here: the live one answered
    share: str  # LINE's link sending this page's address ("" if it would not fit)


def sheet(source: ContentSource, signed: Signed, url: str) -> Sheet:
    """Return the page of the referral a link carries, made again as the bot makes it."""
    content = source.get(signed.bundle_id)
    live_instead = content is None
    if content is None:
        content = source.current()
    answers = signed.answers
    found = match(content, answers)
    share = share_uri(content.message("share_text", url=url))
    # As the LINE message shows them: each 取組 once (the plan lists some twice), and the
    # offices LINE has cards for.
    programmes: dict[str, Programme] = {}
    for programme in found.programmes:
        programmes.setdefault(programme.title, programme)
    return Sheet(
        intro=content.message(_intro(content, content.flow.wording(answers))),
        summary=summary(content, answers),
        programmes=list(programmes.values()),
        notes=[content.message(key, **content.rules.generation_values(japan_date().year))
               for key in found.says],
        offices=[Contact(o, tel_uri(o.phone) if o.phone else "")
                 for o in found.offices[:MAX_BUBBLES]],
        no_contact=content.message("office_contact_unknown"),
        made=_day(signed.made), expires=_day(signed.expires),
        live_instead=live_instead,
        share=share if len(share) <= MAX_URI else "")


def summary(content: Content, answers: dict[str, str]) -> list[tuple[str, str]]:
    """Return each answer of the path taken, named as the privacy note names it."""
    found = []
    for step in content.flow.path(answers):
        value = answers[step.id]
        option = step.option(value)
        if step.kind == "area":
            found.append((step.counted_as or step.question(None), value))
        elif option is not None:  # an option a newer version removed is left out
            found.append((step.counted_as or step.question(None), option.label))
    return found


def _intro(content: Content, wording: str | None) -> str:
    # As bot.line.messages.result_text picks it: a wording of its own, else the default.
    key = f"result_intro_{wording}"
    return key if key in content.messages else "result_intro"


def _day(moment: dt.datetime) -> str:
    day = moment.astimezone(JST).date()
    return f"{day.year}年{day.month}月{day.day}日"
