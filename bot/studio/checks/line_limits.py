"""Layer 3: LINE's limits on what the bot sends (buttons, labels, data, texts, links)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bot.content.bundle import AREAS, FLOW_FILE, MESSAGES, OFFICES, RULES, SAFETY
from bot.content.flow import Step
from bot.content.schema import Content, Rule
from bot.dialogue import engine
from bot.dialogue.matching import Match
from bot.line.limits import (
    MAX_ALT_TEXT,
    MAX_BUBBLES,
    MAX_LABEL,
    MAX_POSTBACK_DATA,
    MAX_QUICK_REPLIES,
    MAX_TEXT,
    MAX_URI,
)
from bot.line.messages import crisis_text, offices_text, result_text, share_uri, units
from bot.referrals.links import Links
from bot.settings import MAX_PUBLIC_URL
from bot.studio.checks.coverage import describe
from bot.studio.checks.framework import Context, Problem, _format, _rules, check, error
from bot.studio.checks.meaning import _fields_of

# ---- Layer 3: LINE's limits ---------------------------------------------------------------

def _controls(c: Context, step: Step) -> list[tuple[str, str, tuple]]:
    """Return the 戻る/最初から buttons under a question: (label, postback data, where)."""
    controls = [(c.content.messages.get("start_button", ""),
                 engine.command_data("restart", step.id), ("message", "start_button"))]
    if c.content.flow.previous(step.id):
        controls.insert(0, (c.content.messages.get("back_button", ""),
                            engine.command_data("back", step.id), ("message", "back_button")))
    return controls


def buttons(c: Context) -> Iterator[tuple[Step, str, list[tuple[str, str, tuple]]]]:
    """Yield each set of quick-reply buttons: its question, what shows it, (label, data, where)."""
    tag = engine.version_tag(c.content)  # answer buttons carry the version that made them
    for step in c.content.flow.steps:
        controls = _controls(c, step)
        if step.kind != "area":
            yield step, "", [(o.label, engine.answer_data(step.id, o.value, tag),
                              ("option", o.value)) for o in step.options] + controls
            continue
        yield step, "", [(r.name, engine.region_data(step.id, r.name, tag),
                          ("region", r.name)) for r in c.content.regions] + controls
        for region in c.content.regions:
            yield step, region.name, [
                (m, engine.answer_data(step.id, m, tag), ("municipality", region.name, i))
                for i, m in enumerate(region.municipalities)] + controls


def _button_place(c: Context, step: Step, where: tuple) -> tuple[str, str, int | None]:
    """Return the file, item and line of one button."""
    if where[0] == "option":
        item, line = c.option(step, where[1], "label")
        return FLOW_FILE, item, line
    if where[0] == "region":
        return AREAS, *c.region(where[1], "name")
    if where[0] == "municipality":
        item, line = c.region(where[1], "municipalities", where[2])
        return AREAS, item, line
    item, line = c.message(where[1])
    return MESSAGES, item, line


@check
def quick_replies_fit_line(c: Context) -> Iterator[Problem]:
    for step, region, items in buttons(c):
        if len(items) > MAX_QUICK_REPLIES:
            shown = len(items) - len(_controls(c, step))
            if region:
                yield error(AREAS, c.region(region),
                            f"has {shown} municipalities; with 戻る and 最初から that is "
                            f"{len(items)} buttons, and LINE shows at most {MAX_QUICK_REPLIES}",
                            "split the region in two")
            elif step.kind == "area":
                yield error(AREAS, ("", c.line(AREAS, "regions")),
                            f"there are {shown} regions; with 戻る and 最初から that is "
                            f"{len(items)} buttons, and LINE shows at most {MAX_QUICK_REPLIES}",
                            "join some regions")
            else:
                yield error(FLOW_FILE, c.step(step, "options"),
                            f"has {shown} options; with 戻る and 最初から that is {len(items)} "
                            f"buttons, and LINE shows at most {MAX_QUICK_REPLIES}",
                            f"keep it to {MAX_QUICK_REPLIES - len(items) + shown} options, "
                            "e.g. by joining two or splitting the question")


@check
def labels_fit_line(c: Context) -> Iterator[Problem]:
    seen = set()
    for step, _, items in buttons(c):
        for label, _, where in items:
            file, item, line = _button_place(c, step, where)
            if len(label) > MAX_LABEL and (file, item) not in seen:
                seen.add((file, item))
                yield error(file, (item, line),
                            f"the button label {label!r} is {len(label)} characters; LINE "
                            f"shows at most {MAX_LABEL} and the bot would cut it to "
                            f"{label[:MAX_LABEL]!r}", f"shorten it to {MAX_LABEL} characters")
    for key in ("office_call", "office_web"):
        label = c.content.messages.get(key, "")
        if len(label) > MAX_LABEL:
            yield error(MESSAGES, c.message(key),
                        f"the button label {label!r} is {len(label)} characters; LINE takes at "
                        f"most {MAX_LABEL}", f"shorten it to {MAX_LABEL} characters")
    call = c.content.messages.get("crisis_call", "")
    for line in c.content.safety.crisis_lines:
        try:
            label = call.format(phone=line.phone)
        except (KeyError, ValueError, IndexError):
            break  # said by messages_use_known_names
        if len(label) > MAX_LABEL:
            yield error(MESSAGES, c.message("crisis_call"),
                        f"with {line.name}'s number the button reads {label!r}, "
                        f"{len(label)} characters; LINE shows at most {MAX_LABEL} and the bot "
                        f"would cut it to {label[:MAX_LABEL]!r}",
                        f"shorten the words around {{phone}} (the number alone is "
                        f"{len(line.phone)})")


@check
def postback_data_fits_line(c: Context) -> Iterator[Problem]:
    for step, _, items in buttons(c):
        for label, data, where in items:
            size = len(data.encode("utf-8"))  # urlencoded: bytes and characters are the same
            if size > MAX_POSTBACK_DATA:
                file, item, line = _button_place(c, step, where)
                yield error(file, (item, line),
                            f"the button {label!r} carries {size} bytes of data; LINE takes "
                            f"at most {MAX_POSTBACK_DATA}",
                            "shorten the question's id and the option's value (or the name)")


def texts(c: Context) -> Iterator[tuple[str, tuple[str, int | None], str]]:
    """Yield each fixed text the bot sends: file, (item, line), the text as people get it."""
    longest_region = max((r.name for r in c.content.regions), key=len, default="")
    longest_phone = max((line.phone for line in c.content.safety.crisis_lines), key=len,
                        default="")
    for key, text in c.content.messages.items():
        if _fields_of(key):
            text = _format(text, region=longest_region, phone=longest_phone)
        yield MESSAGES, c.message(key), text
    for step in c.content.flow.steps:
        for wording, text in step.ask.items():
            item, line = c.step(step, "ask", wording)
            yield FLOW_FILE, (f"{item} ({wording})", line), text
    # Imported here so that the account's rules run after LINE's limits, as they always did.
    from bot.studio.checks.account import account_texts

    yield from account_texts(c)


def _built(build: Callable[..., str], *args) -> str:
    """Return a text as bot.line.messages builds it ("" if a message it needs is broken)."""
    try:
        return build(*args)
    except (KeyError, ValueError, IndexError):
        return ""  # a missing or malformed message: messages_are_all_there and others say so


@check
def texts_fit_line(c: Context) -> Iterator[Problem]:
    for file, where, text in texts(c):
        if units(text) > MAX_TEXT:
            yield error(file, where, f"is {units(text)} characters; LINE takes at most "
                        f"{MAX_TEXT} in one message", "shorten it")
    crisis = _built(crisis_text, c.content)
    if units(crisis) > MAX_TEXT:
        yield error(SAFETY, ("crisis lines", c.line(SAFETY, "crisis_lines")),
                    f"the crisis reply (the 'crisis' message and every line) is {units(crisis)} "
                    f"characters; LINE takes at most {MAX_TEXT} and the bot would cut it",
                    "shorten the lines' notes or the 'crisis' message")
    if units(crisis) > MAX_ALT_TEXT:
        yield error(SAFETY, ("crisis lines", c.line(SAFETY, "crisis_lines")),
                    f"the crisis reply is {units(crisis)} characters; a card's text for "
                    f"notifications (altText) takes at most {MAX_ALT_TEXT}, so it would be cut",
                    "shorten the lines' notes or the 'crisis' message")


@check
def results_fit_line(c: Context) -> Iterator[Problem]:
    long_texts, long_alts, many_cards = [], [], []
    texts_seen: set[tuple] = set()
    alts_seen: set[tuple] = set()
    results = c.coverage.results
    planned = getattr(results, "planned_match", lambda n: results[n].match)
    for n in range(len(results)):
        found = planned(n)  # ids and counts only: a result is read whole where it matters
        wordings = results.planned[n][1] if hasattr(results, "planned") else results[n].wordings
        for wording in wordings:
            key = (wording, tuple(p.id for p in found.programmes), found.says)
            if key not in texts_seen:
                texts_seen.add(key)
                size = units(_built(result_text, c.content, results[n].match, wording))
                if size > MAX_TEXT:
                    long_texts.append((size, results[n]))
        key = tuple(o.id for o in found.offices[:MAX_BUBBLES])
        if key not in alts_seen:
            alts_seen.add(key)
            alt = units(_built(offices_text, c.content, results[n].match.offices[:MAX_BUBBLES]))
            if alt > MAX_ALT_TEXT:
                long_alts.append((alt, results[n]))
        if len(found.offices) > MAX_BUBBLES:
            many_cards.append((len(found.offices), results[n]))
    yield from _worst(c, long_texts, lambda n, size, who: (
        f"{n} results are longer than LINE's {MAX_TEXT} characters (the longest, {size}, for "
        f"{who}); the bot would cut them"),
        "give fewer programmes to the same answers, or shorten the programmes' one_line")
    yield from _worst(c, long_alts, lambda n, size, who: (
        f"{n} office lists are longer than a card's {MAX_ALT_TEXT} characters of notification "
        f"text (the longest, {size}, for {who}); the bot would cut them"),
        "give fewer offices to the same answers")
    yield from _worst(c, many_cards, lambda n, count, who: (
        f"{n} results give more than {MAX_BUBBLES} offices (the most, {count}, for {who}); "
        f"LINE shows {MAX_BUBBLES} cards, so the rest are never seen"),
        "give fewer offices to the same answers")


def _worst(c: Context, cases: list, says: Callable[[int, int, str], str],
           fix: str) -> Iterator[Problem]:
    """Yield one error for results over one limit: how many, and the worst one's answers."""
    if cases:
        size, worst = max(cases, key=lambda pair: pair[0])
        yield error(RULES, c.rule(_rule_of(c, worst.match)),
                    says(len(cases), size, describe(c.content, worst.example)), fix)


def _rule_of(c: Context, found: Match) -> Rule:
    """Return the last rule that added to a result (the likeliest to have made it long)."""
    by_id = {r.id: r for r in _rules(c.content)}
    return by_id.get(found.rules[-1] if found.rules else "", c.content.rules.fallback)


@check
def links_fit_line(c: Context) -> Iterator[Problem]:
    for office in c.content.offices.values():
        if office.url and not office.url.startswith(("https://", "http://")):
            yield error(OFFICES, c.office(office, "url"),
                        f"url {office.url!r} does not start with https:// or http://",
                        "write the whole address, as the browser shows it")
        if len(office.url) > MAX_URI:
            yield error(OFFICES, c.office(office, "url"),
                        f"url is {len(office.url)} characters; LINE takes at most {MAX_URI}",
                        "use a shorter address for the same page")
        if office.phone and not any(ch.isdigit() for ch in office.phone):
            yield error(OFFICES, c.office(office, "phone"),
                        f"phone {office.phone!r} has no digits, so the call button cannot dial",
                        "write the number, e.g. 018-000-0000")
    for i, line in enumerate(c.content.safety.crisis_lines):
        if not any(ch.isdigit() for ch in line.phone):
            yield error(SAFETY, (f"crisis line {line.name!r}",
                                 c.line(SAFETY, "crisis_lines", i, "phone")),
                        f"phone {line.phone!r} has no digits, so the call button cannot dial",
                        "write the number, e.g. 0120-000-000")


# The longest address TSUNAGU_PUBLIC_URL may be: the check holds for every deployment.
LONGEST_PUBLIC_URL = "https://" + "x" * (MAX_PUBLIC_URL - len("https://"))


def longest_answers(content: Content) -> list[dict[str, str]]:
    """Return, for each way through the flow, its answers with the longest value each."""
    found = []
    for branch in content.flow.branches():
        found.append({step.id: max(content.municipalities if values is None else values,
                                   key=lambda value: len(value.encode()), default="")
                      for step, values in branch})
    return found


@check
def page_links_fit_line(c: Context) -> Iterator[Problem]:
    for key in ("page_button", "share_button"):
        label = c.content.message(key)
        if len(label) > MAX_LABEL:
            yield error(MESSAGES, c.message(key),
                        f"the button label {label!r} is {len(label)} characters; LINE shows at "
                        f"most {MAX_LABEL}", f"shorten it to {MAX_LABEL} characters")
    share_text = c.content.message("share_text")
    if "{url}" not in share_text:
        yield error(MESSAGES, c.message("share_text"),
                    "has no {url}, so what the person sends on LINE has no link to the page",
                    "add {url} where the page's address goes")
        return
    links = Links("the key changes no length", LONGEST_PUBLIC_URL)
    answers = max(longest_answers(c.content), default={},
                  key=lambda given: len(links.page_url(c.content.bundle_id, given)))
    page = links.page_url(c.content.bundle_id, answers)
    if len(page) > MAX_URI:
        yield error(FLOW_FILE, ("questions", None),
                    f"with the longest answers ({describe(c.content, answers)}) the link to the "
                    f"referral's page is {len(page)} characters; LINE takes at most {MAX_URI}, "
                    "so the referral would have no page button",
                    "shorten the questions' ids and the options' values")
        return
    share = _built(lambda: share_uri(c.content.message("share_text", url=page)))
    if len(share) > MAX_URI:
        each = len(share_uri("あ")) - len(share_uri(""))  # a Japanese character, URL-encoded
        room = (MAX_URI - len(share_uri(page))) // each
        yield error(MESSAGES, c.message("share_text"),
                    f"with the longest answers and a {MAX_PUBLIC_URL}-character "
                    f"TSUNAGU_PUBLIC_URL, the LINE link that sends it is {len(share)} "
                    f"characters (each Japanese character takes {each}); LINE takes at most "
                    f"{MAX_URI}, so the referral would have no share button",
                    f"keep it to about {room} Japanese characters besides {{url}}")
