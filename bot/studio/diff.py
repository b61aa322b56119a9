"""What changes between two bundles, as editors think of it: questions, options, rules, ..."""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.schema import Content

# The kinds of item, in the order a diff lists them, with their Japanese names.
KINDS = {
    "question": "質問", "option": "選択肢", "rule": "ルール", "programme": "取組",
    "office": "相談先", "message": "メッセージ", "region": "地域", "crisis_line": "緊急の相談先",
    "setting": "設定", "event": "イベント", "menu_area": "メニューの区画",
}
SHOWN = 60  # characters of an old or new value shown in a change


@dataclass(frozen=True)
class Change:
    """One item added, removed or changed."""

    kind: str  # a key of KINDS
    item: str  # its id (an option: "step/value")
    how: str  # "added" | "removed" | "changed"
    fields: tuple[tuple[str, object, object], ...] = ()  # changed: (field, old, new)

    def text(self) -> str:
        mark = {"added": "+", "removed": "-", "changed": "~"}[self.how]
        line = f"{mark} {KINDS[self.kind]} {self.item}"
        if self.how == "changed":
            line += "".join(f"\n    {name}: {_short(old)} → {_short(new)}"
                            for name, old, new in self.fields)
        return line


def _short(value: object) -> str:
    text = "（なし）" if value in (None, "", [], {}) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"


def _flat(fields: dict) -> dict:
    """Return an item's fields with nested ones named by path (ask.family), as editors see."""
    flat = {}
    for name, value in fields.items():
        if isinstance(value, dict) and value:
            flat.update({f"{name}.{key}": inner for key, inner in _flat(value).items()})
        else:
            flat[name] = value
    return flat


def _items(content: Content) -> dict[str, dict[str, dict]]:
    """Return every item of a bundle by kind and id, as plain data."""
    flow = content.flow
    questions = {s.id: s.model_dump(exclude={"options"}) for s in flow.steps}
    options = {f"{s.id}/{o.value}": o.model_dump() for s in flow.steps for o in s.options}
    rules = [*content.rules.rules, content.rules.fallback]
    return {
        "setting": {"flow": {"flow": flow.flow, "start": flow.start,
                             "wording_from": flow.wording_from,
                             "order": [s.id for s in flow.steps],
                             "crisis_words": content.safety.crisis_words},
                    # The account's files: each one setting, its fields by name.
                    "richmenu": content.richmenu.model_dump(exclude={"areas"}),
                    "finder": content.finder.model_dump(),
                    "events": content.events.model_dump(exclude={"events"}),
                    "handoff": content.handoff.model_dump(),
                    "feedback": content.feedback.model_dump()},
        "question": questions,
        "option": options,
        "rule": {r.id: r.model_dump() for r in rules},
        "programme": {p.id: p.model_dump() for p in content.programmes.values()},
        "office": {o.id: o.model_dump() for o in content.offices.values()},
        "message": {k: {"text": v} for k, v in content.messages.items()},
        "region": {r.name: r.model_dump() for r in content.regions},
        "crisis_line": {c.name: c.model_dump() for c in content.safety.crisis_lines},
        "event": {e.id: e.model_dump() for e in content.events.events},
        "menu_area": {str(i + 1): a.model_dump() for i, a in enumerate(content.richmenu.areas)},
    }


def diff(old: Content, new: Content) -> list[Change]:
    """Return what changes from `old` to `new`, item by item."""
    before, after = _items(old), _items(new)
    changes: list[Change] = []
    for kind in KINDS:
        was, now = before[kind], after[kind]
        for item in now.keys() - was.keys():
            changes.append(Change(kind, item, "added"))
        for item in was.keys() - now.keys():
            changes.append(Change(kind, item, "removed"))
        for item in was.keys() & now.keys():
            old, new = _flat(was[item]), _flat(now[item])
            fields = tuple((name, old.get(name), new.get(name))
                           for name in sorted(old.keys() | new.keys())
                           if old.get(name) != new.get(name))
            if fields:
                changes.append(Change(kind, item, "changed", fields))
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(changes, key=lambda c: (order[c.kind], c.how != "added", c.item))


def summary(changes: list[Change]) -> str:
    """Return the changes as text an editor reads, or a line saying there are none."""
    if not changes:
        return "違いはありません。"
    return "\n".join(change.text() for change in changes)
