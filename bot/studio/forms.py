"""The editors' forms: each kind of item of the draft, its fields, and reading what was typed.

A kind (`KINDS`) names the file an item lives in, where in it (an entry of a list, or the
file's own keys), and its fields in Japanese. A field's name is its path in the item, dotted
(`ask.family`, `contact.phone`, `options.2.words`), so one reader, one writer and one mapping
of the check's problems serve every form. Facts (phone, web address, address, hours, dates of
events) are only taken with a source and the date it was checked, as the files keep them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot import clock
from bot.content.bundle import (
    EVENTS,
    FEEDBACK,
    FINDER,
    FLOW_FILE,
    HANDOFF,
    MESSAGES,
    OFFICES,
    PROGRAMMES,
    RICHMENU,
    RULES,
    SAFETY,
)
from bot.content.flow import DONE
from bot.content.schema import Content

PHONE = re.compile(r"\+?[0-9][0-9-]{7,14}[0-9]")  # 018-896-1531, 0120-061-338
URL = re.compile(r"https://[^\s\"'<>]+")
COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
MAX_TEXT = 300  # a line of a form
MAX_LONG = 2000  # a message (LINE's own limit is 5,000; check says what reads well)
BUTTON = 20  # LINE's limit for a button's or a quick reply's label

Choices = Callable[[Content], list[tuple[str, str]]]
NEW = "+"  # in a field's name: the entry a form adds to a list (options.+.label)
REMOVE = "_remove"  # a field that takes an entry out of its list (options.2._remove)
CONFIRM = "_confirm"  # a box saying the facts were checked again and are unchanged


@dataclass(frozen=True)
class Field:
    """One field of a form: where it is in the item, how it is typed, what it must be."""

    name: str  # its path in the item, dotted
    label: str
    kind: str = "text"  # text, long, words, pick, choice, flag, maybe, number, date, range
    required: bool = False
    limit: int | None = None
    check: str = ""  # phone, url, color: the shape a text must have
    fact: bool = False  # saved only with a source and the date it was checked
    choices: Choices | None = None
    low: int | None = None  # a number's bounds
    high: int | None = None
    drop_empty: bool = False  # an empty value removes the key (an optional part of the item)
    fixed: bool = False  # shown, not edited (the plan's own words, an id others refer to)
    hint: str = ""

    @property
    def html_id(self) -> str:
        return self.name.replace(".", "_").replace(NEW, "new")


@dataclass(frozen=True)
class Kind:
    """One kind of item editors change: where it is, how it is named, its fields."""

    name: str  # in the address: /admin/draft/<name>/<key>
    title: str  # 相談先, 取組 …
    file: str
    fields: Callable[[Mapping, Content], list[Field]]
    items: str = ""  # the list of entries it is one of ("" for the file's own keys)
    key: str = ""  # the entry's field naming it ("" for its position, from 1)
    sources: str = "sources"  # where the sources of its facts are listed
    checked: str = ""  # where the date its facts were checked is kept, if anywhere
    can_add: bool = False
    problem_item: str = ""  # how the check names it: "office 'x'" is "office"
    shown: tuple[str, ...] = ()  # fields shown above the form, not edited

    def item_of(self, key: str) -> str:
        """Return how the draft's history names one item of this kind."""
        return f"{self.name}:{key}" if self.items else self.name

    def problem_name(self, key: str) -> str:
        return f"{self.problem_item} {key!r}" if self.problem_item else ""


@dataclass
class Form:
    """What an editor typed into a form, read and checked field by field."""

    typed: dict[str, str]  # as typed, to show again when refused
    values: dict[str, object] = field(default_factory=dict)  # field -> what it means
    errors: dict[str, str] = field(default_factory=dict)  # field -> a Japanese message

    @property
    def fine(self) -> bool:
        return not self.errors


# -- reading values out of an item and a form ------------------------------------------------

MISSING = object()


def get(item: Mapping, name: str, default=None):
    """Return the value at a dotted path of an item (default where it is not given)."""
    node: object = item
    for part in name.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return default
    return node


def put(item: dict, name: str, value, drop: bool = False) -> None:
    """Set (or, with drop, remove) the value at a dotted path of an item, in place."""
    parts = name.split(".")
    node: object = item
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})  # type: ignore[union-attr]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif drop:
        node.pop(last, None)  # type: ignore[union-attr]
    else:
        node[last] = value  # type: ignore[index]


def empty(field_: Field):
    return {"words": [], "pick": [], "flag": False, "maybe": None, "number": None,
            "date": None, "range": None}.get(field_.kind, "")


def current(item: Mapping, field_: Field):
    """Return a field's value in the item, as the form reads it."""
    value = get(item, field_.name, MISSING)
    if value is MISSING:
        return empty(field_)
    if field_.kind == "date" and isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def shown(item: Mapping, field_: Field) -> str:
    """Return a field's value as its form shows it."""
    value = current(item, field_)
    if field_.kind in ("words", "pick"):
        return "\n".join(str(v) for v in value or [])
    if field_.kind == "flag":
        return "1" if value else ""
    if field_.kind == "maybe":
        return {True: "yes", False: "no"}.get(value, "")
    if field_.kind == "range":
        return ""  # its two halves are shown from the item
    if value is None:
        return ""
    return str(value)


def typed_values(item: Mapping, fields: list[Field]) -> dict[str, str]:
    """Return what a form shows for an item before anything is typed."""
    values = {f.name: shown(item, f) for f in fields}
    for f in fields:
        if f.kind == "range":
            band = current(item, f) or {}
            for end in ("min", "max", "generation"):
                value = band.get(end) if isinstance(band, Mapping) else None
                values[f"{f.name}.{end}"] = "" if value is None else str(value)
    return values


def read(kind: Kind, fields: list[Field], item: Mapping, form: Mapping,
         content: Content, getlist: Callable[[str], list[str]] | None = None,
         today: dt.date | None = None) -> Form:
    """Read a form; say beside each field what cannot be taken, keeping what was typed."""
    today = today or clock.japan_date()
    getlist = getlist or (lambda name: [form[name]] if form.get(name) else [])
    result = Form(typed={})
    for f in fields:
        if f.fixed:
            continue
        raw = "\n".join(getlist(f.name)) if f.kind == "pick" else (form.get(f.name) or "")
        result.typed[f.name] = raw
        if f.kind == "range":
            for end in ("min", "max", "generation"):
                result.typed[f"{f.name}.{end}"] = (form.get(f"{f.name}.{end}") or "").strip()
        if raw and f.kind not in ("range", "pick", "flag") and raw == shown(item, f):
            value, error = current(item, f), None  # as the file has it: the check's concern
        else:
            value, error = _value(f, raw, result.typed, content)
        if f.kind == "pick" and value:
            value = _in_order(value, current(item, f))
        if error:
            result.errors[f.name] = error
        else:
            result.values[f.name] = value
    for name in ("source", "checked"):
        result.typed[name] = (form.get(name) or "").strip()
    if kind.name == "questions":
        _new_option(item, result)
    facts = [name for name in changed(fields, item, result.values)
             if next(f for f in fields if f.name == name).fact]
    if facts:
        _read_source(result, today)
    return result


def _in_order(picked: list[str], was: list[str]) -> list[str]:
    """Keep the order an item gave (it matters: offices are shown in it); new ones last."""
    return [*(v for v in was if v in picked), *(v for v in picked if v not in was)]


def changed(fields: list[Field], item: Mapping, values: Mapping[str, object]) -> list[str]:
    """Return the fields whose value differs from the item's."""
    by_name = {f.name: f for f in fields}
    return [name for name, value in values.items()
            if name in by_name and value != current(item, by_name[name])]


def _read_source(result: Form, today: dt.date) -> None:
    if not result.typed["source"]:
        result.errors["source"] = ("出典（ページのアドレスか、資料の名前）を入れてください。"
                                   "出典のない情報は保存できません。")
    elif len(result.typed["source"]) > MAX_TEXT:
        result.errors["source"] = f"{MAX_TEXT} 文字までにしてください。"
    try:
        checked = dt.date.fromisoformat(result.typed["checked"])
    except ValueError:
        result.errors["checked"] = "確かめた日を 2026-12-07 のように入れてください。"
    else:
        if checked > today:
            result.errors["checked"] = "確かめた日に、先の日付は入れられません。"


def _value(f: Field, raw: str, typed: Mapping[str, str], content: Content):
    """Return (value, None) or (None, a Japanese message) for one field."""
    reader = _READERS[f.kind]
    value, error = reader(f, raw, typed, content)
    if error:
        return None, error
    if f.required and value in ("", [], None):
        return None, "入れてください（空にはできません）。"
    return value, None


def _text(f: Field, raw: str, _typed, _content):
    text = raw.replace("\r\n", "\n").strip()
    if f.kind == "text":
        text = " ".join(text.split())
    if f.check == "phone":
        text = text.replace(" ", "")
        if text and not PHONE.fullmatch(text):
            return None, "電話番号は 018-896-1531 のように、数字とハイフンで入れてください。"
    if f.check == "url" and text and not URL.fullmatch(text):
        return None, "ウェブのアドレスは https:// で始まるものだけ入れられます。"
    if f.check == "color" and text and not COLOR.fullmatch(text):
        return None, "色は #1B6B5A のように、# と 6 けたの英数字で入れてください。"
    limit = f.limit or (MAX_LONG if f.kind == "long" else MAX_TEXT)
    if len(text) > limit:
        return None, f"{limit} 文字までにしてください（いま {len(text)} 文字）。"
    return text, None


def _words(f: Field, raw: str, _typed, _content):
    words = [w.strip() for w in re.split(r"[\n、,，]", raw) if w.strip()]
    too_long = [w for w in words if len(w) > (f.limit or MAX_TEXT)]
    if too_long:
        return None, f"「{too_long[0]}」が長すぎます（{f.limit or MAX_TEXT} 文字まで）。"
    return list(dict.fromkeys(words)), None


def _pick(f: Field, raw: str, _typed, content: Content):
    allowed = {value for value, _ in f.choices(content)} if f.choices else set()
    picked = [w for w in raw.split("\n") if w]
    unknown = [w for w in picked if w not in allowed]
    if unknown:
        return None, f"「{unknown[0]}」は選べません。一覧から選んでください。"
    return picked, None


def _choice(f: Field, raw: str, _typed, content: Content):
    allowed = {value for value, _ in f.choices(content)} if f.choices else set()
    if raw not in allowed:
        return None, "一覧から選んでください。"
    return raw, None


def _flag(_f: Field, raw: str, _typed, _content):
    return bool(raw), None


def _maybe(_f: Field, raw: str, _typed, _content):
    if raw not in ("", "yes", "no"):
        return None, "一覧から選んでください。"
    return {"yes": True, "no": False}.get(raw), None


def _number(f: Field, raw: str, _typed, _content):
    raw = raw.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not raw:
        return None, None
    if not raw.isdigit():
        return None, "数字で入れてください。"
    number = int(raw)
    if (f.low is not None and number < f.low) or (f.high is not None and number > f.high):
        return None, f"{f.low} から {f.high} までの数で入れてください。"
    return number, None


def _date(_f: Field, raw: str, _typed, _content):
    raw = raw.strip()
    if not raw:
        return None, None
    try:
        return dt.date.fromisoformat(raw), None
    except ValueError:
        return None, "日付を 2027-02-10 のように入れてください。"


def _range(f: Field, _raw: str, typed: Mapping[str, str], content: Content):
    generation = typed.get(f"{f.name}.generation", "")
    if generation:
        if generation not in ("younger", "older"):
            return None, "一覧から選んでください。"
        if typed[f"{f.name}.min"] or typed[f"{f.name}.max"]:
            return None, "世代との関係を選ぶときは、年齢を空にしてください。"
        return {"generation": generation}, None
    band = {}
    for end in ("min", "max"):
        value, error = _number(f, typed[f"{f.name}.{end}"], typed, content)
        if error:
            return None, error
        if value is not None:
            band[end] = value
    if "min" in band and "max" in band and band["min"] > band["max"]:
        return None, "「から」の年齢は「まで」の年齢より小さくしてください。"
    return band or None, None


_READERS = {"text": _text, "long": _text, "words": _words, "pick": _pick, "choice": _choice,
            "flag": _flag, "maybe": _maybe, "number": _number, "date": _date, "range": _range}


def problems_by_field(problems, kind: Kind, doc, index: int, key: str,
                      fields: list[Field]) -> dict[str, list]:
    """Return the check's problems of one item by the field they concern ("": the item)."""
    prefix = (kind.items, index) if kind.items else ()
    lines = {}
    for f in fields:
        line = doc.line(*prefix, *(int(p) if p.isdigit() else p for p in f.name.split(".")))
        if line is not None and f.kind != "range":
            lines.setdefault(line, f.name)
    start = doc.line(*prefix) if prefix else None
    end = doc.line(kind.items, index + 1) if prefix else None
    named = kind.problem_name(key) if kind.items else ""
    owned = set() if kind.items else _owned_lines(doc, fields)
    found: dict[str, list] = {}
    for problem in problems:
        said = problem
        if problem.file == kind.file and problem.line in lines:
            found.setdefault(lines[problem.line], []).append(said)
        elif named and (problem.item == named or problem.item.startswith(named + ",")):
            found.setdefault("", []).append(said)
        elif (problem.file == kind.file and start and problem.line
              and start <= problem.line < (end or 10**9)):
            found.setdefault("", []).append(said)
        elif not kind.items and problem.file == kind.file and problem.line in owned:
            found.setdefault("", []).append(said)
    return found


ITEM = re.compile(r"(?P<what>[a-z ]+?) '(?P<key>[^']*)'")


def form_of(problem, content: Content | None) -> tuple[str, str] | None:
    """Return the form (kind, key) where a problem of the check is mended, if there is one."""
    if problem.item.startswith("fallback rule"):
        return "fallback", ""
    found = ITEM.match(problem.item)
    if found:
        what, key = found["what"], found["key"]
        for kind in KINDS.values():
            if kind.problem_item != what:
                continue
            if not kind.items:
                return kind.name, ""
            if kind.key:
                return kind.name, key
            return _by_position(kind, key, content)
    for kind in KINDS.values():  # a problem of a file of the kinds of keys: its own form
        if kind.file == problem.file and not kind.items and kind.name != "fallback":
            return kind.name, ""
    return None


def _by_position(kind: Kind, name: str, content: Content | None):
    """Return the address of a crisis line or a menu area named in a problem."""
    if content is None:
        return None
    entries = {"crisis-lines": [line.name for line in content.safety.crisis_lines],
               "menu-areas": [area.label for area in content.richmenu.areas]}.get(kind.name, [])
    return (kind.name, str(entries.index(name) + 1)) if name in entries else None


def _owned_lines(doc, fields: list[Field]) -> set[int]:
    """Return the lines of the top-level keys a form of the file's own keys edits."""
    starts = sorted(n for n in (doc.line(k) for k in (doc.data or {})) if n)
    owned = set()
    for top in {f.name.split(".")[0] for f in fields}:
        start = doc.line(top)
        if start:
            end = next((n for n in starts if n > start), start + 10_000)
            owned.update(range(start, end))
    return owned


# -- the choices a form offers ---------------------------------------------------------------

def _programme_ids(content: Content) -> list[tuple[str, str]]:
    return [(p.id, f"{p.title}（{p.item}）") for p in content.programmes.values()]


def _office_ids(content: Content) -> list[tuple[str, str]]:
    return [(o.id, o.name) for o in content.offices.values()]


def _rule_offices(content: Content) -> list[tuple[str, str]]:
    kinds = dict.fromkeys(o.kind for o in content.offices.values())
    return [*((f"nearest:{k}", f"お住まいの市町村の「{k}」の窓口") for k in kinds),
            *_office_ids(content)]


def _optional(choices: Choices) -> Choices:
    return lambda content: [("", "（なし）"), *choices(content)]


def _steps(content: Content) -> list[tuple[str, str]]:
    return [*((s.id, f"質問「{s.id}」") for s in content.flow.steps),
            (DONE, "質問を終えて、ご案内を出す")]


def _message_keys(content: Content) -> list[tuple[str, str]]:
    return [("", "（なし）"), *((k, k) for k in content.messages)]


AUDIENCES = [("citizens", "ご本人・ご家族が相談できる"), ("employers", "事業主の方向け"),
             ("awareness", "周知・啓発（紹介はしない）")]
MENU_ACTIONS = [("questionnaire", "質問をはじめから"), ("finder", "相談窓口をさがす"),
                ("events", "イベント・セミナー"), ("crisis", "緊急の相談先"),
                ("about", "このサービスについて"), ("handoff", "相談員と話したい"),
                ("uri", "ウェブのページを開く")]
MAYBE = [("", "出典に書かれていない（案内で触れない）"), ("yes", "無料（出典にそう書かれている）"),
         ("no", "通話料がかかる（出典にそう書かれている）")]


# -- the kinds ----------------------------------------------------------------------------

def _office(_item, _content) -> list[Field]:
    return [Field("phone", "電話番号", check="phone", fact=True, hint="例: 018-896-1531"),
            Field("url", "ウェブのアドレス（https:// で始まるもの）", check="url", fact=True),
            Field("address", "住所", fact=True), Field("hours", "受付時間", fact=True),
            Field("does", "何をしているところか（やさしい言葉で）", kind="long", limit=400),
            Field("verify", "二次的な出典（ニュース、ブログなど）の情報です。公式の出典での"
                  "確認が必要です", kind="flag"),
            Field(CONFIRM, "出典で確かめ直しました。内容は変わりません（確かめた日を新しく"
                  "します）", kind="flag", fact=True)]


def _programme(_item, _content) -> list[Field]:
    return [Field("plain_name", "やさしい名前（LINE で見せる名前）", limit=40),
            Field("one_line", "ひとことの説明（です・ます）", kind="long", limit=200),
            Field("audience", "だれのための取組か", kind="choice", choices=lambda c: AUDIENCES)]


def _question(item, content) -> list[Field]:
    fields = [
        Field("ask.default", "質問の文（ご本人に）", kind="long", required=True, limit=400),
        Field("ask.family", "質問の文（ご家族の方に。空なら上の文）", kind="long", limit=400,
              drop_empty=True),
        Field("ask.employer", "質問の文（事業主の方に。空なら上の文）", kind="long", limit=400,
              drop_empty=True),
        Field("counted_as", "個人情報のお知らせでの呼び方", limit=60),
        Field("next", "次の質問", kind="choice", choices=_steps)]
    for index, option in enumerate(item.get("options") or []):
        at = f"options.{index}"
        name = option.get("label", option.get("value", ""))
        fields.append(Field(f"{at}.label", f"答え「{name}」のボタンの文字", required=True,
                            limit=BUTTON))
        if item.get("kind") == "age":
            fields.append(Field(f"{at}.min", f"答え「{name}」: 何歳から", kind="number",
                                low=0, high=130, drop_empty=True))
            fields.append(Field(f"{at}.max", f"答え「{name}」: 何歳まで", kind="number",
                                low=0, high=130, drop_empty=True))
        else:
            fields.append(Field(f"{at}.words", f"答え「{name}」と読む、入力されたことば"
                                "（1 行に 1 つ）", kind="words", limit=40, drop_empty=True))
        fields.append(Field(f"{at}.next", f"答え「{name}」のあとの質問（空なら上の「次の質問」）",
                            kind="choice", choices=_optional(_steps), drop_empty=True))
        if item.get("kind", "choice") == "choice":
            fields.append(Field(f"{at}.{REMOVE}", f"答え「{name}」をなくす（ルールや集計で使われて"
                                "いれば、確認で誤りになります）", kind="flag", drop_empty=True))
    if item.get("kind", "choice") == "choice":
        fields += [
            Field(f"options.{NEW}.value", "新しい答えを加える: 集計での名前（半角の小文字・数字・"
                  "_。例: part_time）", drop_empty=True, limit=40),
            Field(f"options.{NEW}.label", "新しい答えのボタンの文字", limit=BUTTON,
                  drop_empty=True),
            Field(f"options.{NEW}.words", "新しい答えと読む、入力されたことば（1 行に 1 つ）",
                  kind="words", limit=40, drop_empty=True)]
    return fields


def _new_option(item: Mapping, form: Form) -> None:
    """Refuse a new answer without a label, or with a name its question has already."""
    value = form.values.get(f"options.{NEW}.value")
    label = form.values.get(f"options.{NEW}.label")
    if not value:
        if label or form.values.get(f"options.{NEW}.words"):
            form.errors[f"options.{NEW}.value"] = "新しい答えの集計での名前を入れてください。"
        return
    if not re.fullmatch(r"[a-z0-9_]{1,40}", value):
        form.errors[f"options.{NEW}.value"] = "半角の小文字・数字・_ で入れてください。"
    elif value in {o.get("value") for o in item.get("options") or []}:
        form.errors[f"options.{NEW}.value"] = "この名前の答えはもうあります。"
    if not label:
        form.errors[f"options.{NEW}.label"] = "新しい答えのボタンの文字を入れてください。"


def _when(item, content) -> list[Field]:
    fields = []
    for step in content.flow.steps:
        label = f"条件: {step.counted_as or step.id}"
        if step.kind == "age":
            fields.append(Field(f"when.{step.id}", f"{label}（年齢の範囲、空なら問わない）",
                                kind="range", drop_empty=True, low=0, high=130))
        elif step.kind == "area":
            fields.append(Field(f"when.{step.id}",
                                f"{label}（市町村、1 行に 1 つ。空なら問わない）",
                                kind="words", drop_empty=True))
        else:
            options = [(o.value, o.label) for o in step.options]
            fields.append(Field(f"when.{step.id}", f"{label}（選ばなければ問わない）",
                                kind="pick", choices=lambda c, o=options: o, drop_empty=True))
    return fields


def _rule(item, content) -> list[Field]:
    return [Field("note", "このルールの理由（計画の項目）", kind="long", limit=600),
            *_when(item, content),
            Field("programmes", "案内する取組", kind="pick", choices=_programme_ids),
            Field("offices", "案内する相談先", kind="pick", choices=_rule_offices),
            Field("say", "ご案内に添えるメッセージ", kind="choice", choices=_message_keys,
                  drop_empty=True)]


def _fallback(_item, _content) -> list[Field]:
    return [Field("fallback.note", "理由", kind="long", limit=600),
            Field("fallback.programmes", "案内する取組", kind="pick", choices=_programme_ids),
            Field("fallback.offices", "案内する相談先", kind="pick", choices=_rule_offices)]


def _messages(item, _content) -> list[Field]:
    return [Field(key, MESSAGE_LABELS.get(key, key), kind="long", required=True,
                  limit=BUTTON if key in BUTTON_MESSAGES else MAX_LONG)
            for key in item]


def _crisis_line(_item, _content) -> list[Field]:
    return [Field("name", "名前", required=True, limit=60),
            Field("phone", "電話番号", required=True, check="phone", fact=True),
            Field("free", "通話料", kind="maybe", fact=True, drop_empty=True),
            Field("hours", "受付時間（出典のとおりに）", fact=True),
            Field("note", "添えることば", kind="long", limit=300),
            Field("verify", "二次的な出典・古い出典の情報です。確認が必要です", kind="flag")]


def _crisis_words(_item, _content) -> list[Field]:
    return [Field("crisis_words", "緊急の相談先をすぐに案内することば（1 行に 1 つ。"
                  "メッセージがこのことばを含むと、答えの前に相談先を出します）",
                  kind="words", required=True, limit=20)]


def _event(_item, _content) -> list[Field]:
    return [Field("title", "イベントの名前", required=True, limit=60),
            Field("date", "日付（1 日だけのときはここだけ）", kind="date", fact=True,
                  required=True),
            Field("end_date", "最後の日（何日かにわたるとき）", kind="date", fact=True,
                  drop_empty=True),
            Field("time", "時間（出典のとおりに。例: 13:30〜16:00）", fact=True),
            Field("place", "場所", fact=True),
            Field("programme", "取組", kind="choice", choices=_optional(_programme_ids)),
            Field("office", "主催・問い合わせの相談先", kind="choice",
                  choices=_optional(_office_ids)),
            Field("url", "ウェブのアドレス（https:// で始まるもの）", check="url", fact=True),
            Field("note", "添えることば", kind="long", limit=300)]


def _events(_item, _content) -> list[Field]:
    return [Field("words", "イベントを案内することば（1 行に 1 つ）", kind="words", limit=20),
            Field("intro", "一覧の前のことば", kind="long", limit=300, required=True),
            Field("none_upcoming", "イベントがないときのことば", kind="long", limit=300,
                  required=True),
            Field("with_referral", "ご案内に添えるときのことば", kind="long", limit=300,
                  required=True),
            Field("shown", "一度に見せる数", kind="number", low=1, high=10)]


def _finder(_item, _content) -> list[Field]:
    return [Field("words", "窓口さがしをはじめることば（1 行に 1 つ）", kind="words", limit=20),
            Field("ask_region", "地域をたずねることば", kind="long", limit=300, required=True),
            Field("everywhere", "どの市町村の方にも続けて見せる県全体の相談先", kind="pick",
                  choices=_office_ids),
            Field("found", "見つかったときのことば（{place} に市町村名が入ります）", kind="long",
                  limit=300, required=True),
            Field("not_understood", "市町村がわからないときのことば", kind="long", limit=300,
                  required=True),
            Field("none_found", "窓口がないときのことば（{place} に市町村名が入ります）",
                  kind="long", limit=300, required=True),
            Field("resume", "質問の続きに戻るときのことば", kind="long", limit=300,
                  required=True)]


def _handoff(_item, _content) -> list[Field]:
    return [Field("words", "相談員につなぐことば（1 行に 1 つ）", kind="words", limit=20),
            Field("silence", "相談員が LINE で手で答えるあいだ、ボットはお休みする", kind="flag"),
            Field("handoff_hours", "お休みする時間（時間）", kind="number", low=1, high=336),
            Field("contact.name", "相談の窓口の名前"),
            Field("contact.how", "相談のしかた（やさしい言葉で）", kind="long", limit=300),
            Field("contact.hours", "受付時間", fact=True),
            Field("contact.phone", "電話番号", check="phone", fact=True),
            Field("contact.url", "ウェブのアドレス（https:// で始まるもの）", check="url",
                  fact=True),
            Field("button", "ご案内の下のボタンの文字", limit=BUTTON, required=True),
            *(Field(key, label, kind="long", limit=300, required=True) for key, label in (
                ("asked", "つなぐときのことば"),
                ("with_contact", "窓口があるときのことば（{name} に窓口の名前が入ります）"),
                ("with_offices", "ご案内した窓口があるときのことば"),
                ("no_contact", "窓口がないときのことば"),
                ("silent_note", "お休みするときのことば"),
                ("resumed", "再開するときのことば")))]


def _feedback(item, _content) -> list[Field]:
    answers = [Field(f"answers.{i}.label", f"答え「{answer.get('value', '')}」のボタンの文字",
                     required=True, limit=BUTTON)
               for i, answer in enumerate(item.get("answers") or [])]
    return [Field("ask", "ご案内のあとに、役に立ちそうかをたずねる", kind="flag"),
            Field("question", "たずねることば", kind="long", limit=300, required=True),
            *answers,
            Field("thanks", "答えてもらったときのお礼のことば", kind="long", limit=300,
                  required=True)]


def _menu(_item, _content) -> list[Field]:
    return [Field("chat_bar_text", "メニューのバーの文字", required=True, limit=14),
            Field("about", "「このサービスについて」の答え", kind="long", limit=1000)]


def _menu_area(_item, _content) -> list[Field]:
    return [Field("label", "ボタンの文字（画像に描かれます）", required=True, limit=BUTTON),
            Field("action", "押したときにすること", kind="choice", choices=lambda c: MENU_ACTIONS),
            Field("uri", "開くページ（「ウェブのページを開く」のとき。https://、tel: など）",
                  drop_empty=True, limit=1000),
            Field("color", "背景の色（空ならメニューの色）", check="color", drop_empty=True)]


FIELD_LABELS = {
    "phone": "電話番号", "url": "ウェブのアドレス", "address": "住所", "hours": "受付時間",
    "verify": "二次的な出典", "checked": "確かめた日", "sources": "出典",
    "does": "何をしているところか",
    "plain_name": "やさしい名前", "one_line": "ひとことの説明", "audience": "だれのための取組か",
    "ask.default": "質問の文（ご本人）", "ask.family": "質問の文（ご家族）",
    "ask.employer": "質問の文（事業主）", "counted_as": "お知らせでの呼び方", "next": "次の質問",
    "options": "答え", "note": "理由・添えることば", "programmes": "取組", "offices": "相談先",
    "say": "添えるメッセージ", "title": "名前", "date": "日付", "end_date": "最後の日",
    "time": "時間", "place": "場所", "programme": "取組", "office": "相談先", "name": "名前",
    "free": "通話料", "label": "ボタンの文字", "action": "押したときにすること",
    "uri": "開くページ",
    "color": "色", "files": "ファイル", "words": "ことば", "restored": "戻した保存",
    "ask": "たずねるかどうか", "question": "たずねることば", "thanks": "お礼のことば"}
_OPTION_PART = {"label": "ボタンの文字", "words": "入力されたことば", "next": "あとの質問",
                "min": "何歳から", "max": "何歳まで"}


def label_of(name: str) -> str:
    """Return how staff read a field's name in the history (its path if nothing says)."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    if name in MESSAGE_LABELS:
        return MESSAGE_LABELS[name]
    parts = name.split(".")
    if len(parts) == 3 and parts[0] in ("options", "answers") and parts[1].isdigit():
        return f"答え {int(parts[1]) + 1} の{_OPTION_PART.get(parts[2], parts[2])}"
    if parts[0] in ("contact", "when", "fallback") and len(parts) > 1:
        head = {"contact": "窓口の", "when": "条件: ",
                "fallback": "どれにも合わないとき: "}[parts[0]]
        return head + FIELD_LABELS.get(".".join(parts[1:]), ".".join(parts[1:]))
    return name


SHOWN_LABELS = {"name": "名前", "kind": "種類（ルールの nearest: で使う）", "item": "計画の項目",
                "summary": "計画の概要（計画のとおり）", "kpi": "KPI", "owner": "担当"}
MESSAGE_LABELS = {
    "greeting": "友だち追加のあいさつ", "privacy": "個人情報のお知らせ",
    "restart_hint": "戻り方の案内", "not_understood": "読み取れなかったとき",
    "age_not_understood": "年齢がわからなかったとき",
    "age_from_birth_year": "生まれた年で答えたとき（{year} {age} {band}）",
    "age_birthday_moves": "生まれた年で答え、誕生日で年代が変わるとき（{before} {before_band} も）",
    "area_not_understood": "市町村がわからなかったとき",
    "area_pick": "市町村を選ぶとき（{region} に地域名）",
    "area_which": "入力された名前の市町村がいくつもあるとき（{place} に入力）",
    "not_text": "スタンプや画像のとき",
    "stale_button": "前の質問のボタンが押されたとき", "ended_button": "終わった案内のボタンのとき",
    "result_intro": "ご案内のはじめ（ご本人）", "result_intro_employer": "ご案内のはじめ（事業主）",
    "result_intro_family": "ご案内のはじめ（ご家族）", "result_offices": "相談先の前のことば",
    "note_younger": "世代より若い方への添えがき", "note_older": "世代より上の方への添えがき",
    "result_offices_alt": "相談先カードの代わりの文字",
    "office_contact_unknown": "連絡先がまだない相談先のことば", "office_call": "電話のボタン",
    "office_web": "ウェブのボタン", "result_closing": "ご案内のむすび",
    "start_button": "「最初から」のボタン", "back_button": "「戻る」のボタン",
    "crisis": "緊急の相談先の前のことば", "crisis_after": "緊急の相談先のあとのことば",
    "crisis_free": "無料の相談先の文字", "crisis_charged": "通話料がかかる相談先の文字",
    "crisis_call": "緊急の電話のボタン（{phone} に番号）",
    "page_button": "ご案内のページを開くボタン", "share_button": "LINEで送るボタン",
    "share_text": "LINEで送る文（{url} にページのアドレス）"}
BUTTON_MESSAGES = {"office_call", "office_web", "start_button", "back_button", "crisis_free",
                   "crisis_charged", "crisis_call", "result_offices_alt", "page_button",
                   "share_button"}

KINDS = {kind.name: kind for kind in (
    Kind("offices", "相談先", OFFICES, _office, items="offices", key="id", checked="checked",
         problem_item="office", shown=("name", "kind")),
    Kind("programmes", "取組", PROGRAMMES, _programme, items="programmes", key="id",
         problem_item="programme", shown=("item", "name", "summary", "kpi", "owner")),
    Kind("questions", "質問", FLOW_FILE, _question, items="steps", key="id",
         problem_item="question", shown=("kind",)),
    Kind("rules", "ご案内のルール", RULES, _rule, items="rules", key="id", can_add=True,
         problem_item="rule"),
    Kind("fallback", "どのルールにも合わないときのご案内", RULES, _fallback,
         problem_item="fallback rule"),
    Kind("messages", "ボットのことば", MESSAGES, _messages, problem_item="message"),
    Kind("crisis-lines", "緊急の相談先", SAFETY, _crisis_line, items="crisis_lines",
         can_add=True, problem_item="crisis line"),
    Kind("crisis-words", "緊急のことば", SAFETY, _crisis_words, problem_item="crisis words"),
    Kind("events", "イベント・セミナー", EVENTS, _event, items="events", key="id", can_add=True,
         problem_item="event"),
    Kind("events-texts", "イベントの案内のことば", EVENTS, _events),
    Kind("finder", "相談窓口さがし", FINDER, _finder),
    Kind("handoff", "相談員と話したい", HANDOFF, _handoff, sources="contact.sources"),
    Kind("menu", "メニュー", RICHMENU, _menu),
    Kind("menu-areas", "メニューのボタン", RICHMENU, _menu_area, items="areas",
         problem_item="menu area"),
    Kind("feedback", "ご案内は役に立ちそうか", FEEDBACK, _feedback,
         problem_item="feedback answer"),
)}
NEW_KEY = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")  # the id of a new rule or event
