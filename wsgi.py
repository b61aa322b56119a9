"""The WSGI entry point: `gunicorn wsgi:app`."""

from bot import create_app
from bot.content.files import ContentError
from bot.settings import HOW_TO_CONNECT, ConfigError

try:
    app = create_app()
except (ConfigError, ContentError) as err:
    raise SystemExit(f"tsunagu: {err}") from None
if not app.config["LINE_CONNECTED"]:
    app.logger.warning(HOW_TO_CONNECT)
