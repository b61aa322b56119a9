"""Understanding typed answers: normalising text and matching it to options."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from bot import clock
from bot.content.flow import Option, Step

# Polite endings and punctuation that may follow an answer without changing it.
_FILLER = re.compile(
    r"(です|でした|だよ|だ|ます|よ|ね|かな|のこと|について|と思います"
    r"|に住んでいます|に住んでる|在住|住み|[。、．，！!？?・〜~ー\s])+")
_AGE = re.compile(r"(\d{1,3})(?:歳|才|さい)?")
MIN_AGE, MAX_AGE = 15, 99
# A birth year: 1980年生まれ, 1980, 昭和55年, s55, 平成2年生まれ, h2 (NFKC-folded, lower case).
_BORN = re.compile(r"(?:(?P<year>(?:19|20)\d\d)|(?P<era>昭和|平成|令和|大正|[shrt])"
                   r"(?P<n>\d{1,2}|元))年?(?:生まれ|うまれ|生)?")
ERAS = {"大正": 1911, "t": 1911, "昭和": 1925, "s": 1925, "平成": 1988, "h": 1988,
        "令和": 2018, "r": 2018}  # the year before each era's first year
ERA_YEARS = {1911: 15, 1925: 64, 1988: 31, 2018: 99}  # the last year number of each era
_KANJI_DIGITS = dict(zip("〇一二三四五六七八九", range(10), strict=True))
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十]+")


@dataclass(frozen=True)
class Age:
    """An age read from an answer: this year's, and the birth year if it was given as one."""

    years: int  # the age reached this year (after the birthday, for a birth year)
    born: int | None = None  # the Western birth year the person gave, if any


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


def parse_age(text: str, today: dt.date | None = None) -> int | None:
    """Read an age such as '42', '４２歳', '四十二才' or '1984年生まれ'; None if implausible."""
    found = age_in(normalise(text), today)
    return found.years if found else None


def age_in(text: str, today: dt.date | None = None) -> Age | None:
    """Read an age, or a birth year (today's year gives the age), from a normalised answer."""
    text = _KANJI_NUMBER.sub(lambda m: str(_kanji(m.group())), text)
    born = _BORN.match(text)
    if born and _only_filler(text[born.end():]):
        year = _year(born)
        if year is None:
            return None
        age = (today or clock.japan_date()).year - year
        return Age(age, year) if MIN_AGE <= age <= MAX_AGE else None
    match = _AGE.match(text)
    if not match or not _only_filler(text[match.end():]):
        return None
    age = int(match.group(1))
    return Age(age) if MIN_AGE <= age <= MAX_AGE else None


def _year(born: re.Match) -> int | None:
    """Return the Western year a birth year names (None for an era year that never was)."""
    if born["year"]:
        return int(born["year"])
    base = ERAS[born["era"]]
    number = 1 if born["n"] == "元" else int(born["n"])
    return base + number if 1 <= number <= ERA_YEARS[base] else None


def _kanji(numeral: str) -> int:
    """Return the value of a kanji numeral up to 99: 四十五 is 45, 十 is 10, 四五 is 45."""
    if "十" not in numeral:
        return int("".join(str(_KANJI_DIGITS[c]) for c in numeral))
    tens, _, ones = numeral.partition("十")
    return (_KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (
        _KANJI_DIGITS.get(ones, 0) if ones else 0)


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
    found = Places(names).read(plain)
    return found if isinstance(found, str) else None


_KATAKANA = str.maketrans({chr(c): chr(c - 0x60) for c in range(0x30A1, 0x30F7)})
_SUFFIX = re.compile(r"(市|町|村|し|まち|ちょう|むら|そん)$")
_BEFORE_PLACE = re.compile(r"^(秋田県|あきたけん)?(旧|きゅう)?(?:[^郡]{1,4}郡)?(旧|きゅう)?")


def kana(text: str) -> str:
    """Read katakana as hiragana (ヨコテ is よこて)."""
    return text.translate(_KATAKANA)


def _forms(word: str) -> set[str]:
    """Return the ways a name is typed: as it is and without its 市・町・村 (or し・まち …)."""
    plain = kana(normalise(word))
    bare = _SUFFIX.sub("", plain)
    return {plain, bare} if len(bare) >= 2 else {plain}


class Ambiguous(NamedTuple):
    """A name typed that more than one municipality goes by: ask which, never guess."""

    word: str
    names: tuple[str, ...]


class Places:
    """Every way a municipality is typed: its name, reading and former municipalities' names."""

    def __init__(self, municipalities: list[str], other_names=None, ambiguous=None) -> None:
        self.forms: dict[str, set[str]] = {}
        for name in municipalities:
            for word in (name, *(other_names or {}).get(name, ())):
                for form in _forms(word):
                    self.forms.setdefault(form, set()).add(name)
        self.ambiguous = {kana(normalise(word)): tuple(names)
                          for word, names in (ambiguous or {}).items()}

    def read(self, plain: str) -> str | Ambiguous | None:
        """Return the municipality an answer names, the ones it could name, or None."""
        text = _BEFORE_PLACE.sub("", kana(plain), count=1)
        for word, names in self.ambiguous.items():
            if text.startswith(word) and _only_filler(text[len(word):]):
                return Ambiguous(word, names)
        found = {form: names for form, names in self.forms.items() if text.startswith(form)
                 and _only_filler(text[len(form):])}
        places = {name for names in found.values() for name in names}
        if len(places) == 1:
            return places.pop()
        return Ambiguous(max(found, key=len), tuple(sorted(places))) if places else None
