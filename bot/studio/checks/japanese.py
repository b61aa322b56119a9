"""The check's problems in Japanese, for the editors' pages (the command line keeps English).

Each entry reads one kind of problem's English message (a pattern) and says it, and its fix,
in plain Japanese, with the message's own values. A problem no entry reads is shown as the
check gives it, so a new check is never hidden; add its entry here.
"""

from __future__ import annotations

import re

from bot.content.files import Problem

# (pattern of the message, the message in Japanese, the fix in Japanese)
SAID = [
    (r"has no phone and no web address: its card shows no button",
     "電話番号もウェブのアドレスもありません。LINE のカードにボタンが出ません",
     "出典で確かめられたら、電話番号かウェブのアドレスを入れてください"),
    (r"has no sources: nobody can tell where its (?:facts|number|date and place|hours and "
     r"phone) comes? from",
     "出典がありません。情報がどこから来たのかわかりません",
     "情報を保存するときに、出典（ページのアドレスか資料の名前）を入れてください"),
    (r"has no 'checked' date: .*",
     "確かめた日がありません", "出典と照らして確かめ、確かめた日を入れて保存してください"),
    (r"was last checked (?P<day>[0-9-]+), over (?P<days>\d+) days ago",
     "{day} に確かめたままです（{days} 日より前）",
     "出典でもう一度確かめて、確かめた日を入れて保存してください"),
    (r"uses \{(?P<name>\w+)\}, which the bot does not fill (?:in this message|here)",
     "{{{name}}} を使っていますが、ボットはこのことばにそれを入れません",
     "{{{name}}} を消してください（中かっこの名前は、決まったことばにしか使えません）"),
    (r"has a '\{' or '\}' that is not a \{name\}",
     "中かっこ（{{ か }}）があります。名前を入れる書き方になっていません",
     "中かっこを消すか、全角の ｛ ｝ にしてください"),
    (r"the button label '(?P<label>.*)' is (?P<n>\d+) characters; LINE (?:shows|takes) at "
     r"most (?P<max>\d+).*",
     "ボタンの文字「{label}」が {n} 文字です。LINE のボタンは {max} 文字まで",
     "{max} 文字までに短くしてください"),
    (r"is (?P<n>[\d,]+) characters, long for one bubble on a phone \(over (?P<max>\d+)\)",
     "{n} 文字あり、スマートフォンで一度に読むには長めです（{max} 文字より長い）",
     "短くするか、一度に言うことを減らしてください"),
    (r"is (?P<n>[\d,]+) characters; LINE takes at most (?P<max>[\d,]+) in one message",
     "{n} 文字あります。LINE の一つのメッセージは {max} 文字まで", "短くしてください"),
    (r"names programme '(?P<id>[^']*)', which is not in programmes.yaml",
     "取組「{id}」がありません", "取組を選び直してください"),
    (r"names office '(?P<id>[^']*)', which is not in offices.yaml",
     "相談先「{id}」がありません", "相談先を選び直してください"),
    (r"expects (?P<q>\w+) = '(?P<v>[^']*)', which no answer gives",
     "条件の「{q}」の答え「{v}」は、質問にありません",
     "質問にある答えを選び直してください（答えをなくしたときは、条件からも外します）"),
    (r"is never asked: no question's 'next' leads to it",
     "この質問は聞かれません（どの質問の「次の質問」にもなっていません）",
     "前の質問の「次の質問」にするか、この質問を使わないでください"),
    (r"the questions go round in a circle: (?P<path>.*)",
     "質問が輪になっています: {path}", "途中の「次の質問」を、終わりに向かうように変えてください"),
    (r"no answer here leads on to the end .*",
     "ここからご案内（終わり）に進む答えがありません",
     "途中の「次の質問」のどれかを、終わりに向かうようにしてください"),
    (r"the privacy note does not name '(?P<what>[^']*)' .*",
     "個人情報のお知らせが「{what}」に触れていません（集計に残す答えです）",
     "お知らせにそのことばを加えるか、質問の「個人情報のお知らせでの呼び方」を変えてください"),
    (r"has no counted_as .*", "「個人情報のお知らせでの呼び方」がありません",
     "お知らせでこの答えをどう呼ぶかを入れてください"),
    (r"(?P<n>[\d,]+) of (?P<total>[\d,]+) citizens' answer combinations get no office with a "
     r"phone or web button.*",
     "ご本人・ご家族の答えの組み合わせ {total} のうち {n} が、電話かウェブのボタンのある相談先に"
     "届きません",
     "その答えに合うルールに、電話番号かウェブのアドレスのある相談先を加えてください"),
    (r"has no date: it can never be shown", "日付がありません。案内に出ません",
     "出典のとおりに日付を入れてください"),
    (r"ends \((?P<end>[0-9-]+)\) before it begins \((?P<start>[0-9-]+)\)",
     "最後の日（{end}）がはじまりの日（{start}）より前です",
     "はじまりの日を「日付」に、最後の日を「最後の日」に入れてください"),
    (r"its (?P<field>\w+) '(?P<text>[^']*)' starts with '(?P<c>.)': .*",
     "「{text}」が「{c}」で始まっています。書き出した表を開くと、計算式として動いてしまいます",
     "先頭の「{c}」を消すか、全角（＝ ＋ －）にしてください"),
    (r"chat_bar_text '(?P<t>[^']*)' is (?P<n>\d+) characters; LINE takes 1 to (?P<max>\d+)",
     "メニューのバーの文字「{t}」が {n} 文字です（1〜{max} 文字）", "{max} 文字までにしてください"),
    (r"the label is (?P<n>\d+) characters; LINE takes 1 to (?P<max>\d+)",
     "ボタンの文字が {n} 文字です（1〜{max} 文字）", "{max} 文字までにしてください"),
    (r"opens a page \(action uri\) but has no uri",
     "「ウェブのページを開く」ボタンですが、開くページがありません",
     "開くページのアドレスを入れてください"),
    (r"\((?P<item>[^)]*)\) is for (?P<who>\w+) but no answers lead to it",
     "（{item}）に届く答えがありません", "この取組に合う人の答えのルールに加えてください"),
    (r"says '(?P<key>\w+)' from a fixed age \((?P<end>\w+) (?P<age>\w+)\), but this year the "
     r"generation is (?P<young>\d+)–(?P<old>\d+)",
     "決まった年齢で世代の添えがき（{key}）を出しています。今年の世代は {young}〜{old} 歳です",
     "年齢の代わりに「世代より若い方」「世代より上の方」を選んでください（年とともに動きます）"),
    (r"file is missing", "ファイルがありません", "前の版から戻してください"),
]
_COMPILED = [(re.compile(pattern), said, fix) for pattern, said, fix in SAID]


def in_japanese(problem: Problem) -> tuple[str, str]:
    """Return a problem's message and fix in Japanese (as the check says them if unknown)."""
    for pattern, said, fix in _COMPILED:
        found = pattern.fullmatch(problem.message) or pattern.match(problem.message)
        if found:
            values = found.groupdict()
            return said.format(**values), fix.format(**values)
    return problem.message, problem.fix


def sentence(problem: Problem) -> str:
    """Return a problem as one Japanese line: what is wrong（how to mend it）."""
    message, fix = in_japanese(problem)
    return f"{message}（{fix}）" if fix else message
