"""The WSGI entry point: `gunicorn wsgi:app`."""

from bot import create_app
from bot.config import HOW_TO_CONNECT, ConfigError
from bot.content import ContentError

try:
    app = create_app()
except (ConfigError, ContentError) as err:
    raise SystemExit(f"tsunagu: {err}") from None
if not app.config["LINE_CONNECTED"]:
    app.logger.warning(HOW_TO_CONNECT)
