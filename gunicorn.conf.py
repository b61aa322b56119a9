"""Production settings for `gunicorn wsgi:app` (each can be overridden by environment)."""

import os

from bot.settings import ConfigError, read

os.environ.setdefault("TSUNAGU_ENV", "production")  # refuse to start without LINE settings
try:
    settings = read()
except ConfigError as err:
    raise SystemExit(f"tsunagu: {err}") from None

bind = settings.TSUNAGU_BIND
# With the reply queue (TSUNAGU_REDIS_URL), an event holds its thread only for its own
# milliseconds of CPU and database work, and few threads contend least for the GIL: 2 x 8
# measured best. Without it, the thread also waits ~100 ms on LINE's reply API before the
# webhook answers: at 450 events/s ~50 threads wait at once, and 2 x 32 measured best
# (docs/performance.md).
workers = settings.TSUNAGU_WORKERS
# gunicorn's gthread worker, with a deadline for reading each request: a slow client cannot
# hold a thread (bot/server.py).
worker_class = "bot.server.ThreadWorker"
threads = settings.threads
# LINE gives a webhook 2 seconds; anything far past that is lost anyway.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
# The access log never shows query strings or bodies; LINE sends user ids only in bodies.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = settings.TSUNAGU_LOG_LEVEL


def post_worker_init(worker):
    """Keep the loaded app out of the garbage collector's full passes."""
    # The app, Flask, SQLAlchemy and the LINE SDK's models live as long as the worker; without
    # this, each full collection walks them all and stalls every thread for tens of ms.
    import gc

    gc.freeze()
