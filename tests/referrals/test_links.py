"""The link to a referral's own page: signed, stamped, read back, refused when not ours."""

from __future__ import annotations

import datetime as dt

import pytest
from itsdangerous import URLSafeTimedSerializer

from bot import clock
from bot.referrals import links
from bot.referrals.links import MAX_AGE, SALT, Expired, LinkError, Links

ANSWERS = {"subject": "self", "age": "45-49", "employment": "not_working_long",
           "single_parent": "no", "hikikomori": "none", "wish": "work", "area": "大仙市"}
PUBLIC = "https://tsunagu.example.jp"


def token_of(url: str) -> str:
    assert url.startswith(f"{PUBLIC}/r/")
    return url.removeprefix(f"{PUBLIC}/r/")


def later(monkeypatch, by: dt.timedelta) -> None:
    moment = clock.now() + by
    monkeypatch.setattr(links.clock, "now", lambda: moment)


def test_a_link_reads_back_as_its_answers_and_version():
    made = Links("key", PUBLIC + "/")  # a trailing slash is not doubled
    signed = made.read(token_of(made.page_url("0123456789abcdef", ANSWERS)))
    assert signed.bundle_id == "0123456789abcdef" and signed.answers == ANSWERS
    assert abs(signed.made - clock.now()) < dt.timedelta(seconds=2)
    assert signed.expires - signed.made == MAX_AGE == dt.timedelta(days=90)


def test_a_link_carries_the_answers_and_version_only():
    token = Links("key", PUBLIC).token("0123456789abcdef", ANSWERS)
    # Read without the key's check: what anyone holding the link can see.
    payload = URLSafeTimedSerializer("any", salt=SALT).loads_unsafe(token)[1]
    assert payload == {"b": "0123456789abcdef", "a": ANSWERS}


@pytest.mark.parametrize("alter", [
    # The signature (not its last character, whose low bits base64 leaves unused).
    lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],
    lambda t: t[:5] + ("x" if t[5] != "x" else "y") + t[6:],  # the answers
    lambda t: t.split(".")[1],  # a part alone
    lambda t: "",
    lambda t: "not-a-token",
])
def test_an_altered_link_is_refused(alter):
    made = Links("key", PUBLIC)
    with pytest.raises(LinkError) as caught:
        made.read(alter(made.token("0123456789abcdef", ANSWERS)))
    assert not isinstance(caught.value, Expired)


def test_a_link_made_with_another_key_or_for_another_use_is_refused():
    token = Links("another key", PUBLIC).token("0123456789abcdef", ANSWERS)
    with pytest.raises(LinkError):
        Links("key", PUBLIC).read(token)
    other_use = URLSafeTimedSerializer("key", salt="tsunagu.something-else").dumps(ANSWERS)
    with pytest.raises(LinkError):
        Links("key", PUBLIC).read(other_use)


def test_a_signed_payload_of_another_shape_is_refused():
    made = Links("key", PUBLIC)
    for payload in ({"b": "x"}, {"b": 1, "a": {}}, {"b": "x", "a": {"age": 45}}, ["x"],
                    {"b": "x", "a": {"area": "x" * 101}}):
        with pytest.raises(LinkError):
            made.read(made._serializer.dumps(payload))


def test_a_link_opens_for_90_days_and_then_is_expired(monkeypatch):
    made = Links("key", PUBLIC)
    token = made.token("0123456789abcdef", ANSWERS)
    later(monkeypatch, MAX_AGE - dt.timedelta(minutes=1))
    assert made.read(token).answers == ANSWERS
    later(monkeypatch, MAX_AGE + dt.timedelta(minutes=1))
    with pytest.raises(Expired):
        made.read(token)


def test_a_link_stamped_in_the_future_is_refused(monkeypatch):
    later(monkeypatch, dt.timedelta(days=1))
    token = Links("key", PUBLIC).token("0123456789abcdef", ANSWERS)
    monkeypatch.undo()
    with pytest.raises(Expired):
        Links("key", PUBLIC).read(token)
