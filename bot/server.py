"""The app's own server: gunicorn's threaded worker, with a deadline for reading each request.

gunicorn's gthread worker hands a connection to a thread as soon as its first bytes arrive, and
the thread then reads the rest of the request with no time limit: a client that sends its
headers and a few bytes of its body, then nothing, holds a thread for ever, and a few of them
stop the worker answering anyone (LINE's webhooks included). Here every request must arrive
whole within `TSUNAGU_READ_TIMEOUT` seconds of its first byte; past that the client is taken
to have gone, its connection is closed and the thread is free. Sending a response has
gunicorn's `timeout`. A buffering reverse proxy in front (README, 本番環境) protects more.

`gunicorn.conf.py` uses `worker_class = "bot.server.ThreadWorker"`.
"""

from __future__ import annotations

import errno
import math
import socket
import time

from gunicorn.workers import gthread

from bot import settings


class DeadlineSocket:
    """A client socket whose reads end at the request's deadline, as if the client had closed."""

    def __init__(self, sock: socket.socket, read_timeout: float, write_timeout: float) -> None:
        self._sock = sock
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.deadline = math.inf

    def __getattr__(self, name: str):
        return getattr(self._sock, name)

    def start(self) -> None:
        """Start the clock of one request: it must be read whole within read_timeout."""
        self.deadline = time.monotonic() + self.read_timeout

    def setblocking(self, flag: bool) -> None:
        # gunicorn's threads read and write in blocking mode; blocking here means "with a
        # time limit", never for ever.
        self._sock.settimeout(self.write_timeout if flag else 0.0)

    def recv(self, size: int, *flags: int) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0:
            return b""  # the request's time is up: as if the client had closed
        blocking = self._sock.gettimeout() != 0.0
        if blocking:
            self._sock.settimeout(left)
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            return b""
        finally:
            if blocking:
                self._sock.settimeout(self.write_timeout)


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker whose connections read within a deadline (DeadlineSocket)."""

    def init_process(self) -> None:
        self.read_timeout = settings.read().TSUNAGU_READ_TIMEOUT
        super().init_process()

    def accept(self, listener) -> None:
        """Accept a connection as gunicorn does, its socket given a read deadline."""
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            sock = client_sock
            if not self.cfg.is_ssl:  # TLS needs the socket itself: terminate it in the proxy
                sock = DeadlineSocket(client_sock, self.read_timeout, self.cfg.timeout)
            conn = gthread.TConn(self.cfg, sock, client_addr, listener.getsockname())
            self.enqueue_req(conn)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle(self, conn):
        """Handle one request on a connection, its reading bounded by the deadline."""
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.start()
        return super().handle(conn)
