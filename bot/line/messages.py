"""Build LINE messages as the JSON LINE takes, from small pure functions of the content.

Every message the bot sends is built here and nowhere else: the webhook's replies
(`bot.line.render`), `tsunagu check` (LINE's limits, the scenarios), the preview and `simulate`
call the same functions, so what is checked is what is sent. No SDK model is needed to build
or check a message. Texts are cut as LINE counts them: UTF-16 code units (an emoji may be two);
labels in visible characters (bot.line.limits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from bot import clock
from bot.content.schema import Content, CrisisLine, Event, Office, Programme
from bot.dialogue import account
from bot.dialogue.engine import (
    Ask,
    answer_data,
    command_data,
    feedback_data,
    menu_data,
    region_data,
)
from bot.dialogue.matching import Match
from bot.line import limits
from bot.line.limits import (
    MAX_ALT_TEXT,
    MAX_BUBBLES,
    MAX_LABEL,
    MAX_POSTBACK_DATA,
    MAX_TEXT,
    MAX_URI,
)

Message = dict  # one message object of LINE's Messaging API, ready for json.dumps
GREY, PALE = "#666666", "#999999"
WEEKDAYS = "月火水木金土日"
# Free lines first, charged ones last (None: the source does not say).
CRISIS_ORDER = {True: 0, None: 1, False: 2}


# -- lengths as LINE counts them ----------------------------------------------------------


def units(text: str) -> int:
    """Return a text's length as LINE counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """Return at most `limit` UTF-16 code units of a text, never half of a character."""
    if len(text) * 2 <= limit:  # fast path: even if every character took two units
        return text
    kept, used = [], 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            break
        kept.append(ch)
    return "".join(kept)


# -- the pieces: actions, buttons, texts, boxes --------------------------------------------


def postback(label: str, data: str) -> dict:
    """Return a postback action that shows its label as what the person said."""
    label = label[:MAX_LABEL]
    return {"type": "postback", "label": label, "data": data, "displayText": label}


def uri_action(label: str, uri: str) -> dict:
    return {"type": "uri", "label": label[:MAX_LABEL], "uri": uri}


def quick_reply(buttons: Iterable[tuple[str, str]]) -> dict:
    """Return quick-reply buttons of (label, postback data)."""
    return {"items": [{"type": "action", "action": postback(label, data)}
                      for label, data in buttons]}


def text(body: str, buttons: Iterable[tuple[str, str]] | None = None) -> Message:
    """Return a text message (cut to LINE's limit), with quick-reply buttons if any."""
    message: Message = {"type": "text", "text": cut(body, MAX_TEXT)}
    if buttons is not None:
        message["quickReply"] = quick_reply(buttons)
    return message


def flex(alt: str, contents: dict) -> Message:
    """Return a Flex message; `alt` is what notifications and old clients show."""
    return {"type": "flex", "altText": cut(alt, MAX_ALT_TEXT), "contents": contents}


def carousel(bubbles: Sequence[dict]) -> dict:
    return {"type": "carousel", "contents": list(bubbles[:MAX_BUBBLES])}


def bubble(body: list[dict], footer: dict | None = None, size: str | None = "kilo",
           spacing: str | None = None) -> dict:
    found: dict = {"type": "bubble"}
    if size:
        found["size"] = size
    found["body"] = box(body, spacing=spacing)
    if footer is not None:
        found["footer"] = footer
    return found


def box(contents: list[dict], spacing: str | None = None) -> dict:
    found = {"type": "box", "layout": "vertical", "contents": contents}
    if spacing:
        found["spacing"] = spacing
    return found


def line_of(body: str, size: str, color: str | None = None, bold: bool = False,
            margin: str | None = None) -> dict:
    """Return a Flex text that wraps (a card's line)."""
    found = {"type": "text", "text": body, "size": size, "wrap": True}
    if bold:
        found["weight"] = "bold"
    if color:
        found["color"] = color
    if margin:
        found["margin"] = margin
    return found


def button(action: dict, style: str) -> dict:
    return {"type": "button", "style": style, "action": action, "height": "sm"}


def tel_uri(phone: str) -> str:
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")


# LINE's URL scheme for sending a text to whomever the person picks among their friends and
# groups (https://developers.line.biz/en/docs/line-login/using-line-url-scheme/).
LINE_SHARE = "https://line.me/R/share?text="


def share_uri(text: str) -> str:
    """Return LINE's link that sends this text to whomever the person chooses."""
    return LINE_SHARE + quote(text, safe="")


def footer(content: Content, phone: str, url: str, main: str = "call") -> dict | None:
    """Return a card's call and web buttons, `main` first and standing out (None: neither)."""
    actions = {
        "call": phone and uri_action(content.message("office_call"), tel_uri(phone)),
        "web": url and uri_action(content.message("office_web"), url),
    }
    order = (main, *(kind for kind in actions if kind != main))
    buttons = [button(actions[kind], "primary" if kind == main else "link")
               for kind in order if actions[kind]]
    return box(buttons, spacing="sm") if buttons else None


# -- questions ------------------------------------------------------------------------------


def start_button(content: Content, step_id: str | None = None) -> tuple[str, str]:
    return content.message("start_button"), command_data("restart", step_id)


def controls(content: Content, step_id: str) -> list[tuple[str, str]]:
    """Return 戻る (where there is a question before) and 最初から under a question."""
    # Each carries the question it is under, so that a double tap of it is seen as one.
    found = [start_button(content, step_id)]
    if content.flow.previous(step_id):
        found.insert(0, (content.message("back_button"), command_data("back", step_id)))
    return found


def question_buttons(content: Content, ask: Ask, tag: str) -> list[tuple[str, str]]:
    """Return the answer buttons of a question (a region's municipalities for an area)."""
    step = content.flow.step(ask.step)
    if step.kind != "area":
        return [(o.label, answer_data(step.id, o.value, tag)) for o in step.options]
    if ask.choices:
        return [(m, answer_data(step.id, m, tag)) for m in ask.choices]
    if ask.region is None:
        return [(r.name, region_data(step.id, r.name, tag)) for r in content.regions]
    region = next(r for r in content.regions if r.name == ask.region)
    return [(m, answer_data(step.id, m, tag)) for m in region.municipalities]


def question_text(content: Content, ask: Ask) -> str:
    step = content.flow.step(ask.step)
    if step.kind == "area" and ask.choices:
        return content.message("area_which", place=ask.typed)
    if step.kind == "area" and ask.region is not None:
        return content.message("area_pick", region=ask.region)
    return step.question(ask.wording)


def question(content: Content, ask: Ask, tag: str) -> Message:
    """Return a question with its answer buttons, then 戻る and 最初から."""
    return text(question_text(content, ask),
                question_buttons(content, ask, tag) + controls(content, ask.step))


# -- the crisis reply ---------------------------------------------------------------------


def crisis_lines(content: Content) -> list[CrisisLine]:
    return sorted(content.safety.crisis_lines, key=lambda line: CRISIS_ORDER[line.free])


def crisis_terms(content: Content, line: CrisisLine) -> str:
    """Return what a call costs (where a source says) and when the line answers."""
    cost = {True: "crisis_free", False: "crisis_charged"}.get(line.free)
    return "・".join(p for p in (cost and content.message(cost), line.hours) if p)


def crisis_text(content: Content) -> str:
    """Return the crisis reply's text, whole (before LINE's limit)."""
    listing = []
    for line in crisis_lines(content):
        terms = crisis_terms(content, line)
        entry = f"・{line.name}\n  {line.phone}" + (f"（{terms}）" if terms else "")
        listing.append(f"{entry}\n  {line.note}" if line.note else entry)
    return f"{content.message('crisis')}\n\n" + "\n".join(listing)


def crisis_box(content: Content, line: CrisisLine) -> dict:
    """Return one line in the crisis card: its name, cost and hours, and a call button."""
    body = [line_of(line.name, "sm", bold=True)]
    if terms := crisis_terms(content, line):
        body.append(line_of(terms, "xs", GREY))
    label = content.message("crisis_call", phone=line.phone)
    body.append(button(uri_action(label, tel_uri(line.phone)),
                       "primary" if line.free else "secondary"))
    return box(body, spacing="xs")


def crisis(content: Content) -> list[Message]:
    """Return the crisis reply: the lines as text, then as a card with call buttons."""
    whole = cut(crisis_text(content), MAX_TEXT)
    card = {"type": "bubble", "body": box([crisis_box(content, line)
                                           for line in crisis_lines(content)], spacing="lg")}
    return [text(whole), flex(whole, card)]


# -- offices --------------------------------------------------------------------------------


def offices_text(content: Content, offices: Sequence[Office]) -> str:
    """Return the office cards' text for notifications, with every known contact (whole)."""
    parts = [content.message("result_offices")]
    for office in offices:
        details = [office.address, f"TEL {office.phone}" if office.phone else "",
                   office.hours, office.url]
        parts.append("\n".join(["■" + office.name, *[d for d in details if d]]))
    return "\n\n".join(parts)


def office_card(content: Content, office: Office) -> dict:
    """Return an office's card: what it does, where and when, and its call and web buttons."""
    body = [line_of(office.name, "md", bold=True)]
    if office.does:
        body.append(line_of(office.does, "sm", margin="md"))
    for detail in (office.address, office.hours):
        if detail:
            body.append(line_of(detail, "xs", GREY, margin="sm"))
    buttons = footer(content, office.phone, office.url)
    if buttons is None:
        body.append(line_of(content.message("office_contact_unknown"), "xs", PALE,
                            margin="md"))
    return bubble(body, buttons)


def office_cards(content: Content, offices: Sequence[Office], cards=None) -> Message:
    """Return a carousel of office cards (`cards(office)` may serve them from a cache)."""
    shown = list(offices[:MAX_BUBBLES])
    make = cards or (lambda office: office_card(content, office))
    return flex(offices_text(content, shown), carousel([make(o) for o in shown]))


def known_offices(content: Content, ids: Iterable[str]) -> list[Office]:
    return [content.offices[i] for i in ids if i in content.offices][:MAX_BUBBLES]


# -- a referral -----------------------------------------------------------------------------


def result_text(content: Content, found: Match, wording: str | None) -> str:
    """Return the referral's text: the intro, each 取組 once, the rules' notes (whole)."""
    intro = f"result_intro_{wording}"
    if intro not in content.messages:
        intro = "result_intro"
    # The plan lists some 取組 under two items (再掲): the person reads each once.
    shown: dict[str, Programme] = {}
    for programme in found.programmes:
        shown.setdefault(programme.title, programme)
    listing = "\n\n".join(f"■{p.title}\n{p.one_line or p.summary}" for p in shown.values())
    ages = content.rules.generation_values(clock.japan_date().year)
    notes = "".join(f"\n\n{content.message(key, **ages)}" for key in found.says)
    return f"{content.message(intro)}\n\n{listing}{notes}"


def handoff_button(content: Content, offices: Sequence[Office]) -> tuple[str, str]:
    """Return the button asking for a person; it carries the referral's offices."""
    ids = account.OFFICES_SEP.join(o.id for o in offices[:account.MAX_HANDOFF_OFFICES])
    data = menu_data("handoff", o=ids)
    while len(data) > MAX_POSTBACK_DATA:  # ids are short; never let a long one break it
        ids = ids.rpartition(account.OFFICES_SEP)[0]
        data = menu_data("handoff", o=ids)
    return content.handoff.button, data


def page_actions(content: Content, page: str) -> list[dict]:
    """Return the actions to a referral's own page and to send it on LINE (each if it fits)."""
    # Never a link LINE would refuse: `tsunagu check` says when the longest answers do not fit.
    share = share_uri(content.message("share_text", url=page))
    return [uri_action(content.message(key), uri)
            for key, uri in (("page_button", page), ("share_button", share))
            if len(page) <= MAX_URI and len(uri) <= MAX_URI]


def closing(content: Content, offices: Sequence[Office], page: str | None) -> Message:
    """Return a referral's last words with 相談員 and 最初から, and its page's buttons if any."""
    words = content.message("result_closing")
    buttons = [handoff_button(content, offices), start_button(content)]
    actions = page_actions(content, page) if page else []
    if not actions:
        return text(words, buttons)
    card = bubble([line_of(words, "sm")],
                  box([button(action, "primary" if i == 0 else "secondary")
                       for i, action in enumerate(actions)], spacing="sm"), size=None)
    return {**flex(words, card), "quickReply": quick_reply(buttons)}


def result(content: Content, found: Match, wording: str | None, today: dt.date,
           cards=None, page: str | None = None) -> list[Message]:
    """Return a referral: its text, the offices' cards, events of its 取組, then the buttons.

    With `page` (the address of the referral's own page) its last words carry a button to it
    and one to send it on LINE.
    """
    offices = found.offices[:MAX_BUBBLES]
    messages = [text(result_text(content, found, wording)),
                office_cards(content, offices, cards)]
    events = account.upcoming(content, today, {p.id for p in found.programmes})
    if events:
        messages.append(event_cards(content, events, content.events.with_referral))
    messages.append(closing(content, offices, page))
    return messages


# -- the office finder, events and a person -----------------------------------------------


def finder_ask(content: Content, choices: Sequence[str] = (), typed: str = ""
               ) -> list[Message]:
    """Ask for the municipality: one card per region with its municipalities' buttons."""
    if choices:  # a name typed could mean these: one card of them
        ask = content.message("area_which", place=typed)
        buttons = [button(postback(place, menu_data("finder", p=place)), "secondary")
                   for place in choices]
        return [flex(f"{ask}\n{'、'.join(choices)}", bubble([line_of(ask, "md"), *buttons],
                                                          spacing="sm"))]
    ask = content.finder.ask_region
    bubbles = []
    for region in content.regions[:MAX_BUBBLES]:
        buttons = [button(postback(place, menu_data("finder", p=place)), "secondary")
                   for place in region.municipalities]
        bubbles.append(bubble([{"type": "text", "text": region.name, "size": "md",
                                "weight": "bold"}, *buttons], spacing="sm"))
    places = "、".join(content.municipalities)
    return [text(ask), flex(f"{ask}\n{places}", carousel(bubbles))]


def offices_found(content: Content, place: str, offices: Sequence[str], cards=None
                  ) -> list[Message]:
    said = account.fill(content.finder.found, place=place)
    return [text(said), office_cards(content, known_offices(content, offices), cards)]


def day(moment: dt.date) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日（{WEEKDAYS[moment.weekday()]}）"


def event_when(event: Event) -> str:
    """Return when an event is, in the words of a Japanese leaflet: 2027年2月10日（水） 13:30〜."""
    when = day(event.date)
    if event.end_date and event.end_date != event.date:
        when += f"〜{day(event.end_date)}"
    return f"{when} {event.time}".strip()


def event_card(content: Content, event: Event) -> dict:
    body = [line_of(event.title, "md", bold=True), line_of(event_when(event), "sm", margin="md")]
    programme = content.programmes.get(event.programme)
    office = content.offices.get(event.office)
    for detail in (event.place, event.note, programme and programme.title,
                   office and office.name):
        if detail:
            body.append(line_of(detail, "xs", GREY, margin="sm"))
    return bubble(body, footer(content, office.phone if office else "", event.url, main="web"))


def event_cards(content: Content, events: Sequence[Event], intro: str) -> Message:
    listing = "\n".join(f"■{e.title} {event_when(e)}" for e in events)
    return flex(f"{intro}\n{listing}", carousel([event_card(content, e) for e in events]))


def upcoming(content: Content, today: dt.date) -> list[Message]:
    """Return the events not over yet, soonest first (or say there are none)."""
    events = account.upcoming(content, today)
    texts = content.events
    if not events:
        return [text(texts.none_upcoming)]
    return [text(texts.intro), event_cards(content, events, texts.intro)]


def contact(content: Content) -> Message:
    """Return the platform's consultation channel as a card: what a source gives."""
    found = content.handoff.contact
    body = [line_of(found.name, "md", bold=True)]
    for detail in (found.how, found.hours):
        if detail:
            body.append(line_of(detail, "sm", margin="md"))
    details = [found.name, found.how, found.hours,
               f"TEL {found.phone}" if found.phone else "", found.url]
    return flex("\n".join(d for d in details if d),
                bubble(body, footer(content, found.phone, found.url), size=None))


# -- a referral's feedback ------------------------------------------------------------------


def feedback_buttons(content: Content, tag: str) -> list[tuple[str, str]]:
    """Return the feedback question's answers as buttons; each carries the version asking."""
    return [(a.label, feedback_data(a.value, tag)) for a in content.feedback.answers]


def with_feedback(content: Content, last: Message, tag: str) -> Message:
    """Return a referral's last message asking the feedback question (a copy of `last`).

    The question joins its words (a text's, or a card's body) and its answers come first among
    the quick-reply buttons: the reply keeps its number of messages, which LINE limits.
    """
    question = content.feedback.question
    kept = (last.get("quickReply") or {}).get("items", [])
    items = quick_reply(feedback_buttons(content, tag))["items"] + kept
    asked = {**last, "quickReply": {"items": items[:limits.MAX_QUICK_REPLIES]}}
    if last.get("type") == "text":
        asked["text"] = cut(f"{last['text']}\n\n{question}", MAX_TEXT)
    elif last.get("type") == "flex" and last["contents"].get("type") == "bubble":
        card = last["contents"]
        body = card.get("body") or box([])
        asked["contents"] = {**card, "body": {**body, "contents": [
            *body["contents"], line_of(question, "sm", margin="lg")]}}
        asked["altText"] = cut(f"{last['altText']}\n{question}", MAX_ALT_TEXT)
    return asked
