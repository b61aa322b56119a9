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

from bot.content.schema import Content, CrisisLine, Office, Programme
from bot.dialogue.engine import (
    Ask,
    Crisis,
    Result,
    Say,
    answer_data,
    command_data,
    region_data,
    version_tag,
)
from bot.line.limits import MAX_ALT_TEXT, MAX_BUBBLES, MAX_LABEL, MAX_MESSAGES, MAX_TEXT


def _button(label: str, data: str) -> QuickReplyItem:
    label = label[:MAX_LABEL]
    return QuickReplyItem(action=PostbackAction(label=label, data=data, displayText=label))


def tel_uri(phone: str) -> str:
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")


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
        if say not in self._cache:
            self._cache[say] = [m.to_dict() for m in self._one(say)]
        return self._cache[say]

    def _one(self, say) -> list[Message]:
        if isinstance(say, Say):
            return [TextMessage(text=self.content.message(say.key, **self.values))]
        if isinstance(say, Ask):
            return [self._ask(say)]
        if isinstance(say, Crisis):
            return self._crisis()
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
        cards = FlexMessage(altText=self._offices_text(offices)[:MAX_ALT_TEXT],
                            contents=FlexCarousel(contents=[])).to_dict()
        # Each office's card is the same for everyone: build it once and reuse it.
        cards["contents"]["contents"] = [self._card(o) for o in offices]
        return [
            TextMessage(text=f"{self.content.message(intro)}\n\n{listing}{notes}"[:MAX_TEXT])
            .to_dict(),
            cards,
            *self._cached(Say("result_closing")),
        ]

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
        buttons = []
        if office.phone:
            buttons.append(FlexButton(style="primary", height="sm", action=URIAction(
                label=self.content.message("office_call"), uri=tel_uri(office.phone))))
        if office.url:
            buttons.append(FlexButton(style="link", height="sm", action=URIAction(
                label=self.content.message("office_web"), uri=office.url)))
        if not buttons:
            body.append(FlexText(text=self.content.message("office_contact_unknown"), size="xs",
                                 color="#999999", wrap=True, margin="md"))
        footer = FlexBox(layout="vertical", spacing="sm", contents=buttons) if buttons else None
        return FlexBubble(size="kilo", body=FlexBox(layout="vertical", contents=body),
                          footer=footer)
