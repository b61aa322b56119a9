"""Console helpers: accounts made directly, and logging in through the form as a browser does."""

from __future__ import annotations

import re

from bot.console import accounts

PASSWORD = "correct horse battery"


def make_account(app, name: str, role: str, password: str = PASSWORD) -> None:
    """Create a console account (audited as the test)."""
    with app.app_context():
        accounts.add(name, role, password, "test")


def csrf_of(response) -> str:
    """Return the CSRF token of the first form in a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client, name: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    """Log in through the login form; return the response to the form's POST."""
    env = {"REMOTE_ADDR": address}
    token = csrf_of(client.get("/admin/login", environ_base=env))
    return client.post("/admin/login", data={"name": name, "password": password,
                                             "csrf_token": token}, environ_base=env)


def post_form(client, page: str, action: str, **data):
    """Post a form of a page with that page's CSRF token."""
    token = csrf_of(client.get(page))
    return client.post(action, data={"csrf_token": token, **data})
