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


# The wish question's answer that adds no rule of its own: each persona's referral is what
# its situation gives.
TALK = tap("まずは話を聞いてほしい")

PERSONAS = [
    Persona("non-regular in Akita city, typed age",
            [tap("ご本人"), say("42"), tap("パート・派遣・契約など"), tap("いいえ"),
             tap("とくにない"), TALK, *area("中央", "秋田市")],
            {"hw-senmon", "vocational-training", "long-term-training"},
            {"hw-akita-senmon", "hw-akita"},
            {"saposute", "mothers-corner", "hikikomori-local"}, {"saposute"}),
    Persona("not working long, 38, Odate",
            [tap("ご本人"), tap("35〜39歳"), tap("1年以上働いていない"), tap("いいえ"),
             tap("とくにない"), TALK, *area("県北", "大館市")],
            {"saposute", "saposute-hw", "hw-senmon"}, {"saposute", "hw-odate"},
            {"mothers-corner", "long-term-training"}),
    Persona("not working long, 52: above saposute's limit",
            [tap("ご本人"), say("52歳"), tap("1年以上働いていない"), tap("いいえ"),
             tap("とくにない"), TALK, say("横手市")],
            {"hw-senmon"}, {"hw-akita-senmon", "hw-yokote"}, {"saposute"}, {"saposute"}),
    Persona("not working long, exactly 49: still within saposute's limit",
            [say("自分"), say("４９歳"), say("働いていない"), say("いいえ"), say("ない"), TALK,
             say("潟上市")],
            {"saposute", "hw-senmon"}, {"saposute"}),
    Persona("not working long, exactly 50: just above saposute's limit",
            [say("本人です"), say("50才"), tap("1年以上働いていない"), tap("いいえ"),
             tap("とくにない"), TALK, say("男鹿")],
            {"hw-senmon"}, {"hw-oga"}, {"saposute"}, {"saposute"}),
    Persona("single parent in non-regular work, Noshiro",
            [tap("ご本人"), tap("45〜49歳"), say("パートです"), tap("はい"), tap("とくにない"),
             TALK, *area("県北", "能代市")],
            {"mothers-corner", "single-parent-center", "hw-senmon"},
            {"mothers-corner", "single-parent-center", "hw-noshiro"}, {"saposute"}),
    Persona("family member, 45, hikikomori, Kazuno",
            [tap("ご家族"), say("45"), tap("1年以上働いていない"), tap("いいえ"),
             tap("ほかの家族のこと"), TALK, *area("県北", "鹿角市")],
            {"hikikomori-local", "saposute", "akita-job-center"},
            {"hikikomori-center", "fukushi-kankyo-odate", "saposute", "akita-job-center"},
            set(), {"fukushi-kankyo"}),
    Persona("family member, 57, own hikikomori, Akita city",
            [say("家族"), tap("55〜59歳"), tap("1年以上働いていない"), tap("いいえ"),
             tap("ご本人のこと"), TALK, say("秋田市")],
            {"hikikomori-local", "akita-job-center"},
            {"hikikomori-center", "fukushi-kankyo", "akita-city-fukushi"},
            {"saposute"}, {"saposute", "fukushi-kankyo-odate"}),
    Persona("regular employee with no concerns: the general desk",
            [tap("ご本人"), tap("40〜44歳"), say("正社員です"), tap("いいえ"), tap("とくにない"),
             TALK, *area("県南", "仙北市")],
            {"akita-job-center", "hw-consultation"}, {"akita-job-center"},
            {"hw-senmon", "saposute", "hikikomori-local"}),
    Persona("job seeking single parent with hikikomori concerns, Mitane",
            [tap("ご本人"), tap("35〜39歳"), tap("仕事を探している"), tap("はい"),
             tap("ご本人のこと"), TALK, *area("県北", "三種町")],
            {"hw-senmon", "mothers-corner", "single-parent-center", "hikikomori-local"},
            {"yamamoto-fukushi", "fukushi-kankyo", "hikikomori-center"}, {"saposute"}),
    Persona("family member under 35 looking for work, Nikaho",
            [tap("ご家族"), tap("34歳以下"), say("求職中"), tap("いいえ"), tap("とくにない"), TALK,
             say("にかほ")],
            {"hw-senmon", "akita-job-center"}, {"hw-akita-senmon", "akita-job-center"},
            {"saposute", "hikikomori-local"}),
    Persona("over 60 in non-regular work, Higashinaruse",
            [tap("ご本人"), tap("60歳以上"), say("派遣"), tap("いいえ"), tap("とくにない"), TALK,
             *area("県南", "東成瀬村")],
            {"hw-senmon", "long-term-training"}, {"hw-akita-senmon"}, {"saposute"}),
    Persona("family member, single parent in regular work, Yuzawa",
            [tap("ご家族"), say("４７歳"), tap("正社員"), say("ひとり親です"), say("特にない"),
             TALK, *area("県南", "湯沢市")],
            {"mothers-corner", "single-parent-center", "akita-job-center"},
            {"mothers-corner", "single-parent-center", "akita-job-center"},
            {"hw-senmon", "saposute"}, {"hw-yuzawa"}),
    # Problem 11: the wish question, answers in other words, ages outside the generation.
    Persona("30-year-old looking for work, Yokote: told the desks are for an older generation",
            [tap("ご本人"), say("30"), tap("仕事を探している"), tap("いいえ"), tap("とくにない"),
             tap("仕事を探したい"), *area("県南", "横手市")],
            {"hw-consultation", "job-seminar"}, {"hw-yokote", "yokote-kurashi"}),
    Persona("62-year-old in temporary work, Oga: told so, still given a window to call",
            [tap("ご本人"), say("62歳"), say("派遣です"), tap("いいえ"), tap("とくにない"), TALK,
             *area("中央", "男鹿市")],
            {"hw-senmon"}, {"hw-oga", "oga-fukushi"}, {"saposute"}, {"saposute"}),
    Persona("just started a job and wants to keep it, Odate",
            [tap("ご本人"), tap("45〜49歳"), tap("正社員"), tap("いいえ"), tap("とくにない"),
             tap("就職した仕事を続けたい"), *area("県北", "大館市")],
            {"retention-hw", "retention-saposute"},
            {"hw-odate", "saposute", "odate-fukushi-soudan"}),
    Persona("out of work for years and looking, 44, Katagami: both サポステ and training",
            [tap("ご本人"), say("44"), tap("1年以上働いていない"), tap("いいえ"), tap("とくにない"),
             tap("仕事を探したい"), *area("中央", "潟上市")],
            {"saposute", "vocational-training", "job-seminar", "hw-senmon"},
            {"saposute", "katagami-fukushi"}),
    Persona("non-regular worker aiming at a qualification, Daisen",
            [tap("ご本人"), tap("40〜44歳"), tap("パート・派遣・契約など"), tap("いいえ"),
             tap("とくにない"), say("資格です"), *area("県南", "大仙市")],
            {"long-term-training", "vocational-training", "welfare-loan"},
            {"kenshakyo", "daisen-soudan", "hw-omagari"}),
    Persona("typed はい at the ひきこもり question, Akita city",
            [tap("ご本人"), tap("40〜44歳"), tap("正社員"), tap("いいえ"), say("はい"), TALK,
             say("秋田市")],
            {"hikikomori-local"}, {"hikikomori-center", "akita-city-fukushi"}),
    Persona("主婦です at the employment question, Kitaakita",
            [tap("ご本人"), tap("40〜44歳"), say("主婦です"), tap("いいえ"), tap("とくにない"),
             TALK, *area("県北", "北秋田市")],
            {"akita-job-center", "hw-consultation"},
            {"akita-job-center", "hw-takanosu", "kitaakita-kurashi"}, {"hw-senmon"}),
    Persona("family member who would like to meet employers at a fair, Yuzawa",
            [tap("ご家族"), tap("50〜54歳"), tap("仕事を探している"), tap("いいえ"),
             tap("とくにない"), tap("面接会やフェアに行きたい"), *area("県南", "湯沢市")],
            {"job-fair", "fukushi-fair", "job-seminar", "akita-job-center"},
            {"akita-job-center", "yuzawa-soudan"}),
    Persona("single parent worried about living costs during training, Noshiro",
            [tap("ご本人"), tap("35〜39歳"), tap("1年以上働いていない"), tap("はい"),
             tap("とくにない"), tap("訓練中の生活費が心配"), *area("県北", "能代市")],
            {"welfare-loan", "welfare-loan-3", "mothers-corner"},
            {"kenshakyo", "noshiro-kurashi", "boshi-kafu-rengokai"}),
    Persona("ill and unable to work, typed, Yurihonjo",
            [tap("ご本人"), tap("50〜54歳"), say("病気で働けない"), tap("いいえ"),
             tap("とくにない"), TALK, *area("中央", "由利本荘市")],
            {"akita-job-center"}, {"yurihonjo-soudan"}),
    Persona("family member, self-employed, typed あります at the ひきこもり question, Kazuno",
            [tap("ご家族"), tap("40〜44歳"), tap("自営業・フリーランス"), tap("いいえ"),
             say("あります"), TALK, *area("県北", "鹿角市")],
            {"hikikomori-local", "akita-job-center"}, {"hikikomori-center", "kazuno-soudan"}),
    Persona("student of 24, typed, Semboku",
            [tap("ご本人"), say("24"), say("学生です"), tap("いいえ"), tap("とくにない"), TALK,
             *area("県南", "仙北市")],
            {"akita-job-center"}, {"semboku-soudan", "hw-kakunodate"}),
    Persona("on sick leave, Ogata village",
            [tap("ご本人"), tap("55〜59歳"), say("休職中です"), tap("いいえ"), tap("とくにない"),
             TALK, *area("中央", "大潟村")],
            {"akita-job-center"}, {"chuo-fukushi"}),
    Persona("employer who wants to hire someone of the generation, Akita city",
            [tap("企業・事業主の方"), tap("氷河期世代を採用したい"), *area("中央", "秋田市")],
            {"subsidy-stable-employment", "hw-limited-jobs", "employer-seminar",
             "sme-recruitment"},
            {"roudoukyoku-shokugyo-taisaku", "tohoku-meti", "hw-akita"},
            {"hw-senmon", "akita-job-center", "saposute"}, {"akita-job-center"}),
    Persona("employer making non-regular staff regular, typed, Yokote",
            [say("会社です"), say("正社員化"), say("横手市")],
            {"subsidy-career-up", "regular-conversion-push"}, {"roudoukyoku-kunren", "hw-yokote"},
            {"hw-senmon"}),
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
