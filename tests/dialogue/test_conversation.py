"""The questionnaire as a person meets it: greeting, wording, back, restart, odd input."""

from __future__ import annotations

from bot.db.models import Conversation, Referral
from tests.support.conversations import ENDED, answer_up_to_area, count, move_back, state_of


def test_follow_greets_explains_privacy_and_asks_first_question(line_user):
    texts = line_user.follow()
    assert "友だち追加ありがとうございます" in texts[0]
    assert "個人情報" in texts[1] and "LINEのIDは記録しません" in texts[1]
    assert texts[2] == "どなたについてのご相談ですか？"
    assert line_user.buttons == ["ご本人", "ご家族", "企業・事業主の方", "最初から"]


def test_questions_speak_of_the_family_member(line_user):
    line_user.follow()
    assert "ご家族の方の年齢" in line_user.tap("ご家族")[0]
    assert "ご家族の方" in line_user.tap("45〜49歳")[0]


def test_questions_speak_to_the_person_themself(line_user):
    line_user.follow()
    question = line_user.tap("ご本人")[0]
    assert question.startswith("年齢を教えてください") and "ご家族" not in question


def test_typed_answers_in_many_forms_are_understood(app, line_user):
    line_user.follow()
    line_user.say("本人")
    line_user.say("４２歳")
    assert state_of(app) == ("employment", {"subject": "self", "age": "40-44",
                                            "age_years": "42"})
    line_user.say("アルバイトです")
    assert state_of(app)[1]["employment"] == "non_regular"


def test_unclear_answer_is_asked_again_kindly_and_changes_nothing(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    before = state_of(app)
    texts = line_user.say("よくわからない")
    assert "年齢がわかりませんでした" in texts[0]
    assert texts[1].startswith("年齢を教えてください")
    assert state_of(app) == before


def test_implausible_age_is_asked_again(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    for text in ("4", "150歳", "-3", "42歳くらいかな？"):
        assert "年齢がわかりませんでした" in line_user.say(text)[0]
    assert state_of(app)[0] == "age"


def test_negated_answer_is_not_taken_as_the_option(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    line_user.tap("40〜44歳")
    assert "うまく読み取れませんでした" in line_user.say("正社員ではない")[0]
    assert state_of(app)[0] == "employment"


def test_back_goes_one_question_back_at_any_point(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    line_user.tap("40〜44歳")
    assert line_user.tap("戻る")[0].startswith("年齢を教えてください")
    assert state_of(app)[0] == "age"
    assert line_user.say("戻る")[0] == "どなたについてのご相談ですか？"
    assert line_user.say("もどる")[0] == "どなたについてのご相談ですか？"  # nothing before
    assert state_of(app)[0] == "subject"


def test_restart_starts_over_and_forgets_answers(app, line_user):
    line_user.follow()
    line_user.tap("ご家族")
    line_user.tap("40〜44歳")
    assert line_user.say("最初から")[0] == "どなたについてのご相談ですか？"
    assert state_of(app) == ("subject", {})


def test_area_is_picked_by_region_then_municipality(line_user):
    answer_up_to_area(line_user)
    assert line_user.buttons == ["県北", "中央", "県南", "戻る", "最初から"]
    line_user.tap("県南")
    assert line_user.buttons[:7] == ["横手市", "湯沢市", "大仙市", "仙北市", "美郷町", "羽後町",
                                     "東成瀬村"]
    line_user.tap("美郷町")
    assert "相談先" in line_user.text


def test_unknown_area_is_asked_again(app, line_user):
    answer_up_to_area(line_user)
    assert "市町村がわかりませんでした" in line_user.say("東京都")[0]
    assert state_of(app)[0] == "area"


def test_stale_button_reshows_the_current_question(app, line_user):
    line_user.follow()
    old_subject_button = line_user.button_data("ご家族")
    line_user.tap("ご本人")
    before = state_of(app)
    texts = line_user.postback(old_subject_button)
    assert "前の質問のボタン" in texts[0]
    assert texts[1].startswith("年齢を教えてください")
    assert state_of(app) == before


def test_unknown_postback_data_changes_nothing(app, line_user):
    line_user.follow()
    for data in ("", "garbage", "s=subject&v=alien", "s=subject", "c=explode",
                 "a=1&b=2&c=3&d=4&e=5", "x" * 300):
        texts = line_user.postback(data)
        assert texts[-1] == "どなたについてのご相談ですか？", data
    assert state_of(app) == ("subject", {})


def test_sticker_and_image_get_a_friendly_reprompt(app, line_user):
    line_user.follow()
    texts = line_user.send_sticker()
    assert "文字かボタン" in texts[0]
    assert texts[1] == "どなたについてのご相談ですか？"
    image = line_user.event("message", message={
        "id": "2", "type": "image", "quoteToken": "q",
        "contentProvider": {"type": "line"}})
    assert "文字かボタン" in line_user.send(image)[0]
    assert state_of(app) == ("subject", {})


def test_very_long_text_gets_a_kind_answer(app, line_user):
    line_user.follow()
    texts = line_user.say("あ" * 5000)
    assert "うまく読み取れませんでした" in texts[0]
    assert state_of(app) == ("subject", {})


def test_writing_without_following_starts_the_questionnaire(app, line_user):
    texts = line_user.say("こんにちは")
    assert "友だち追加" in texts[0] and texts[-1] == "どなたについてのご相談ですか？"
    assert state_of(app)[0] == "subject"


def test_referral_ends_the_conversation_and_deletes_its_answers(app, line_user):
    answer_up_to_area(line_user)
    line_user.say("大仙市")
    assert count(app, Referral) == 1
    assert state_of(app) == ENDED  # for a double tap: the step answered last, no answer
    assert "最初から" in line_user.buttons
    line_user.tap("最初から")
    assert line_user.texts == ["どなたについてのご相談ですか？"]


def test_button_of_a_finished_conversation_counts_nothing(app, line_user):
    answer_up_to_area(line_user)
    line_user.tap("県南")
    button = line_user.button_data("大仙市")
    line_user.postback(button)
    move_back(app)  # minutes later: an old button, not a double tap
    texts = line_user.postback(button)
    assert "このご案内は終わっています" in texts[0]
    assert count(app, Referral) == 1
    assert count(app, Conversation) == 0


def test_office_cards_have_call_and_web_buttons_where_known(line_user):
    line_user.follow()
    for label in ("ご本人", "40〜44歳", "1年以上働いていない", "いいえ", "ご本人のこと",
                  "まずは話を聞いてほしい"):
        line_user.tap(label)
    line_user.say("秋田市")
    cards = next(m for m in line_user.messages if m["type"] == "flex")["contents"]["contents"]
    by_name = {c["body"]["contents"][0]["text"]: c for c in cards}
    city = by_name["秋田市 福祉総務課"]
    actions = [b["action"] for b in city["footer"]["contents"]]
    assert {"type": "uri", "label": "電話する", "uri": "tel:0188885659"} in actions
    assert any(a["uri"].startswith("https://www.city.akita.lg.jp/") for a in actions)
    # An office whose contact details are unknown gets no invented button.
    assert "footer" not in by_name["地域若者サポートステーション（サポステ）"]
    alt = next(m for m in line_user.messages if m["type"] == "flex")["altText"]
    assert "TEL 018-888-5659" in alt
