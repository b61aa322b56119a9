"""Understanding typed answers: normalising text and matching it to options."""

from __future__ import annotations

import re
import unicodedata

from bot.content.flow import Option, Step

# Polite endings and punctuation that may follow an answer without changing it.
_FILLER = re.compile(
    r"(です|でした|だよ|だ|ます|よ|ね|かな|のこと|について|と思います"
    r"|に住んでいます|に住んでる|在住|住み|[。、．，！!？?・〜~ー\s])+")
_AGE = re.compile(r"(\d{1,3})(?:歳|才|さい)?")
MIN_AGE, MAX_AGE = 15, 99


def normalise(text: str) -> str:
    """Fold widths and case and drop spaces, so 'ＡＢ　c' and 'abc' compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", "", text)


def _only_filler(rest: str) -> bool:
    return _FILLER.fullmatch(rest) is not None if rest else True


def _means(option: Option, text: str, wording: str | None) -> bool:
    for word in (option.label, *option.words, *option.words_for.get(wording or "", ())):
        word = normalise(word)
        if text == word or (text.startswith(word) and _only_filler(text[len(word):])):
            return True
    return False


def match_option(step: Step, text: str, wording: str | None = None) -> Option | None:
    """Return the one option a typed answer clearly means as the question was worded, else None."""
    return option_in(step, normalise(text), wording)


def option_in(step: Step, plain: str, wording: str | None = None) -> Option | None:
    """Return the one option a normalised answer clearly means (match_option's work)."""
    found = [o for o in step.options if _means(o, plain, wording)]
    return found[0] if len(found) == 1 else None


def parse_age(text: str) -> int | None:
    """Read an age such as '42', '４２歳' or '42才'; None if it is not a plausible age."""
    return age_in(normalise(text))


def age_in(text: str) -> int | None:
    """Read an age from a normalised answer (parse_age's work)."""
    match = _AGE.match(text)
    if not match or not _only_filler(text[match.end():]):
        return None
    age = int(match.group(1))
    return age if MIN_AGE <= age <= MAX_AGE else None


def age_option(step: Step, age: int) -> Option | None:
    """Return the age band an age falls in."""
    for option in step.options:
        if (option.min is None or age >= option.min) and (option.max is None or age <= option.max):
            return option
    return None


def match_place(names: list[str], text: str) -> str | None:
    """Return the municipality a typed name means: '秋田市', '秋田' and '秋田県大館市' all work."""
    return place_in(names, normalise(text))


def place_in(names: list[str], plain: str) -> str | None:
    """Return the municipality a normalised answer names (match_place's work)."""
    text = plain.removeprefix("秋田県")
    for name in names:
        bare = name[:-1] if name[-1] in "市町村" else name
        for form in (normalise(name), normalise(bare)):
            if text.startswith(form) and _only_filler(text[len(form):]):
                return name
    return None
