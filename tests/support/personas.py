"""A table of personas: the answers each gives and the referral the plan gives them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from bot.db.database import transaction
from bot.db.models import Referral


@dataclass
class Persona:
    name: str
    answers: list[tuple[str, str]]  # ("tap", label) or ("say", text), one per question
    programmes: set[str]  # must be referred
    offices: set[str]
    not_programmes: set[str] = field(default_factory=set)  # must not be referred
    not_offices: set[str] = field(default_factory=set)


def tap(label):
    return ("tap", label)


def say(text):
    return ("say", text)


def area(region, town):
    return [tap(region), tap(town)]


PERSONAS = [
    Persona("non-regular in Akita city, typed age",
            [tap("ご本人"), say("42"), tap("パート・派遣・契約など"), tap("いいえ"),
             tap("とくにない"), *area("中央", "秋田市")],
            {"hw-senmon", "vocational-training", "long-term-training"},
            {"hw-akita-senmon", "hw-akita"},
            {"saposute", "mothers-corner", "hikikomori-local"}, {"saposute"}),
    Persona("not working long, 38, Odate",
            [tap("ご本人"), tap("35〜39歳"), tap("1年以上働いていない"), tap("いいえ"),
             tap("とくにない"), *area("県北", "大館市")],
            {"saposute", "saposute-hw", "hw-senmon"}, {"saposute", "hw-odate"},
            {"mothers-corner", "long-term-training"}),
    Persona("not working long, 52: above saposute's limit",
            [tap("ご本人"), say("52歳"), tap("1年以上働いていない"), tap("いいえ"),
             tap("とくにない"), say("横手市")],
            {"hw-senmon"}, {"hw-akita-senmon", "hw-yokote"}, {"saposute"}, {"saposute"}),
    Persona("not working long, exactly 49: still within saposute's limit",
            [say("自分"), say("４９歳"), say("働いていない"), say("いいえ"), say("ない"),
             say("潟上市")],
            {"saposute", "hw-senmon"}, {"saposute"}),
    Persona("not working long, exactly 50: just above saposute's limit",
            [say("本人です"), say("50才"), tap("1年以上働いていない"), tap("いいえ"),
             tap("とくにない"), say("男鹿")],
            {"hw-senmon"}, {"hw-oga"}, {"saposute"}, {"saposute"}),
    Persona("single parent in non-regular work, Noshiro",
            [tap("ご本人"), tap("45〜49歳"), say("パートです"), tap("はい"), tap("とくにない"),
             *area("県北", "能代市")],
            {"mothers-corner", "single-parent-center", "hw-senmon"},
            {"mothers-corner", "single-parent-center", "hw-noshiro"}, {"saposute"}),
    Persona("family member, 45, hikikomori, Kazuno",
            [tap("ご家族"), say("45"), tap("1年以上働いていない"), tap("いいえ"),
             tap("家族のこと"), *area("県北", "鹿角市")],
            {"hikikomori-local", "saposute", "akita-job-center"},
            {"hikikomori-center", "fukushi-kankyo-odate", "saposute", "akita-job-center"},
            set(), {"fukushi-kankyo"}),
    Persona("family member, 57, own hikikomori, Akita city",
            [say("家族"), tap("55〜59歳"), tap("1年以上働いていない"), tap("いいえ"),
             tap("本人のこと"), say("秋田市")],
            {"hikikomori-local", "akita-job-center"},
            {"hikikomori-center", "fukushi-kankyo", "akita-city-fukushi"},
            {"saposute"}, {"saposute", "fukushi-kankyo-odate"}),
    Persona("regular employee with no concerns: the general desk",
            [tap("ご本人"), tap("40〜44歳"), say("正社員です"), tap("いいえ"), tap("とくにない"),
             *area("県南", "仙北市")],
            {"akita-job-center", "hw-consultation"}, {"akita-job-center"},
            {"hw-senmon", "saposute", "hikikomori-local"}),
    Persona("job seeking single parent with hikikomori concerns, Mitane",
            [tap("ご本人"), tap("35〜39歳"), tap("仕事を探している"), tap("はい"),
             tap("本人のこと"), *area("県北", "三種町")],
            {"hw-senmon", "mothers-corner", "single-parent-center", "hikikomori-local"},
            {"yamamoto-fukushi", "fukushi-kankyo", "hikikomori-center"}, {"saposute"}),
    Persona("family member under 35 looking for work, Nikaho",
            [tap("ご家族"), tap("34歳以下"), say("求職中"), tap("いいえ"), tap("とくにない"),
             say("にかほ")],
            {"hw-senmon", "akita-job-center"}, {"hw-akita-senmon", "akita-job-center"},
            {"saposute", "hikikomori-local"}),
    Persona("over 60 in non-regular work, Higashinaruse",
            [tap("ご本人"), tap("60歳以上"), say("派遣"), tap("いいえ"), tap("とくにない"),
             *area("県南", "東成瀬村")],
            {"hw-senmon", "long-term-training"}, {"hw-akita-senmon"}, {"saposute"}),
    Persona("family member, single parent in regular work, Yuzawa",
            [tap("ご家族"), say("４７歳"), tap("正社員"), say("ひとり親です"), say("特にない"),
             *area("県南", "湯沢市")],
            {"mothers-corner", "single-parent-center", "akita-job-center"},
            {"mothers-corner", "single-parent-center", "akita-job-center"},
            {"hw-senmon", "saposute"}, {"hw-yuzawa"}),
]


def play(line_user, persona: Persona) -> None:
    line_user.follow()
    for how, value in persona.answers:
        if how == "tap":
            line_user.tap(value)
        else:
            line_user.say(value)


def only_referral(app) -> Referral:
    with transaction(app) as session:
        referrals = session.scalars(select(Referral)).all()
        assert len(referrals) == 1
        return referrals[0]
