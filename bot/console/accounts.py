"""Console accounts: argon2 password hashes, roles, and the `tsunagu users` commands."""

from __future__ import annotations

import functools
import getpass
import re
import sys
from pathlib import Path

import click
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from bot import clock
from bot.db.audit import record
from bot.db.database import transaction
from bot.db.models import ConsoleUser

# Lowest first: each role may do everything the ones before it may.
ROLES = ("counselor", "editor", "admin")
ROLE_NAMES = {"counselor": "相談員", "editor": "編集者", "admin": "管理者"}
MIN_PASSWORD, MAX_PASSWORD = 12, 1024
# Letters, digits, ".", "_" and "-": a name is part of a page's address and of the audit log.
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
COMMON = Path(__file__).parent / "passwords" / "common.txt"
_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = _hasher.hash("not a password of anyone")


class AccountError(click.ClickException):
    """An account change that cannot be made; the message says why."""


def at_least(role: str, needed: str) -> bool:
    """Tell whether a role may do what `needed` may."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lowercased (passwords/README.md)."""
    return frozenset(COMMON.read_text(encoding="utf-8").split())


def password_problem(name: str, password: str) -> str | None:
    """Say, in Japanese, why a password would be easy to guess (None if it is fine)."""
    if len(password) < MIN_PASSWORD:
        return f"パスワードは {MIN_PASSWORD} 文字以上にしてください。"
    if len(password) > MAX_PASSWORD:
        return f"パスワードは {MAX_PASSWORD:,} 文字までにしてください。"
    if len(set(password)) == 1:
        return "同じ文字をくり返しただけのパスワードは使えません。"
    lowered = password.lower()
    if name and name.lower() in lowered:
        return "アカウント名を含むパスワードは使えません。"
    # "password1234" is "password" with digits added: check the stem too.
    stem = lowered.rstrip("0123456789!?#$%&*+-._@ ")
    if lowered in common_passwords() or stem in common_passwords():
        return "よく使われているパスワードです。ほかの人が思いつかないものにしてください。"
    return None


def hash_password(password: str, name: str = "") -> str:
    """Return the argon2id hash of a password; raise AccountError if it is easy to guess."""
    problem = password_problem(name, password)
    if problem:
        raise AccountError(problem)
    return _hasher.hash(password)


def verify(user: ConsoleUser | None, password: str) -> bool:
    """Tell whether the password is this (enabled) user's."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and not user.disabled


def find(session, name: str) -> ConsoleUser | None:
    """Return the account of this name, or None."""
    return session.scalars(select(ConsoleUser).where(ConsoleUser.name == name)).one_or_none()


def add(name: str, role: str, password: str, who: str) -> None:
    """Create an account (audited); raise AccountError if the name is taken."""
    if role not in ROLES:
        raise AccountError(f"役割は {'・'.join(ROLES)} のどれかです。")
    if not NAME.fullmatch(name):
        raise AccountError("名前は半角の英字・数字と「.」「_」「-」で、1〜64 文字にしてください。")
    hashed = hash_password(password, name)
    with transaction() as session:
        if find(session, name) is not None:
            raise AccountError(f"{name} という名前のアカウントはすでにあります。")
        session.add(ConsoleUser(name=name, role=role, password_hash=hashed,
                                created_at=clock.now()))
        record(session, who, "user_add", f"{name} ({role})")


def end_sessions(user_id: int) -> None:
    """End every session of an account, wherever it is open (a copied cookie too)."""
    with transaction() as session:
        user = session.get(ConsoleUser, user_id)
        if user is not None:
            user.session_epoch += 1


def set_disabled(name: str, disabled: bool, who: str) -> None:
    """Disable (or enable) an account (audited)."""
    with transaction() as session:
        user = _existing(session, name)
        user.disabled = disabled
        user.session_epoch += 1
        record(session, who, "user_disable" if disabled else "user_enable", name)


def set_password(name: str, password: str, who: str) -> None:
    """Give an account a new password (audited)."""
    hashed = hash_password(password, name)
    with transaction() as session:
        user = _existing(session, name)
        user.password_hash = hashed
        user.session_epoch += 1  # a password changed because it leaked: end its sessions
        record(session, who, "user_passwd", name)


def set_role(name: str, role: str, who: str) -> None:
    """Give an account another role (audited)."""
    if role not in ROLES:
        raise AccountError(f"役割は {'・'.join(ROLES)} のどれかです。")
    with transaction() as session:
        user = _existing(session, name)
        record(session, who, "user_role", f"{name}: {user.role} -> {role}")
        user.role = role


def listing() -> list[ConsoleUser]:
    """Return every account, by name."""
    with transaction() as session:
        return list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.name)))


def _existing(session, name: str) -> ConsoleUser:
    user = find(session, name)
    if user is None:
        raise AccountError(f"{name} という名前のアカウントはありません。")
    return user


def _operator() -> str:
    # Account commands are run on the server: the audit names the operating-system user.
    return f"cli:{getpass.getuser()}"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("パスワード", hide_input=True, confirmation_prompt="もう一度")


users_cli = AppGroup("users", help="Manage the console's accounts.")


@users_cli.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="役割。")
@click.option("--password-stdin", is_flag=True, help="パスワードを標準入力の 1 行から読む。")
def add_command(name: str, role: str, password_stdin: bool) -> None:
    """Create a console account."""
    add(name, role, _read_password(password_stdin), _operator())
    click.echo(f"{name}（{ROLE_NAMES[role]}）を作りました。")


@users_cli.command("list")
def list_command() -> None:
    """List the console accounts."""
    for user in listing():
        state = "無効" if user.disabled else "有効"
        click.echo(f"{user.name:<20}  {user.role:<9}  {state}  "
                   f"最終ログイン {clock.staff_time(user.last_login_at)}")


@users_cli.command("disable")
@click.argument("name")
def disable_command(name: str) -> None:
    """Disable a console account (it can no longer log in)."""
    set_disabled(name, True, _operator())
    click.echo(f"{name} を無効にしました。")


@users_cli.command("enable")
@click.argument("name")
def enable_command(name: str) -> None:
    """Enable a disabled console account again."""
    set_disabled(name, False, _operator())
    click.echo(f"{name} を有効にしました。")


@users_cli.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="パスワードを標準入力の 1 行から読む。")
def passwd_command(name: str, password_stdin: bool) -> None:
    """Set a console account's password."""
    set_password(name, _read_password(password_stdin), _operator())
    click.echo(f"{name} のパスワードを変えました。")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)

