"""Chat with the questionnaire in a terminal (`tsunagu simulate`), as the person on LINE would.

Each answer goes through the engine LINE's webhook uses (`Dialogue.respond`) and each reply is
rendered by the same `Renderer` into the very messages LINE is sent; this module only turns
those messages into terminal text. A number taps that quick-reply button (its postback);
anything else is a typed LINE message. The conversation lives in local variables: nothing is
stored, and no LINE settings are needed. The draft's files saved in the console are read
from the database (`library.read_draft`), published versions too (`--version`); `--root`
reads a folder alone, no database.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator

import click
from flask import Flask, current_app, has_app_context
from flask.cli import ScriptInfo

from bot import settings
from bot.content import bundle
from bot.content.schema import Content
from bot.studio.checks import problems

PROMPT = "> "
WELCOME = ("LINE と同じしくみで、質問をお試しいただけます。ボタンは番号で選び、"
           "それ以外は文字で入力してください（LINE のメッセージと同じように読み取ります）。")
HOW_TO_END = "終えるときは Ctrl-D を押してください。"
UNKNOWN_NUMBER = ("{number}番のボタンはありません。"
                  "1〜{count}の番号を選ぶか、文字で入力してください。")
REFERRAL_MADE = ("（ご案内は以上です。続けて入力すると、LINE と同じように続きます。"
                 "終えるときは Ctrl-D を押してください。）")
CARD_TOP, CARD_BOTTOM = "┌" + "─" * 24, "└" + "─" * 24
NEEDS_FIXING = ("ご注意：この内容には `tsunagu check` の指摘が{count}件あります。"
                "このままでは LINE では使えません。")


def _flex(node: dict) -> list[str]:
    """Return the lines a Flex container or component shows, in order."""
    kind = node.get("type")
    if kind == "carousel":
        return [line for bubble in node.get("contents", []) for line in _flex(bubble)]
    if kind == "bubble":  # a card: framed, so it reads apart from the text messages
        inner = [line for part in ("header", "hero", "body", "footer") if part in node
                 for line in _flex(node[part])]
        return [CARD_TOP, *("│ " + line for line in inner), CARD_BOTTOM]
    if kind == "box":
        return [line for child in node.get("contents", []) for line in _flex(child)]
    if kind == "text":
        text = node.get("text", "").splitlines() or [""]
        if node.get("weight") == "bold":  # a card's or line's name heads its details
            return ["■ " + text[0], *("  " + line for line in text[1:])]
        return ["  " + line for line in text]
    if kind == "button":
        return ["  " + _action(node.get("action", {}))]
    return []


def _action(action: dict) -> str:
    """Return what a Flex button does, as the person would use it from a terminal."""
    uri = action.get("uri", "")
    if uri.startswith("tel:"):
        return "TEL " + uri.removeprefix("tel:")
    return uri or action.get("label", "")


def message_lines(message: dict) -> list[str]:
    """Return the lines of one LINE message (as sent to LINE) for a terminal."""
    if message.get("type") == "text":
        return message.get("text", "").splitlines() or [""]
    if message.get("type") == "flex":
        return _flex(message.get("contents", {}))
    return [f"（{message.get('type')} のメッセージ）"]


def button_lines(buttons: list[dict]) -> list[str]:
    """Return the quick-reply buttons as numbered options."""
    return [f"  {number}) {item['action'].get('label', '')}"
            for number, item in enumerate(buttons, 1)]


class Session:
    """One conversation, kept in memory and answered exactly as the webhook answers it."""

    def __init__(self, content: Content, values: dict[str, str]) -> None:
        # Imported here: the LINE SDK takes a second to import, and other commands need none.
        from bot.dialogue import engine
        from bot.line.render import Renderer

        self.engine = engine
        self.content = content
        self.dialogue = engine.Dialogue(content)
        self.renderer = Renderer(content, values)
        self.conv: tuple[str, dict] | None = None
        self.buttons: list[dict] = []  # the quick replies under the last message

    def send(self, inp) -> tuple[list[dict], bool]:
        """Answer one input; return the messages LINE would be sent and whether it referred."""
        # No clock here (since=None): a tap is never taken for a double tap of the one before.
        outcome = self.dialogue.respond(self.conv, inp, since=None)
        self.conv = (outcome.state, outcome.answers) if outcome.state is not None else None
        if not outcome.says:
            return [], False
        messages = self.renderer.render(outcome.says)
        self.buttons = messages[-1].get("quickReply", {}).get("items", [])
        return messages, outcome.referral is not None

    def follow(self) -> tuple[list[dict], bool]:
        return self.send(self.engine.Follow())

    def takes_a_number(self) -> bool:
        """Tell whether the question asked now reads a typed number (an age)."""
        step = self.content.flow.step(self.conv[0]) if self.conv else None
        return step is not None and step.kind == "age"

    def understand(self, typed: str):
        """Return the input a line means (a tap for a button's number), or None if none."""
        plain = unicodedata.normalize("NFKC", typed).strip()
        if plain.isascii() and plain.isdigit():
            number = int(plain)
            if 1 <= number <= len(self.buttons):
                action = self.buttons[number - 1]["action"]
                if action.get("type") == "postback":
                    return self.engine.Postback(action["data"])
                return self.engine.Text(action.get("text", action.get("label", "")))
            if not self.takes_a_number():  # 42 at the age question is an age, as on LINE
                return None
        return self.engine.Text(typed)

    def label(self, typed: str) -> str | None:
        """Return the label of the button a line taps, if it taps one."""
        plain = unicodedata.normalize("NFKC", typed).strip()
        if plain.isascii() and plain.isdigit() and 1 <= int(plain) <= len(self.buttons):
            return self.buttons[int(plain) - 1]["action"].get("label")
        return None


def _app() -> Flask:
    """Return the app of this command (built now if the group has not built it)."""
    if has_app_context():
        return current_app._get_current_object()
    return click.get_current_context().ensure_object(ScriptInfo).load_app()


def _content(root: str | None, number: int | None) -> tuple[Content, dict[str, str], str]:
    """Return the content to try, the deployment's values its messages name, and its source."""
    from bot.studio import library

    if number is not None:
        app = _app()
        keep = app.config["KEEP_REFERRAL_YEARS"]
        return library.version(app, number), {"keep_years": str(keep)}, f"公開した版 {number}"
    keep = (current_app.config["KEEP_REFERRAL_YEARS"] if has_app_context()
            else settings.read().TSUNAGU_KEEP_REFERRAL_YEARS)
    draft = library.read_draft(root)
    content_dir, flows_dir = draft.folders
    source = f"下書き {content_dir}, {flows_dir}"
    if draft.saved:
        source += f" とコンソールで保存した {len(draft.saved)} ファイル（{'、'.join(draft.saved)}）"
    # The same values the runtime gives the renderer (bot.line.runtime.init_app).
    return bundle.parse(draft.files), {"keep_years": str(keep)}, source


def _lines(interactive: bool) -> Iterator[str]:
    """Yield the person's answers: typed at a prompt, or one a line from stdin."""
    if interactive:
        try:
            import readline  # noqa: F401  (line editing for input(), where the platform has it)
        except ImportError:
            pass
        while True:
            try:
                yield input(PROMPT)
            except EOFError:
                click.echo()
                return
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def _show(messages: list[dict], buttons: list[dict]) -> None:
    for message in messages:
        click.echo()
        click.echo("\n".join(message_lines(message)))
    if messages and buttons:
        click.echo("\n".join(button_lines(buttons)))


@click.command("simulate")
@click.option("--root", type=click.Path(exists=True, file_okay=False),
              help="Try ROOT/content and ROOT/flows alone: no database is read "
                   "(default: the draft).")
@click.option("--version", "number", type=int,
              help="Try published version N from the database.")
def simulate_command(root: str | None, number: int | None) -> None:
    """Chat with the questionnaire in the terminal, as on LINE (one answer a line if piped).

    It tries the draft, unless --root or --version says otherwise: what the console shows,
    the configured folders (TSUNAGU_CONTENT_DIR, TSUNAGU_FLOWS_DIR) with the files editors
    saved in the console over them, read from the database (DATABASE_URL; one never
    upgraded has none). No LINE settings are needed.
    """
    if root is not None and number is not None:
        raise click.UsageError("give --root or --version, not both")
    content, values, source = _content(root, number)
    interactive = sys.stdin.isatty()
    click.echo(WELCOME + (HOW_TO_END if interactive else ""))
    click.echo(f"お試しする内容：{source}（{content.bundle_id}）")
    if found := problems(content):
        click.echo(NEEDS_FIXING.format(count=len(found)), err=True)
    session = Session(content, values)
    messages, _ = session.follow()
    _show(messages, session.buttons)
    try:
        for typed in _lines(interactive):
            if not interactive:
                label = session.label(typed)
                click.echo()
                click.echo(PROMPT + typed + (f"（{label}）" if label else ""))
            if not typed.strip():
                continue  # LINE sends no empty message
            inp = session.understand(typed)
            if inp is None:
                click.echo()
                click.echo(UNKNOWN_NUMBER.format(number=typed.strip(),
                                                 count=len(session.buttons)))
                click.echo("\n".join(button_lines(session.buttons)))
                continue
            messages, referred = session.send(inp)
            _show(messages, session.buttons)
            if referred and interactive:
                click.echo()
                click.echo(REFERRAL_MADE)
    except KeyboardInterrupt:  # Ctrl-C ends it as Ctrl-D does
        click.echo()
