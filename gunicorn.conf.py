"""Production settings for `gunicorn wsgi:app` (each can be overridden by environment)."""

import multiprocessing
import os

os.environ.setdefault("TSUNAGU_ENV", "production")  # refuse to start without LINE settings

bind = os.environ.get("TSUNAGU_BIND", "0.0.0.0:8000")
# With the reply queue (TSUNAGU_REDIS_URL), an event holds its thread only for its own
# milliseconds of CPU and database work, and few threads contend least for the GIL: 2 x 8
# measured best. Without it, the thread also waits ~100 ms on LINE's reply API before the
# webhook answers: at 450 events/s ~50 threads wait at once, and 2 x 32 measured best
# (docs/performance.md).
workers = int(os.environ.get("TSUNAGU_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("TSUNAGU_THREADS",
                             "8" if os.environ.get("TSUNAGU_REDIS_URL") else "32"))
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
loglevel = os.environ.get("TSUNAGU_LOG_LEVEL", "info")


def post_worker_init(worker):
    """Keep the loaded app out of the garbage collector's full passes."""
    # The app, Flask, SQLAlchemy and the LINE SDK's models live as long as the worker; without
    # this, each full collection walks them all and stalls every thread for tens of ms.
    import gc

    gc.freeze()
