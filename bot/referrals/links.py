"""The link to a referral's own page: the answers' categories and the version, signed for 90 days.

The link is all there is: no row is written and nothing in it names the person. It carries the
answers as a referral record keeps them (each question's option value, the municipality) and
the bundle id of the content that made the referral, signed with HMAC-SHA256 under the app's
secret key with a salt of its own (so it can never pass for another of the key's uses) and
stamped with the time it was made. The page (`bot.sheet`) reads it back and makes the
referral again from those answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from bot import clock

SALT = "tsunagu.referral-page"
MAX_AGE = dt.timedelta(days=90)
PAGE_PATH = "/r/"  # where the page answers under the app's public address
# A payload is a dozen short answers; anything far larger was never made here.
MAX_ANSWERS, MAX_VALUE = 40, 100


class LinkError(Exception):
    """A link that shows no referral: altered, made with another key, or not one of ours."""


class Expired(LinkError):
    """A link older than MAX_AGE (or stamped in the future)."""


@dataclass(frozen=True)
class Signed:
    """What a valid link says: the version, the answers' categories and when it was made."""

    bundle_id: str
    answers: dict[str, str]
    made: dt.datetime  # aware UTC

    @property
    def expires(self) -> dt.datetime:
        return self.made + MAX_AGE


class _Signer(TimestampSigner):
    # The project's one clock (bot.clock), so that tests can move time.
    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class Links:
    """Make and read the links of referral pages under one secret key and public address."""

    def __init__(self, secret_key: str, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")
        self._serializer = URLSafeTimedSerializer(
            secret_key, salt=SALT, signer=_Signer,
            signer_kwargs={"digest_method": hashlib.sha256})

    def token(self, bundle_id: str, answers: Mapping[str, str]) -> str:
        """Return the signed token of a referral (its answers' categories and its version)."""
        return self._serializer.dumps({"b": bundle_id, "a": dict(answers)})

    def page_url(self, bundle_id: str, answers: Mapping[str, str]) -> str:
        """Return the address of the page showing this referral."""
        return f"{self.public_url}{PAGE_PATH}{self.token(bundle_id, answers)}"

    def read(self, token: str) -> Signed:
        """Return what a token says; raise Expired or LinkError if it shows no referral."""
        try:
            payload, made = self._serializer.loads(
                token, max_age=int(MAX_AGE.total_seconds()), return_timestamp=True)
        except SignatureExpired:
            raise Expired(token) from None
        except BadData:
            raise LinkError(token) from None
        bundle_id, answers = _parts(payload)
        return Signed(bundle_id, answers, made)


def _parts(payload: object) -> tuple[str, dict[str, str]]:
    """Return a payload's bundle id and answers, checking their shape (LinkError if odd)."""
    if not isinstance(payload, dict) or set(payload) != {"b", "a"}:
        raise LinkError("not a referral page's payload")
    bundle_id, answers = payload["b"], payload["a"]
    if (not isinstance(bundle_id, str) or not isinstance(answers, dict)
            or len(answers) > MAX_ANSWERS
            or not all(isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_VALUE
                       for k, v in answers.items())):
        raise LinkError("not a referral page's payload")
    return bundle_id, answers
