"""The schema of a content bundle: programmes, offices, areas, rules, messages, the flow."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content.flow import Flow

Audience = Literal["citizens", "employers", "awareness"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Programme(Strict):
    """One 取組 of the plan's 工程表."""

    id: str
    item: str  # the plan's item number, e.g. "2(1)ア"
    name: str  # the plan's own name of the 取組
    plain_name: str = ""  # short citizen-facing name; falls back to name
    summary: str  # the plan's 取組の概要, verbatim
    one_line: str = ""  # one plain sentence for citizens
    kpi: str = ""
    owner: str = ""  # 担当
    owner_detail: str = ""  # 担当（詳細）
    audience: Audience
    new: bool = False  # marked 【新規】 in the plan
    repost_of: str = ""  # id of the programme this (再掲) row repeats
    # Optional: where a fact beyond the plan comes from, and when it was last checked against
    # it (`tsunagu check` warns when that is over a year ago).
    source: str = ""
    checked: datetime.date | None = None

    @property
    def title(self) -> str:
        return self.plain_name or self.name


class Office(Strict):
    """A place a person can contact; unknown contact fields stay empty."""

    id: str
    name: str
    kind: str  # used by rules as "nearest:<kind>"
    does: str = ""  # what they do, in plain words
    areas: list[str] = Field(default_factory=list)  # municipalities served; ["*"] = prefecture
    address: str = ""
    phone: str = ""
    hours: str = ""
    url: str = ""
    sources: list[str] = Field(default_factory=list)
    verify: bool = False  # from a secondary source: editors should confirm it
    checked: datetime.date | None = None  # when its facts were last checked against the sources

    @property
    def serves_everyone(self) -> bool:
        return "*" in self.areas


class Region(Strict):
    name: str
    municipalities: list[str]


class AgeRange(Strict):
    min: int | None = None
    max: int | None = None
    # Younger or older than the generation this year (rules.yaml `generation`), instead of
    # fixed ages: the generation's ages move with the years.
    generation: Literal["younger", "older"] | None = None

    @model_validator(mode="after")
    def _fixed_or_moving(self) -> AgeRange:
        if self.generation and (self.min is not None or self.max is not None):
            raise ValueError("give either min/max or generation, not both")
        return self


class Generation(Strict):
    """The generation as the prefecture defines it: the years its members left school."""

    left_school: tuple[int, int]  # the first and the last year, e.g. [1993, 2004]
    leaving_ages: tuple[int, int] = (18, 22)  # from high school to university
    source: str = ""

    def ages(self, year: int) -> tuple[int, int]:
        """Return the youngest and oldest ages of the generation in a year (2026: 40, 55)."""
        return (year - self.left_school[1] + self.leaving_ages[0],
                year - self.left_school[0] + self.leaving_ages[1])


# A rule's condition on one answer: any of these option values, or (for an age step) a range
# of years. The answer fields are the flow's step ids: nothing here names them.
Wanted = list[str] | AgeRange


class Rule(Strict):
    id: str
    note: str = ""  # why the rule exists, with the plan's item
    when: dict[str, Wanted] = Field(default_factory=dict)  # step id -> wanted
    programmes: list[str] = Field(default_factory=list)
    offices: list[str] = Field(default_factory=list)  # office id or "nearest:<kind>"
    say: str = ""  # a message (messages.yaml key) added to the result when the rule applies


class Rules(Strict):
    rules: list[Rule]
    fallback: Rule  # used when no rule matched: everyone gets a place to go
    generation: Generation | None = None

    def generation_values(self, year: int) -> dict[str, str]:
        """Return the {youngest} and {oldest} of the notes that name the generation's ages."""
        if self.generation is None:
            return {}
        youngest, oldest = self.generation.ages(year)
        return {"youngest": str(youngest), "oldest": str(oldest)}


class CrisisLine(Strict):
    """A phone line for a person in crisis; only what a source gives."""

    name: str
    phone: str
    # True: a source says the call is free; False: it says the call is charged; None: no
    # source says, and the reply says nothing about the cost.
    free: bool | None = None
    hours: str = ""  # when it answers, as the source gives it
    note: str = ""
    verify: bool = False  # from a secondary or old source: editors should confirm it
    sources: list[str] = Field(default_factory=list)


class Safety(Strict):
    crisis_words: list[str]
    crisis_lines: list[CrisisLine]


# -- the LINE account beyond the questionnaire (optional files: a version published before
# them answers with these defaults) ---------------------------------------------------------

# What a rich menu area (or a typed word) does: start the questionnaire over, find an office,
# list upcoming events, show the crisis lines, say what the bot is, ask for a person; or open
# a web page (uri).
MenuAction = Literal["questionnaire", "finder", "events", "crisis", "about", "handoff", "uri"]
MENU_SIZES = {"large": (2500, 1686), "compact": (2500, 843)}  # LINE's rich menu image sizes


class Bounds(Strict):
    """A rectangle of the rich menu image, in its pixels."""

    x: int
    y: int
    width: int
    height: int


class MenuArea(Strict):
    """One tappable area of the rich menu: its label (drawn, and shown in the chat) and action."""

    label: str
    action: MenuAction
    bounds: Bounds
    uri: str = ""  # the page an area with action "uri" opens
    color: str = ""  # its background in the drawn image, "#RRGGBB"; empty: the menu's own


class RichMenu(Strict):
    """The menu at the bottom of the chat (content/richmenu.yaml)."""

    name: str = "tsunagu"
    chat_bar_text: str = "メニュー"  # the bar's text; LINE allows 14 characters
    size: Literal["large", "compact"] = "large"
    selected: bool = True  # shown open when the chat is opened
    color: str = "#1B6B5A"  # the areas' background in the drawn image
    text_color: str = "#FFFFFF"
    areas: list[MenuArea] = Field(default_factory=list)
    about: str = ""  # what "このサービスについて" answers; empty: messages.yaml's privacy text

    @property
    def width(self) -> int:
        return MENU_SIZES[self.size][0]

    @property
    def height(self) -> int:
        return MENU_SIZES[self.size][1]


class Finder(Strict):
    """The office finder: a municipality, then the offices serving it (content/finder.yaml)."""

    words: list[str] = Field(default_factory=lambda: ["窓口", "相談先", "相談窓口", "窓口をさがす",
                                                       "相談窓口をさがす"])
    ask_region: str = "お住まいの地域を選んでください。市町村名を入力していただいても大丈夫です。"
    # Offices of the whole prefecture shown after a municipality's own (ids of offices.yaml).
    everywhere: list[str] = Field(default_factory=list)
    found: str = "{place}の方がご相談できる窓口です。"
    not_understood: str = ("市町村がわかりませんでした。地域を選ぶか、市町村名（例：大仙市）を"
                           "入力してください。")
    none_found: str = "{place}の窓口は、まだ登録されていません。県全体の窓口をご案内します。"
    resume: str = "質問の続きはこちらです。"  # before the question a finder interrupted


class Event(Strict):
    """One dated event of a programme: a 就職面接会, a seminar, a course, a fair."""

    id: str
    title: str
    date: datetime.date | None = None  # `tsunagu check` flags an event without one
    end_date: datetime.date | None = None  # the last day of an event of several days
    time: str = ""  # as the source gives it, e.g. "13:30〜16:00"
    place: str = ""
    programme: str = ""  # the programme's id: shown with a referral naming it
    office: str = ""  # the office's id that holds it (or to ask)
    url: str = ""
    note: str = ""
    sources: list[str] = Field(default_factory=list)  # `tsunagu check` flags an event without

    @property
    def last_day(self) -> datetime.date | None:
        return self.end_date or self.date


class Events(Strict):
    """Dated events (content/events.yaml); past ones are no longer shown, by themselves."""

    events: list[Event] = Field(default_factory=list)
    words: list[str] = Field(default_factory=lambda: ["イベント", "セミナー", "面接会",
                                                       "イベント・セミナー"])
    intro: str = "これからのイベント・セミナーです。"
    none_upcoming: str = ("いまご案内できるイベント・セミナーはありません。"
                          "相談窓口では、いつでもご相談いただけます。")
    with_referral: str = "ご案内した取組のイベントがあります。"
    shown: int = 5  # how many upcoming events a reply shows at most


class Contact(Strict):
    """The platform's consultation channel, as a source gives it; empty fields stay unknown."""

    name: str = ""
    how: str = ""  # how to reach a person, in plain words
    hours: str = ""
    phone: str = ""
    url: str = ""
    sources: list[str] = Field(default_factory=list)


class Handoff(Strict):
    """Talking to a person (content/handoff.yaml)."""

    words: list[str] = Field(default_factory=lambda: ["相談員と話したい", "相談員", "人と話したい",
                                                       "担当者と話したい", "オペレーター"])
    # The bot stays silent this long after, so it never talks over a counselor answering by
    # hand in LINE Official Account Manager; off where nobody answers chats by hand.
    silence: bool = True
    handoff_hours: int = Field(default=24, ge=1, le=24 * 14)
    contact: Contact = Field(default_factory=Contact)
    button: str = "相談員と話したい"  # the button under a referral
    asked: str = "相談員におつなぎします。"
    with_contact: str = "{name}にご相談ください。"
    with_offices: str = "ご案内した窓口の相談員にご相談いただけます。"
    no_contact: str = ("相談窓口の相談員にご相談いただけます。「相談窓口をさがす」から、"
                       "お近くの窓口をお探しください。")
    silent_note: str = ("相談員がこのトークでお返事するまで、ボットはお休みします。"
                        "「最初から」と送ると、ボットの質問をもう一度はじめられます。")
    resumed: str = "ボットの案内を再開します。"


class FeedbackAnswer(Strict):
    """One answer to the feedback question: the name it is counted by, and its button."""

    value: str  # counted by this name (`tsunagu check`: lower case, at most 16 characters)
    label: str


class Feedback(Strict):
    """After each referral, one optional question: was it useful? (content/feedback.yaml).

    Each answer is counted per day, version and answer, with no user key and no text.
    """

    ask: bool = True
    question: str = "このご案内は役に立ちそうですか？"
    answers: list[FeedbackAnswer] = Field(default_factory=lambda: [
        FeedbackAnswer(value="useful", label="役に立ちそう"),
        FeedbackAnswer(value="unsure", label="まだわからない"),
        FeedbackAnswer(value="not_useful", label="役に立たなそう")])
    thanks: str = "お答えいただき、ありがとうございます。これからのご案内に役立てます。"

    def answer(self, value: str) -> FeedbackAnswer | None:
        return next((a for a in self.answers if a.value == value), None)


class Content(Strict):
    """Everything the bot says and decides: one bundle of content/ and flows/ files."""

    programmes: dict[str, Programme]
    offices: dict[str, Office]
    regions: list[Region]
    rules: Rules
    messages: dict[str, str]
    safety: Safety
    flow: Flow
    bundle_id: str  # the checksum of the bundle's files
    richmenu: RichMenu = Field(default_factory=RichMenu)
    finder: Finder = Field(default_factory=Finder)
    events: Events = Field(default_factory=Events)
    handoff: Handoff = Field(default_factory=Handoff)
    feedback: Feedback = Field(default_factory=Feedback)

    place_names: dict[str, list[str]] = Field(default_factory=dict)  # areas.yaml other_names
    ambiguous_places: dict[str, list[str]] = Field(default_factory=dict)  # areas.yaml ambiguous

    @property
    def municipalities(self) -> list[str]:
        return [m for region in self.regions for m in region.municipalities]

    def message(self, key: str, **values: str) -> str:
        text = self.messages[key] if key in self.messages else OPTIONAL_MESSAGES[key]
        return text.format(**values) if values else text


# Messages added after versions were published: a version without them says these.
OPTIONAL_MESSAGES = {
    "page_button": "このご案内をページで見る",
    "share_button": "LINEで家族などに送る",
    "share_text": ("秋田県の就職氷河期世代の相談案内で、合いそうな支援と相談先をまとめました。"
                   "\n{url}"),
    "area_which": "「{place}」は、いくつかの市町村にあります。お住まいの市町村を選んでください。",
    "age_from_birth_year": "{year}年生まれの方は、今年{age}歳です。「{band}」としてお答えします。",
    "age_birthday_moves": ("{year}年生まれの方は、今年のお誕生日の前は{before}歳（{before_band}）、"
                           "あとは{age}歳です。「{band}」としてお答えします。違うときは「戻る」を"
                           "押して、ボタンから選んでください。"),
}


class ProgrammeFile(Strict):
    programmes: list[Programme]


class OfficeFile(Strict):
    offices: list[Office]


class AreaFile(Strict):
    regions: list[Region]
    # Other names a municipality is typed by: its reading, its former municipalities' names.
    other_names: dict[str, list[str]] = Field(default_factory=dict)
    # Names that could mean more than one municipality: the person is asked which.
    ambiguous: dict[str, list[str]] = Field(default_factory=dict)
