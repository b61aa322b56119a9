"""Slow clients: a request that stops halfway, or trickles, cannot keep the bot from answering."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from bot.server import DeadlineSocket
from tests.support.line_user import sign
from tests.support.servers import gunicorn

READ_TIMEOUT = 2.0


def healthz_seconds(url: str) -> float:
    """Return how long GET /healthz took to answer 200."""
    start = time.monotonic()
    with urllib.request.urlopen(f"{url}/healthz", timeout=30) as response:
        assert response.status == 200
    return time.monotonic() - start


def stalled(url: str, body: bytes = b'{"desti') -> socket.socket:
    """Open a connection that sends the headers and a few bytes of the body, then nothing."""
    sock = socket.create_connection(urlsplit(url)[1].split(":"), timeout=30)
    sock.sendall(b"POST /callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 b"application/json\r\nContent-Length: 1000\r\nX-Line-Signature: x\r\n\r\n"
                 + body)
    return sock


@pytest.fixture
def server(app, tmp_path):
    """Run the app as production does, with one worker of two threads (the issue's 1 x 2)."""
    with gunicorn(app, tmp_path / "gunicorn.log", workers=1, threads=2,
                  TSUNAGU_READ_TIMEOUT=str(READ_TIMEOUT)) as (url, _):
        yield url


def test_two_stalled_requests_do_not_stop_healthz(server):
    sockets = [stalled(server) for _ in range(2)]
    time.sleep(0.5)  # both threads are now reading a body that never comes
    try:
        took = healthz_seconds(server)
        assert took < READ_TIMEOUT + 3, f"/healthz took {took:.1f} s"
        for sock in sockets:  # and the stalled requests were refused, acting on nothing
            sock.settimeout(5)
            answer = sock.recv(100)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer
    finally:
        for sock in sockets:
            sock.close()


def test_a_trickling_request_is_cut_at_the_deadline(server):
    stop = threading.Event()
    socks = [stalled(server, b"") for _ in range(2)]

    def trickle(sock: socket.socket) -> None:
        # One byte every 0.3 s: each read has data, so only a deadline for the whole
        # request can end it.
        while not stop.is_set():
            try:
                sock.sendall(b" ")
            except OSError:
                return
            time.sleep(0.3)

    threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in socks]
    for thread in threads:
        thread.start()
    try:
        took = healthz_seconds(server)
        assert took < READ_TIMEOUT + 3, f"/healthz took {took:.1f} s"
    finally:
        stop.set()
        for sock in socks:
            sock.close()


def test_a_webhook_sent_whole_is_still_answered(server, line_user):
    body = b'{"destination":"U0","events":[]}'
    sock = socket.create_connection(urlsplit(server)[1].split(":"), timeout=30)
    sock.sendall(b"POST /callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 b"application/json\r\nContent-Length: " + str(len(body)).encode()
                 + b"\r\nX-Line-Signature: " + sign(body.decode()).encode() + b"\r\n\r\n")
    time.sleep(READ_TIMEOUT / 2)  # slow, but within the deadline
    sock.sendall(body)
    assert sock.recv(100).startswith(b"HTTP/1.1 200")
    sock.close()


class FakeSocket:
    """A socket that has sent `chunks` and then waits (as a stalled client's does)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.timeout: float | None = None

    def settimeout(self, value):
        self.timeout = value

    def gettimeout(self):
        return self.timeout

    def recv(self, size: int, *flags) -> bytes:
        if self.chunks:
            return self.chunks.pop(0)
        time.sleep(min(self.timeout or 0.05, 0.05))
        raise TimeoutError


def test_the_deadline_socket_ends_reads_past_the_deadline():
    sock = DeadlineSocket(FakeSocket([b"GET", b" /"]), read_timeout=0.2, write_timeout=7)
    sock.start()
    assert sock.recv(10) == b"GET"
    assert sock.recv(10) == b" /"
    assert sock.recv(10) == b""  # nothing came in time: as if closed
    time.sleep(0.25)
    assert sock.recv(10) == b""
    sock.setblocking(True)
    assert sock._sock.timeout == 7  # sending has the write timeout, never none
