"""Real servers for tests that need real sockets: gunicorn in its own process, as in production."""

from __future__ import annotations

import functools
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.support.apps import APP_SETTINGS
from tests.support.events import wait_until
from tests.support.paths import ROOT


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serving(url: str, process: subprocess.Popen, log: Path) -> bool:
    """Tell whether the server answers /healthz; fail at once if it has exited."""
    if process.poll() is not None:
        raise AssertionError(f"gunicorn exited:\n{log.read_text()}")
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(app, log: Path, workers: int = 1, threads: int = 4,
             **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `gunicorn wsgi:app` (with gunicorn.conf.py) on the app's database; yield URL, process."""
    url = f"http://127.0.0.1:{free_port()}"
    settings = {key: str(app.config[key]) for key in APP_SETTINGS}
    environ = {**os.environ, **settings, "TSUNAGU_BIND": url.removeprefix("http://"),
               "TSUNAGU_WORKERS": str(workers), "TSUNAGU_THREADS": str(threads),
               "TSUNAGU_TRUSTED_HOSTS": "127.0.0.1", **env}
    with log.open("w") as out:  # the child keeps its own copy of the file
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT,
                                   env=environ, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(functools.partial(serving, url, process, log), timeout=30, step=0.1)
        yield url, process
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        process.wait(timeout=30)


class Browser:
    """One browser's cookie and the login form's CSRF token, over a real connection."""

    def __init__(self, url: str) -> None:
        self.netloc = urlsplit(url).netloc
        connection = self.connection()
        connection.request("GET", "/admin/login")
        response = connection.getresponse()
        page = response.read().decode()
        self.cookie = response.getheader("Set-Cookie", "").split(";")[0]
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        connection.close()

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.netloc, timeout=60)

    def log_in(self, name: str, password: str,
               connection: http.client.HTTPConnection | None = None) -> tuple[int, str]:
        """Post the login form; return the status and the page."""
        connection = connection or self.connection()
        body = urlencode({"name": name, "password": password, "csrf_token": self.token})
        connection.request("POST", "/admin/login", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie})
        response = connection.getresponse()
        page = response.read().decode()
        connection.close()
        return response.status, page
