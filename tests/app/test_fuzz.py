"""Property tests: whatever reaches the webhook, and whatever the engine is asked, holds up."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
from urllib.parse import urlencode

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from bot import clock
from bot.content.bundle import load as load_content
from bot.content.flow import DONE
from bot.conversations.keys import user_key
from bot.db.database import transaction
from bot.db.models import Conversation, ProcessedEvent, Referral
from bot.dialogue.account import HANDOFF, MENU
from bot.dialogue.engine import (
    BACK_WORDS,
    DOUBLE_TAP_WINDOW,
    LAST_STEP,
    MENU_ACTIONS,
    RESTART_WORDS,
    Dialogue,
    Follow,
    OtherMessage,
    Postback,
    Say,
    Text,
    answer_data,
    command_data,
    menu_data,
    region_data,
)
from bot.line.render import Renderer
from tests.support.conversations import count
from tests.support.events import reply_calls
from tests.support.line_api import REPLY_PATH, limit_problems, load_spec
from tests.support.line_user import SECRET, LineUser, sign
from tests.support.paths import ROOT

CONTENT = load_content(ROOT / "content", ROOT / "flows")
ENGINE = Dialogue(CONTENT)
RENDERER = Renderer(CONTENT)
FLOW = CONTENT.flow
STEPS = [step.id for step in FLOW.steps]
# Every state a conversation may be kept in: the questionnaire's, an office finder opened
# outside it, and a person waiting for a counselor (the bot silent).
STATES = {*FLOW.state_names, MENU, HANDOFF}
RESULT_INTROS = tuple(CONTENT.message(key) for key in CONTENT.messages
                      if key.startswith("result_intro"))  # citizens', families', employers'


# Function-scoped fixtures (one app and database per test) are shared by all examples of a
# test on purpose: each example uses new people and new event ids, so examples stay apart.
WEBHOOK = settings(max_examples=100, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])
PURE = settings(max_examples=600, deadline=None)


# --- what people type and tap -------------------------------------------------------------------

WORDS = sorted({
    *(word for step in FLOW.steps for option in step.options
      for word in (option.label, *option.words)),
    *CONTENT.municipalities, *(region.name for region in CONTENT.regions),
    *BACK_WORDS, *RESTART_WORDS, *CONTENT.safety.crisis_words,
    *CONTENT.finder.words, *CONTENT.events.words, *CONTENT.handoff.words,
    "42", "４２歳", "15", "99", "150", "0", "-3", "秋田県大館市", "こんにちは", "",
})
# Emoji (with joiners and skin tones), control and format characters, wide and combining forms.
SPICE = ("😀👨‍👩‍👧🏽\u200d\ufe0f\U000e0001\x00\x07\x1b\x7f\x85\u2028\u2029\u200b\u202e\ufeff"
         "\t\n\r 　ｱ１２３ｶﾞ\u3099\u0301한𠮷🇯🇵")
VALUES = sorted({o.value for s in FLOW.steps for o in s.options} | set(CONTENT.municipalities))

spice = st.text(alphabet=st.sampled_from(SPICE), max_size=8)
texts = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda a, word, b: a + word + b, spice, st.sampled_from(WORDS), spice),
    st.text(max_size=30),  # any Unicode but lone surrogates, which LINE cannot send
    st.builds(lambda unit, n: (unit * n)[:5000], st.text(min_size=1, max_size=8),
              st.integers(300, 5000)),  # long, up to LINE's 5000 characters
)
postback_data = st.one_of(
    st.builds(answer_data, st.sampled_from([*STEPS, "done", ""]),
              st.one_of(st.sampled_from(VALUES), st.text(max_size=8))),
    st.builds(region_data, st.sampled_from(STEPS),
              st.one_of(st.sampled_from([r.name for r in CONTENT.regions]), st.text(max_size=4))),
    st.builds(command_data, st.sampled_from(["back", "restart", "", "explode"])),
    # The rich menu's areas and the cards' buttons: a municipality, a referral's offices.
    st.builds(lambda action, key, value: menu_data(action, **({key: value} if key else {})),
              st.sampled_from([*MENU_ACTIONS, "", "explode"]), st.sampled_from(["", "p", "o"]),
              st.one_of(st.sampled_from([*CONTENT.municipalities, ",".join(CONTENT.offices)]),
                        st.text(max_size=8))),
    st.dictionaries(st.sampled_from("svgcx"), st.text(max_size=8), max_size=6).map(urlencode),
    st.text(max_size=300),  # LINE's limit for postback data
)
taps = st.tuples(st.just("tap"), st.integers(0, 15))  # a button of the newest reply
actions = st.one_of(
    st.just(("follow",)), st.just(("unfollow",)), st.just(("sticker",)), st.just(("image",)),
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("postback"), postback_data),
    taps, taps,
    # Tapping the first button (an answer) a few times in a row gets conversations to the end.
    st.tuples(st.just("answer"), st.integers(1, 8)),
    st.just(("again",)),  # the newest button tapped once more: a double tap
)
scripts = st.integers(1, 3).flatmap(lambda people: st.lists(
    st.tuples(st.integers(0, people - 1), actions), min_size=1, max_size=20))


def state_for(app, user: LineUser) -> tuple[str, dict] | None:
    """Return one person's stored conversation state and answers, or None."""
    key = user_key(app.config["TSUNAGU_SECRET_KEY"], user.user_id)
    with transaction(app) as session:
        conv = session.get(Conversation, key)
        return (conv.state, dict(conv.answers)) if conv else None


def since_change(app, user: LineUser) -> dt.timedelta | None:
    """Return how long ago one person's stored conversation last changed, or None."""
    key = user_key(app.config["TSUNAGU_SECRET_KEY"], user.user_id)
    with transaction(app) as session:
        conv = session.get(Conversation, key)
        if conv is None:
            return None
        return clock.now() - conv.updated_at  # read back aware (UTCDateTime)


def model_step(conv, inp, since: dt.timedelta | None = None):
    """Return the conversation after one input, as the conversation store keeps it."""
    outcome = ENGINE.respond(conv, inp, since)
    if outcome.changed or (conv is not None and outcome.state is None):
        return (outcome.state, outcome.answers) if outcome.state else None
    return conv


class Person:
    """A person on LINE doing random things, with what the bot should now remember of them."""

    def __init__(self, client, line_api) -> None:
        self.user = LineUser(client, line_api)
        self.buttons: list[str] = []  # the postback data of the newest reply's quick replies
        self.expected = None  # the conversation the engine says is kept
        self.silent = False  # whether the engine says the newest event gets no reply
        self.tapped = ""  # the postback data of the newest tap

    def act(self, action: tuple, since: dt.timedelta | None = None) -> tuple[int, list[dict]]:
        """Do one thing on LINE, `since` the conversation last changed; return the webhook's
        status and the reply's messages."""
        event, inp = self._event(action)
        status = self.user.post(event).status_code
        reply = self.user.api.reply_for(event.get("replyToken", ""))
        if reply:  # an event with no reply leaves the person looking at the reply before
            items = (reply[-1].get("quickReply") or {}).get("items", [])
            self.buttons = [i["action"]["data"] for i in items if "data" in i["action"]]
        self.silent = inp is None or not ENGINE.respond(self.expected, inp, since).says
        self.expected = model_step(self.expected, inp, since) if inp is not None else None
        return status, reply

    def _event(self, action: tuple) -> tuple[dict, object]:
        """Return the webhook event of an action and the engine's input for it."""
        kind, *args = action
        user = self.user
        if kind == "follow":
            return user.event("follow", follow={"isUnblocked": False}), Follow()
        if kind == "unfollow":
            event = user.event("unfollow")
            del event["replyToken"]
            return event, None
        if kind in ("sticker", "image"):
            message = {"id": "1", "type": "sticker", "packageId": "446", "stickerId": "1988",
                       "stickerResourceType": "STATIC", "quoteToken": "q"}
            if kind == "image":
                message = {"id": "2", "type": "image", "quoteToken": "q",
                           "contentProvider": {"type": "line"}}
            return user.event("message", message=message), OtherMessage()
        if kind == "text":
            message = {"id": "3", "type": "text", "text": args[0], "quoteToken": "q"}
            return user.event("message", message=message), Text(args[0])
        if kind == "again":
            data = self.tapped
        else:
            data = args[0] if kind == "postback" else self._button(args[0])
        self.tapped = data
        return user.event("postback", postback={"data": data}), Postback(data)

    def _button(self, index: int) -> str:
        """Return the data of a button of the newest reply ("" when there is none)."""
        return self.buttons[index % len(self.buttons)] if self.buttons else ""


@settings(WEBHOOK, max_examples=60)
@given(script=scripts)
def test_any_sequence_of_events_keeps_every_conversation_sound(app, client, line_api, script):
    people = [Person(client, line_api) for _ in range(3)]
    referrals, results = count(app, Referral), 0
    for who, action in script:
        moves = [("tap", 0)] * action[1] if action[0] == "answer" else [action]
        for move in moves:
            results += act_and_check(app, line_api, people[who], move)
    note(f"conversations finished: {min(results, 3)}{'+' if results > 3 else ''}")
    assert count(app, Referral) - referrals == results, "one referral per finished conversation"


def act_and_check(app, line_api, person: Person, action: tuple) -> bool:
    """Do one thing as this person and check the invariants; return whether it ended."""
    status, reply = person.act(action, since_change(app, person.user))
    assert status == 200
    assert line_api.violations == []
    if person.silent:  # an unfollow, or the button just answered tapped again at once
        if action[0] != "unfollow":
            note("a double tap got no reply")
        assert reply_calls(line_api, person.user.last_token) == []
    else:
        assert 1 <= len(reply) <= 5, "every other event from a person is answered"
    state = state_for(app, person.user)
    assert state is None or state[0] in STATES
    assert state == person.expected
    return any(m.get("text", "").startswith(RESULT_INTROS) for m in reply)


# --- whole bodies: corrupted, oversized, badly signed -------------------------------------------

USER_MARK, EVENT_MARK, TOKEN_MARK = "Uplaceholder", "01PLACEHOLDER", "placeholdertoken"


def sample_event(kind: str) -> dict:
    """Return a valid event of one kind, with placeholder ids to make fresh per example."""
    event = {"type": kind, "mode": "active", "timestamp": int(time.time() * 1000),
             "source": {"type": "user", "userId": USER_MARK}, "webhookEventId": EVENT_MARK,
             "deliveryContext": {"isRedelivery": False}, "replyToken": TOKEN_MARK}
    content = {
        "follow": {"follow": {"isUnblocked": False}},
        "message": {"message": {"id": "1", "type": "text", "text": "本人", "quoteToken": "q"}},
        "postback": {"postback": {"data": answer_data("subject", "self")}},
        "unfollow": {},
    }
    return event | content[kind]


def bodies_of(min_events: int = 0):
    """Return a strategy for valid webhook bodies of up to three events (the JSON as a dict)."""
    kinds = st.lists(st.sampled_from(["follow", "message", "postback", "unfollow"]),
                     min_size=min_events, max_size=3)
    return kinds.map(lambda kinds: {"destination": "U" + "0" * 32,
                                    "events": [sample_event(kind) for kind in kinds]})


bodies = bodies_of()


PLACEHOLDERS = re.compile("|".join((USER_MARK, EVENT_MARK, TOKEN_MARK)))


def fresh(body: str) -> str:
    """Give every placeholder in a body a new id, so no event repeats another's."""
    return PLACEHOLDERS.sub(lambda found: found[0][:2] + uuid.uuid4().hex, body)


def reuses_reply_token(body: str, line_api) -> bool:
    """Tell whether a body repeats a reply token, which LINE never does (corruption might)."""
    try:
        events = json.loads(body)["events"]
        tokens = [e["replyToken"] for e in events if isinstance(e.get("replyToken"), str)]
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    used = {call.body.get("replyToken") for call in list(line_api.requests)}
    return len(set(tokens)) < len(tokens) or not used.isdisjoint(tokens)


def sign_bytes(body: bytes, secret: str = SECRET) -> str:
    """Sign raw bytes as LINE does."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post_raw(client, body: str | bytes, signature: str | None):
    """Post a body as it is, with this X-Line-Signature (None: no header at all)."""
    headers = {} if signature is None else {"X-Line-Signature": signature}
    return client.post("/callback", data=body, content_type="application/json", headers=headers)


def is_json(body: str | bytes) -> bool:
    """Tell whether a body parses as JSON at all."""
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


@st.composite
def corrupted_bodies(draw) -> str:
    """Return a valid body cut short, or with characters replaced, added or removed."""
    text = json.dumps(draw(bodies), ensure_ascii=draw(st.booleans()))
    at = draw(st.integers(0, len(text) - 1))
    how = draw(st.sampled_from(["cut", "replace", "insert", "delete"]))
    if how == "cut":
        return text[:at]
    if how == "delete":
        return text[:at] + text[at + 1:]
    noise = draw(st.text(min_size=1, max_size=4))
    return text[:at] + noise + text[at + (how == "replace"):]


@WEBHOOK
@given(body=corrupted_bodies())
def test_corrupted_body_with_a_valid_signature_gets_400(client, line_api, body):
    body = fresh(body)
    assume(not reuses_reply_token(body, line_api))
    status = post_raw(client, body, sign(body)).status_code
    # Corruption can leave valid JSON (a changed letter in a text); that may be acted on.
    assert status == 400 if not is_json(body) else status in (200, 400)
    assert line_api.violations == []


@WEBHOOK
@given(body=bodies.map(json.dumps).map(str.encode), at=st.integers(0, 10**6),
       byte=st.sampled_from([0x80, 0xC3, 0xE3, 0xFF, 0xFE, 0x00]))
def test_body_with_a_broken_byte_gets_400(client, body, at, byte):
    raw = bytearray(fresh(body.decode()).encode())
    raw[at % len(raw)] = byte
    raw = bytes(raw)
    assume(not is_json(raw))
    assert post_raw(client, raw, sign_bytes(raw)).status_code == 400


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=6)


def paths(node, prefix: tuple = ()):
    """Yield the path to every value inside a JSON document."""
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


@st.composite
def reshaped_bodies(draw) -> str:
    """Return a valid body with a few values replaced by any JSON, or removed."""
    body = draw(bodies_of(min_events=1))
    for _ in range(draw(st.integers(1, 3))):
        *where, key = draw(st.sampled_from(list(paths(body))))
        parent = body
        for step in where:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(json_values)
        if not list(paths(body)):
            break
    return json.dumps(body)


@WEBHOOK
@given(body=reshaped_bodies())
def test_reshaped_body_with_a_valid_signature_gets_200_or_400(client, line_api, body):
    body = fresh(body)
    assume(not reuses_reply_token(body, line_api))
    assert post_raw(client, body, sign(body)).status_code in (200, 400)
    assert line_api.violations == []


@WEBHOOK
@given(kinds=bodies, over=st.one_of(st.integers(-256, 0), st.integers(1, 64 * 1024)),
       pad=st.sampled_from(" \n\t\r"))
def test_body_over_the_limit_gets_413_and_up_to_it_is_read(app, client, kinds, over, pad):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = fresh(json.dumps(kinds))
    body += pad * (limit - len(body.encode()) + over)  # JSON allows trailing whitespace
    status = post_raw(client, body, sign(body)).status_code
    assert status == (413 if len(body.encode()) > limit else 200)


latin1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
signatures = st.one_of(
    st.none(), st.just(""), st.text(alphabet=latin1, max_size=60),
    st.binary(min_size=32, max_size=32).map(lambda b: base64.b64encode(b).decode()),
    st.text(max_size=8).map(lambda secret: ("other secret", secret)),
    st.just(("other body",)),
)


@WEBHOOK
@given(kinds=bodies, signature=signatures)
def test_bad_signature_gets_400_and_changes_nothing(app, client, line_api, kinds, signature):
    body = fresh(json.dumps(kinds))
    if isinstance(signature, tuple):  # a real signature, of something else
        signature = (sign(body, signature[1] + "x") if signature[0] == "other secret"
                     else sign(body + " "))
    before = count(app, ProcessedEvent), count(app, Conversation), len(line_api.requests)
    assert post_raw(client, body, signature).status_code == 400
    assert (count(app, ProcessedEvent), count(app, Conversation),
            len(line_api.requests)) == before


def test_user_source_without_user_id_is_ignored(client, line_api):
    # userId is optional in LINE's webhook spec; it once crashed user_key.
    event = sample_event("follow")
    del event["source"]["userId"]
    body = fresh(json.dumps({"destination": "U" + "0" * 32, "events": [event]}))
    assert post_raw(client, body, sign(body)).status_code == 200
    assert line_api.requests == []


def test_event_of_an_unhashable_type_gets_200_or_400(client):
    event = sample_event("follow") | {"type": ["follow"]}
    body = fresh(json.dumps({"destination": "U" + "0" * 32, "events": [event]}))
    assert post_raw(client, body, sign(body)).status_code in (200, 400)


def test_deeply_nested_body_gets_400(client):
    body = "[" * 100_000
    assert post_raw(client, body, sign(body)).status_code == 400


# --- the engine alone ---------------------------------------------------------------------------

REPLY_SCHEMA = load_spec().body_validators[REPLY_PATH]
inputs = st.one_of(st.just(Follow()), st.just(OtherMessage()), st.builds(Text, texts),
                   st.builds(Postback, postback_data),
                   st.builds(Text, st.sampled_from(CONTENT.municipalities)))  # the last answer


@st.composite
def stored_conversations(draw):
    """Return what a database row may hold: a step (or a step of an older flow) and answers."""
    state = draw(st.one_of(st.sampled_from([*STEPS, MENU, HANDOFF]), st.text(max_size=12)))
    answers = draw(st.dictionaries(st.one_of(st.sampled_from([*STEPS, "finder"]),
                                             st.text(max_size=6)),
                                   st.one_of(st.sampled_from(VALUES), st.text(max_size=8)),
                                   max_size=8))
    # The engine only ever stores digits here (bot.dialogue.answers.parse_age), or nothing.
    answers["age_years"] = draw(st.one_of(st.just(""), st.integers(0, 999).map(str)))
    return state, answers


@st.composite
def answered_conversations(draw, states: tuple[str, ...] = tuple(STEPS)):
    """Return a conversation at one of these steps with a valid answer to every step before."""
    state = draw(st.sampled_from(states))
    answers = {}
    for step in FLOW.steps[:STEPS.index(state)]:
        choices = [o.value for o in step.options] if step.options else CONTENT.municipalities
        answers[step.id] = draw(st.sampled_from(choices))
        if step.kind == "age":
            answers["age_years"] = draw(st.one_of(st.just(""), st.integers(15, 99).map(str)))
    return state, answers


@st.composite
def reached_conversations(draw):
    """Return a conversation the engine itself reaches from nothing by some inputs."""
    conv = None
    for inp in draw(st.lists(inputs, max_size=12)):
        conv = model_step(conv, inp)
    return conv


conversations = st.one_of(st.none(), stored_conversations(), answered_conversations(),
                          reached_conversations())


def reply_problems(messages) -> list[str]:
    """Return what LINE would reject in a reply carrying these messages."""
    # The renderer may hand over SDK models or LINE's JSON already; LINE sees the JSON.
    as_json = [m if isinstance(m, dict) else m.to_dict() for m in messages]
    body = {"replyToken": "x" * 32, "messages": as_json}
    problems = [error.message for error in REPLY_SCHEMA.iter_errors(body)]
    return problems + [f"{p.property}: {p.message}" for p in limit_problems(body)]


# How long ago the stored conversation last changed: unknown, at once, or later (a worker's
# clock may be a little behind another's).
sinces = st.one_of(st.none(), st.timedeltas(dt.timedelta(seconds=-2), 2 * DOUBLE_TAP_WINDOW))


@PURE
@given(conv=conversations, inp=inputs, since=sinces)
def test_engine_answers_anything_with_a_known_state_and_a_sendable_reply(conv, inp, since):
    outcome = ENGINE.respond(conv, inp, since)
    assert outcome.state is None or outcome.state in STATES
    if outcome.referral is not None:
        assert outcome.state == DONE, "a referral ends the conversation"
        assert outcome.answers == {LAST_STEP: conv[0]}, "and keeps none of its answers"
    note("a referral" if outcome.referral else "no referral")
    if not outcome.says:  # no reply: a double tap, or silent for a counselor; nothing changes
        assert not outcome.changed and (outcome.state, outcome.answers) == conv
        if conv[0] == HANDOFF:
            note("silent while a counselor may answer")
            return
        note("a double tap")
        assert isinstance(inp, Postback) and since is not None and since <= DOUBLE_TAP_WINDOW
        return
    messages = RENDERER.render(outcome.says)
    assert 1 <= len(messages) <= 5
    assert reply_problems(messages) == []


@PURE
@given(conv=answered_conversations(states=tuple(STEPS[1:])), since=sinces)
def test_the_answer_just_given_tapped_again_is_one_tap_at_once_and_stale_later(conv, since):
    state, answers = conv
    previous = FLOW.previous(state)
    outcome = ENGINE.respond(conv, Postback(answer_data(previous, answers[previous])), since)
    if since is not None and since <= DOUBLE_TAP_WINDOW:
        assert outcome.says == [] and not outcome.changed
    else:
        assert outcome.says[0] == Say("stale_button") and not outcome.changed
    assert (outcome.state, outcome.answers) == conv


@PURE
@given(conv=answered_conversations(states=(STEPS[-1],)),
       place=st.sampled_from(CONTENT.municipalities), again=st.sampled_from(CONTENT.municipalities),
       since=sinces)
def test_the_last_button_tapped_again_after_the_referral_is_silent_at_once(conv, place, again,
                                                                           since):
    ended = ENGINE.respond(conv, Postback(answer_data(conv[0], place)))
    marker = (ended.state, ended.answers)
    outcome = ENGINE.respond(marker, Postback(answer_data(conv[0], again)), since)
    assert outcome.referral is None
    if since is not None and since <= DOUBLE_TAP_WINDOW:
        assert outcome.says == [] and (outcome.state, outcome.answers) == marker
    else:
        assert outcome.says == [Say("ended_button")] and outcome.state is None


@settings(max_examples=200, deadline=None)
@given(conv=answered_conversations(states=(STEPS[-1],)),
       place=st.sampled_from(CONTENT.municipalities), tapped=st.booleans())
def test_every_last_answer_gives_one_referral_and_a_sendable_result(conv, place, tapped):
    inp = Postback(answer_data(conv[0], place)) if tapped else Text(place)
    outcome = ENGINE.respond(conv, inp)
    assert outcome.referral is not None and outcome.state == DONE
    assert outcome.referral.programmes and outcome.referral.offices, "everyone gets somewhere"
    messages = RENDERER.render(outcome.says)
    assert 1 <= len(messages) <= 5
    assert reply_problems(messages) == []


def test_engine_restarts_a_conversation_left_at_done():
    failures = []
    for inp in (Text("本人"), OtherMessage(), Postback(answer_data("done", "x")),
                Postback(command_data("back"))):
        try:
            RENDERER.render(ENGINE.respond(("done", {}), inp).says)
        except Exception as err:  # every kind of crash is the finding
            failures.append(f"{inp}: {type(err).__name__}")
    assert failures == []
