"""Apps under test: connected to the LINE stand-in, on a database of the test's own."""

from __future__ import annotations

import os

from flask.testing import FlaskClient

from bot import create_app
from bot.db.database import database
from bot.db.models import Base
from bot.settings import LOCAL_HOSTS
from tests.support.line_api import LineApi
from tests.support.line_user import SECRET, TOKEN

# Set TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test to run on PostgreSQL.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


class ServerLikeClient(FlaskClient):
    """A test client that reads and closes each response as a WSGI server does."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def make_app(database_url: str, line_api: LineApi, **config):
    """Create the app connected to the LINE stand-in, on this database, with its tables."""
    app = create_app({
        "DATABASE_URL": database_url,
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": line_api.url,
        "LINE_API_DATA_BASE_URL": line_api.data_url,
        "TSUNAGU_SECRET_KEY": "test-secret-key",
        "LINE_CONNECTED": True,
        "TESTING": True,
        "TRUSTED_HOSTS": list(LOCAL_HOSTS),  # the test client's Host is localhost
        **config,
    })
    app.test_client_class = ServerLikeClient
    Base.metadata.create_all(database(app).engine)
    return app


# The settings another worker needs to be the same bot on the same database; the environment
# variables have the same names.
APP_SETTINGS = ("DATABASE_URL", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN",
                "LINE_API_BASE_URL", "LINE_API_DATA_BASE_URL", "TSUNAGU_SECRET_KEY",
                "LINE_REPLY_BUDGET")


def twin_app(app, database_url: str | None = None):
    """Build another app (another worker) with this one's settings, on this database URL."""
    settings = {key: app.config[key] for key in APP_SETTINGS}
    twin = create_app({**settings, "DATABASE_URL": database_url or app.config["DATABASE_URL"],
                       "TESTING": True})
    twin.test_client_class = app.test_client_class  # read and close responses alike
    return twin
