"""The page's blueprint at /r/: a referral's own page, or a kind page when its link shows none."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template, request

from bot.console.web import SECURITY_HEADERS
from bot.content.source import content_source
from bot.referrals.links import PAGE_PATH, Expired, LinkError, Links
from bot.sheet.page import sheet

_KEY = "tsunagu.sheet.links"
blueprint = Blueprint("sheet", __name__, url_prefix=PAGE_PATH.rstrip("/"),
                      template_folder="templates", static_folder="static/sheet",
                      static_url_path="/assets")
# What the kind page says, by its status: a link too old, or one that is not (or no longer) ours.
SORRY = {
    410: ("このご案内のページは、有効期限が切れています",
          "ご案内のページは、作られてから90日のあいだ開けます。LINEのトークで「最初から」を押して"
          "質問に答えると、新しいご案内とページをお届けします。"),
    404: ("このご案内のページは開けません",
          "アドレスが途中で切れているか、変わっているようです。LINEのトークにあるボタンから、"
          "もう一度開いてください。開けないときは「最初から」を押して質問に答えると、新しい"
          "ご案内とページをお届けします。"),
}


@blueprint.get("/<token>")
def page(token: str):
    """Show the referral a link carries (made again from its answers), or say kindly why not."""
    try:
        signed = current_app.extensions[_KEY].read(token)
    except Expired:
        return sorry(410)
    except LinkError:
        return sorry(404)
    public = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    shown = sheet(content_source(), signed, f"{public}{PAGE_PATH}{token}")
    return render_template("sheet/page.html", sheet=shown)


@blueprint.get("/")
@blueprint.get("/<path:_rest>")
def nothing_here(_rest: str = ""):
    return sorry(404)


def sorry(code: int):
    """Return the kind page of a link that shows no referral, with its status."""
    title, text = SORRY[code]
    return render_template("sheet/sorry.html", title=title, text=text), code


@blueprint.after_request
def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    # A person's answers are no search engine's business, and no cache's on a shared
    # computer (the stylesheet may be kept).
    response.headers["X-Robots-Tag"] = "noindex"
    if request.endpoint != "sheet.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Serve the referrals' own pages at /r/ (links made before a restart still open)."""
    app.extensions[_KEY] = Links(app.config["TSUNAGU_SECRET_KEY"],
                                 app.config.get("PUBLIC_URL") or "")
    app.register_blueprint(blueprint)
