"""Render what the engine says as LINE messages: text, quick replies and Flex cards."""

from __future__ import annotations

from linebot.v3.messaging import (
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexText,
    Message,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
    URIAction,
)

from bot.content.schema import Content, CrisisLine, Event, Office, Programme
from bot.db.models import japan_date
from bot.dialogue import account
from bot.dialogue.account import (
    Contact,
    FinderAsk,
    HandoffOffices,
    Note,
    OfficesFound,
    Upcoming,
)
from bot.dialogue.engine import (
    Ask,
    Crisis,
    Result,
    Say,
    answer_data,
    command_data,
    menu_data,
    region_data,
    version_tag,
)
from bot.line.limits import (
    MAX_ALT_TEXT,
    MAX_BUBBLES,
    MAX_LABEL,
    MAX_MESSAGES,
    MAX_POSTBACK_DATA,
    MAX_TEXT,
)


def _button(label: str, data: str) -> QuickReplyItem:
    label = label[:MAX_LABEL]
    return QuickReplyItem(action=PostbackAction(label=label, data=data, displayText=label))


def tel_uri(phone: str) -> str:
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")


WEEKDAYS = "月火水木金土日"


def _day(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def event_when(event: Event) -> str:
    """Return when an event is, in the words of a Japanese leaflet: 2027年2月10日（水） 13:30〜."""
    when = _day(event.date)
    if event.end_date and event.end_date != event.date:
        when += f"〜{_day(event.end_date)}"
    return f"{when} {event.time}".strip()


class Renderer:
    """Turn the engine's says into at most five LINE messages, as the JSON LINE takes."""

    def __init__(self, content: Content, values: dict[str, str] | None = None) -> None:
        self.content = content
        # Facts of this deployment that messages may name, e.g. {keep_years} in the privacy note.
        self.values = values or {}
        self.tag = version_tag(content)  # answer buttons say which version made them
        # Questions and fixed texts never change for one content version: build each once.
        # The cached dicts are shared, so nothing may modify a rendered message.
        self._cache: dict[object, list[dict]] = {}
        self._start_reply = QuickReply(items=[self._start_button()]).to_dict()

    def render(self, says: list) -> list[dict]:
        messages: list[dict] = []
        for say in says:
            messages.extend(self._cached(say))
        messages = messages[:MAX_MESSAGES]
        if "quickReply" not in messages[-1]:
            messages[-1] = {**messages[-1], "quickReply": self._start_reply}
        return messages

    def _cached(self, say) -> list[dict]:
        if isinstance(say, Result):  # the only messages made for one person
            return self._result(say)
        if isinstance(say, Upcoming):  # they change with the day
            return self._upcoming()
        if say not in self._cache:
            # Office cards come as LINE's JSON already (each card is built once and shared).
            self._cache[say] = [m if isinstance(m, dict) else m.to_dict()
                                for m in self._one(say)]
        return self._cache[say]

    def _one(self, say) -> list[Message | dict]:
        if isinstance(say, Say):
            return [TextMessage(text=self.content.message(say.key, **self.values))]
        if isinstance(say, Ask):
            return [self._ask(say)]
        if isinstance(say, Crisis):
            return self._crisis()
        if isinstance(say, Note):
            return [TextMessage(text=say.text[:MAX_TEXT])]
        if isinstance(say, FinderAsk):
            return self._finder_ask()
        if isinstance(say, OfficesFound):
            found = account.fill(self.content.finder.found, place=say.place)
            return [TextMessage(text=found), self._office_cards(say.offices)]
        if isinstance(say, HandoffOffices):
            return [self._office_cards(say.offices)]
        if isinstance(say, Contact):
            return [self._contact()]
        raise TypeError(f"cannot render {say!r}")

    def _start_button(self, step_id: str | None = None) -> QuickReplyItem:
        return _button(self.content.message("start_button"), command_data("restart", step_id))

    def _controls(self, step_id: str) -> list[QuickReplyItem]:
        # Each carries the question it is under, so that a double tap of it is seen as one.
        controls = [self._start_button(step_id)]
        if self.content.flow.previous(step_id):
            controls.insert(0, _button(self.content.message("back_button"),
                                       command_data("back", step_id)))
        return controls

    def _ask(self, ask: Ask) -> TextMessage:
        step = self.content.flow.step(ask.step)
        text = step.question(ask.wording)
        if step.kind != "area":
            items = [_button(o.label, answer_data(step.id, o.value, self.tag))
                     for o in step.options]
        elif ask.region is None:
            items = [_button(r.name, region_data(step.id, r.name, self.tag))
                     for r in self.content.regions]
        else:
            region = next(r for r in self.content.regions if r.name == ask.region)
            text = self.content.message("area_pick", region=region.name)
            items = [_button(m, answer_data(step.id, m, self.tag)) for m in region.municipalities]
        return TextMessage(text=text, quickReply=QuickReply(items=items + self._controls(step.id)))

    def _crisis(self) -> list[Message]:
        # Free lines first, charged ones last; each says what the call costs (where a source
        # says) and when the line answers.
        order = {True: 0, None: 1, False: 2}
        lines = sorted(self.content.safety.crisis_lines, key=lambda line: order[line.free])
        listing = "\n".join(self._crisis_line(line) for line in lines)
        text = f"{self.content.message('crisis')}\n\n{listing}"[:MAX_TEXT]
        bubble = FlexBubble(body=FlexBox(layout="vertical", spacing="lg",
                                         contents=[self._crisis_box(line) for line in lines]))
        return [TextMessage(text=text), FlexMessage(altText=text[:MAX_ALT_TEXT], contents=bubble)]

    def _crisis_box(self, line: CrisisLine) -> FlexBox:
        """One line in the bubble: its name, cost and hours, and a button that calls it."""
        label = self.content.message("crisis_call", phone=line.phone)[:MAX_LABEL]
        contents = [FlexText(text=line.name, weight="bold", size="sm", wrap=True)]
        if terms := self._crisis_terms(line):
            contents.append(FlexText(text=terms, size="xs", color="#666666", wrap=True))
        contents.append(FlexButton(style="primary" if line.free else "secondary", height="sm",
                                   action=URIAction(label=label, uri=tel_uri(line.phone))))
        return FlexBox(layout="vertical", spacing="xs", contents=contents)

    def _crisis_terms(self, line: CrisisLine) -> str:
        cost = {True: "crisis_free", False: "crisis_charged"}.get(line.free)
        return "・".join(p for p in (cost and self.content.message(cost), line.hours) if p)

    def _crisis_line(self, line: CrisisLine) -> str:
        terms = self._crisis_terms(line)
        text = f"・{line.name}\n  {line.phone}" + (f"（{terms}）" if terms else "")
        return f"{text}\n  {line.note}" if line.note else text

    def _result(self, result: Result) -> list[dict]:
        intro = f"result_intro_{result.wording}"
        if intro not in self.content.messages:
            intro = "result_intro"
        # The plan lists some 取組 under two items (再掲): the person reads each once.
        shown: dict[str, Programme] = {}
        for programme in result.match.programmes:
            shown.setdefault(programme.title, programme)
        listing = "\n\n".join(f"■{p.title}\n{p.one_line or p.summary}"
                                for p in shown.values())
        notes = "".join(f"\n\n{self.content.message(key)}" for key in result.match.says)
        offices = result.match.offices[:MAX_BUBBLES]
        events = account.upcoming(self.content, japan_date(),
                                  {p.id for p in result.match.programmes})
        cards = [self._office_cards(tuple(o.id for o in offices))]
        if events:
            cards.append(self._event_cards(events, self.content.events.with_referral))
        closing = TextMessage(text=self.content.message("result_closing"), quickReply=QuickReply(
            items=[self._handoff_button(offices), self._start_button()])).to_dict()
        return [
            TextMessage(text=f"{self.content.message(intro)}\n\n{listing}{notes}"[:MAX_TEXT])
            .to_dict(),
            *cards,
            closing,
        ]

    def _handoff_button(self, offices: list[Office]) -> QuickReplyItem:
        """Return the button asking for a person; it carries the referral's offices."""
        ids = account.OFFICES_SEP.join(o.id for o in offices[:account.MAX_HANDOFF_OFFICES])
        data = menu_data("handoff", o=ids)
        while len(data) > MAX_POSTBACK_DATA:  # ids are short; never let a long one break it
            ids = ids.rpartition(account.OFFICES_SEP)[0]
            data = menu_data("handoff", o=ids)
        return _button(self.content.handoff.button, data)

    def _office_cards(self, ids: tuple[str, ...]) -> dict:
        """Return a carousel of office cards (the same for everyone: each built once)."""
        offices = [self.content.offices[i] for i in ids if i in self.content.offices]
        offices = offices[:MAX_BUBBLES]
        cards = FlexMessage(altText=self._offices_text(offices)[:MAX_ALT_TEXT],
                            contents=FlexCarousel(contents=[])).to_dict()
        cards["contents"]["contents"] = [self._card(o) for o in offices]
        return cards

    # -- the finder, events and a person ----------------------------------------------------

    def _finder_ask(self) -> list[Message]:
        """Ask for the municipality: one card per region with its municipalities' buttons."""
        text = self.content.finder.ask_region
        bubbles = []
        for region in self.content.regions[:MAX_BUBBLES]:
            buttons = [FlexButton(style="secondary", height="sm", action=PostbackAction(
                label=place[:MAX_LABEL], data=menu_data("finder", p=place),
                displayText=place)) for place in region.municipalities]
            bubbles.append(FlexBubble(size="kilo", body=FlexBox(
                layout="vertical", spacing="sm",
                contents=[FlexText(text=region.name, weight="bold", size="md"), *buttons])))
        places = "、".join(self.content.municipalities)
        return [TextMessage(text=text), FlexMessage(
            altText=f"{text}\n{places}"[:MAX_ALT_TEXT], contents=FlexCarousel(contents=bubbles))]

    def _upcoming(self) -> list[dict]:
        events = account.upcoming(self.content, japan_date())
        texts = self.content.events
        if not events:
            return [TextMessage(text=texts.none_upcoming).to_dict()]
        return [TextMessage(text=texts.intro).to_dict(), self._event_cards(events, texts.intro)]

    def _event_cards(self, events: list[Event], intro: str) -> dict:
        listing = "\n".join(f"■{e.title} {event_when(e)}" for e in events)
        return FlexMessage(altText=f"{intro}\n{listing}"[:MAX_ALT_TEXT], contents=FlexCarousel(
            contents=[self._event_card(e) for e in events[:MAX_BUBBLES]])).to_dict()

    def _event_card(self, event: Event) -> FlexBubble:
        body = [FlexText(text=event.title, weight="bold", size="md", wrap=True),
                FlexText(text=event_when(event), size="sm", wrap=True, margin="md")]
        programme = self.content.programmes.get(event.programme)
        office = self.content.offices.get(event.office)
        for detail in (event.place, event.note, programme and programme.title,
                       office and office.name):
            if detail:
                body.append(FlexText(text=detail, size="xs", color="#666666", wrap=True,
                                     margin="sm"))
        footer = self._footer(office.phone if office else "", event.url, main="web")
        return FlexBubble(size="kilo", body=FlexBox(layout="vertical", contents=body),
                          footer=footer)

    def _contact(self) -> FlexMessage:
        """Return the platform's consultation channel as a card: what a source gives."""
        contact = self.content.handoff.contact
        body = [FlexText(text=contact.name, weight="bold", size="md", wrap=True)]
        for detail in (contact.how, contact.hours):
            if detail:
                body.append(FlexText(text=detail, size="sm", wrap=True, margin="md"))
        footer = self._footer(contact.phone, contact.url)
        details = [contact.name, contact.how, contact.hours,
                   f"TEL {contact.phone}" if contact.phone else "", contact.url]
        return FlexMessage(altText="\n".join(d for d in details if d)[:MAX_ALT_TEXT],
                           contents=FlexBubble(body=FlexBox(layout="vertical", contents=body),
                                               footer=footer))

    def _card(self, office: Office) -> dict:
        key = ("card", office.id)
        if key not in self._cache:
            self._cache[key] = self._office_card(office).to_dict()
        return self._cache[key]

    def _offices_text(self, offices: list[Office]) -> str:
        """Return the text fallback of the office cards, with every known contact."""
        parts = [self.content.message("result_offices")]
        for office in offices:
            details = [office.address, f"TEL {office.phone}" if office.phone else "",
                       office.hours, office.url]
            parts.append("\n".join(["■" + office.name, *[d for d in details if d]]))
        return "\n\n".join(parts)

    def _office_card(self, office: Office) -> FlexBubble:
        body = [FlexText(text=office.name, weight="bold", size="md", wrap=True)]
        if office.does:
            body.append(FlexText(text=office.does, size="sm", wrap=True, margin="md"))
        for detail in (office.address, office.hours):
            if detail:
                body.append(FlexText(text=detail, size="xs", color="#666666", wrap=True,
                                     margin="sm"))
        footer = self._footer(office.phone, office.url)
        if footer is None:
            body.append(FlexText(text=self.content.message("office_contact_unknown"), size="xs",
                                 color="#999999", wrap=True, margin="md"))
        return FlexBubble(size="kilo", body=FlexBox(layout="vertical", contents=body),
                          footer=footer)

    def _footer(self, phone: str, url: str, main: str = "call") -> FlexBox | None:
        """Return a card's call and web buttons, `main` first and standing out (None: neither)."""
        actions = {
            "call": phone and URIAction(label=self.content.message("office_call"),
                                        uri=tel_uri(phone)),
            "web": url and URIAction(label=self.content.message("office_web"), uri=url),
        }
        order = (main, *(kind for kind in actions if kind != main))
        buttons = [FlexButton(style="primary" if kind == main else "link", height="sm",
                              action=actions[kind]) for kind in order if actions[kind]]
        return FlexBox(layout="vertical", spacing="sm", contents=buttons) if buttons else None
