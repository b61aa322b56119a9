"""`tsunagu richmenu`: the rich menu checked, drawn, deployed once per change, and shown.

Against the LINE stand-in, with the data host (api-data.line.me) on a server of its own, so an
image sent to the API host would be refused as LINE refuses it.
"""

from __future__ import annotations

import io
import shutil

import pytest
from click.testing import CliRunner
from PIL import Image, ImageFilter
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.content import bundle
from bot.content.schema import Bounds, MenuArea, RichMenu
from bot.content.source import content_source
from bot.db.database import database, transaction
from bot.db.models import AuditEntry, RichMenuDeployment
from bot.line.limits import MAX_MENU_IMAGE_BYTES
from bot.operator import menu_image, richmenu
from bot.studio.checks import check_command, examine, require_fine
from tests.support.apps import make_app
from tests.support.line_api import (
    DATA_HOST,
    DEFAULT_RICHMENU_PATH,
    RICHMENU_IMAGE_PATH,
    RICHMENU_PATH,
    RICHMENU_VALIDATE_PATH,
    LineApi,
)
from tests.support.line_user import TOKEN
from tests.support.paths import ROOT

MENU = "content/richmenu.yaml"
LONG_LABEL = "このサービスについてくわしく知りたい方はこちら"  # 23 characters; LINE takes 20


@pytest.fixture(scope="module")
def data_host():
    """Serve LINE's data host on a server of its own (stopping one takes half a second)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def data_server(data_host):
    yield data_host
    data_host.clear()


@pytest.fixture
def line_api(httpserver, data_server):
    api = LineApi(httpserver, token=TOKEN, data_server=data_server)
    yield api
    assert api.violations == [], "the bot sent LINE a request it would reject"


@pytest.fixture
def root(tmp_path):
    """Copy the shipped content and flows into a draft of this test's own."""
    for name in ("content", "flows"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def deploy(runner, *args: str):
    return runner.invoke(args=["richmenu", "deploy", "--who", "tester", *args])


def deployments(app) -> list[RichMenuDeployment]:
    with transaction(app) as session:
        return list(session.scalars(select(RichMenuDeployment).order_by(RichMenuDeployment.id)))


def menu_with(**changes) -> RichMenu:
    """Return the shipped menu with some fields changed."""
    shipped = bundle.load(ROOT / "content", ROOT / "flows").richmenu
    return shipped.model_copy(update=changes)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#1B6B5A").save(out, format="PNG")
    return out.getvalue()


# ---- deploying ----------------------------------------------------------------------------

def test_deploy_creates_the_menu_uploads_its_image_and_makes_it_the_default(
        app, runner, line_api):
    result = deploy(runner)
    assert result.exit_code == 0, result.output

    (menu_id, menu), = line_api.richmenus.items()
    assert line_api.default_richmenu == menu_id
    assert f"Deployed the rich menu {menu_id} (6 areas" in result.output
    assert (menu["size"], menu["chatBarText"], menu["selected"]) == (
        {"width": 2500, "height": 1686}, "メニュー", True)
    first = menu["areas"][0]
    assert first == {"bounds": {"x": 0, "y": 0, "width": 833, "height": 843},
                     "action": {"type": "postback", "label": "相談をはじめる",
                                "data": "m=questionnaire&a=1", "displayText": "相談をはじめる"}}
    # Each area's number rides along, so its taps are counted per area.
    assert [a["action"]["data"] for a in menu["areas"]] == [
        "m=questionnaire&a=1", "m=finder&a=2", "m=events&a=3", "m=crisis&a=4", "m=handoff&a=5",
        "m=about&a=6"]
    kind, image = line_api.images[menu_id]
    assert kind == "image/png"
    with Image.open(io.BytesIO(image)) as drawn:
        assert (drawn.format, drawn.size) == ("PNG", (2500, 1686))
    upload, = line_api.calls("POST", RICHMENU_IMAGE_PATH)
    assert upload.host == DATA_HOST  # LINE takes images only on its data host
    assert [c.path for c in line_api.requests] == [
        RICHMENU_VALIDATE_PATH, RICHMENU_PATH, upload.path, f"{DEFAULT_RICHMENU_PATH}/{menu_id}"]

    row, = deployments(app)
    assert (row.rich_menu_id, row.deployed_by, row.deleted_at) == (menu_id, "tester", None)
    assert row.bundle_id == content_source(app).current().bundle_id
    assert row.deployed_at is not None and len(row.checksum) == 64
    with transaction(app) as session:
        entry, = session.scalars(select(AuditEntry))
    assert (entry.who, entry.action) == ("cli:tester", "richmenu_deploy")
    assert menu_id in entry.detail


def test_deploying_the_same_menu_again_only_asks_for_the_default(app, runner, line_api):
    assert deploy(runner).exit_code == 0
    menu_id = line_api.default_richmenu
    line_api.clear()

    again = deploy(runner)

    assert again.exit_code == 0, again.output
    assert "already deployed and is LINE's default" in again.output
    assert "nothing to do" in again.output
    assert [(c.method, c.path) for c in line_api.requests] == [("GET", DEFAULT_RICHMENU_PATH)]
    assert list(line_api.richmenus) == [menu_id]
    assert len(deployments(app)) == 1


def test_a_changed_menu_is_deployed_anew_and_the_old_one_deleted(app, runner, line_api, root):
    assert deploy(runner).exit_code == 0
    old = line_api.default_richmenu
    text = (root / MENU).read_text(encoding="utf-8")
    (root / MENU).write_text(text.replace("label: 緊急のとき", "label: いますぐ相談したい"),
                             encoding="utf-8")
    published = runner.invoke(args=["publish", "--root", str(root), "--note", "menu"])
    assert published.exit_code == 0, published.output
    content_source(app).refresh()

    result = deploy(runner)

    assert result.exit_code == 0, result.output
    new = line_api.default_richmenu
    assert new != old and list(line_api.richmenus) == [new]
    assert line_api.deleted_richmenus == [old]
    assert f"Deleted the rich menu deployed before: {old}." in result.output
    assert line_api.richmenus[new]["areas"][3]["action"]["label"] == "いますぐ相談したい"
    rows = deployments(app)
    assert [(r.rich_menu_id, r.deleted_at is None) for r in rows] == [(old, False), (new, True)]
    assert rows[1].bundle_id == content_source(app).current().bundle_id != rows[0].bundle_id
    # And that one is now deployed once too.
    line_api.clear()
    assert "nothing to do" in deploy(runner).output


def test_a_deploy_that_fails_is_said_plainly_and_cleaned_up_by_the_next(app, runner, line_api):
    line_api.fail_next(1, 500, route=("POST", RICHMENU_VALIDATE_PATH))
    failed = deploy(runner)
    assert failed.exit_code == 1
    assert "LINE had a problem of its own (500): try again in a few minutes" in failed.output
    assert "Traceback" not in failed.output
    assert line_api.richmenus == {} and deployments(app) == []

    # The menu is created, but LINE does not take its image: it is not the default.
    line_api.fail_next(1, 503, route=("POST", RICHMENU_IMAGE_PATH))
    half = deploy(runner)
    assert half.exit_code == 1
    assert "LINE had a problem of its own (503)" in half.output
    assert "was created but is not the default; the next deploy deletes it" in half.output
    (stranded,) = line_api.richmenus
    assert line_api.default_richmenu is None

    done = deploy(runner)
    assert done.exit_code == 0, done.output
    assert line_api.deleted_richmenus == [stranded]
    assert list(line_api.richmenus) == [line_api.default_richmenu] != [stranded]


def test_a_menu_deleted_at_line_by_hand_is_no_obstacle(app, runner, line_api):
    assert deploy(runner).exit_code == 0
    line_api.richmenus.clear()  # someone deleted it in LINE Official Account Manager
    line_api.images.clear()
    line_api.default_richmenu = None

    again = deploy(runner)

    assert again.exit_code == 0, again.output
    assert "Deployed the rich menu" in again.output
    assert len(line_api.richmenus) == 1
    assert all(r.deleted_at is not None for r in deployments(app)[:-1])


# ---- checked before any call --------------------------------------------------------------

def test_check_names_every_rich_menu_problem_with_its_line(root, line_api):
    text = (root / MENU).read_text(encoding="utf-8")
    for old, new in (
            ("chat_bar_text: メニュー", "chat_bar_text: メニューはこちらからどうぞご利用ください"),
            ("{x: 833, y: 0, width: 834", "{x: 800, y: 0, width: 834"),
            ("{x: 1667, y: 843, width: 833", "{x: 1667, y: 843, width: 900"),
            ('color: "#8C2F39"', 'color: "dark red"'),
            ("label: このサービスについて", f"label: {LONG_LABEL}"),
            ("action: events", "action: uri"),
            ("    action: handoff", "    action: handoff\n    uri: https://example.jp/"),
            ('text_color: "#FFFFFF"', 'text_color: "#FFF"')):
        assert old in text, old
        text = text.replace(old, new, 1)
    (root / MENU).write_text(text, encoding="utf-8")
    lines = text.splitlines()

    def line(of: str) -> int:
        return next(i for i, t in enumerate(lines, 1) if of in t)

    result = CliRunner().invoke(check_command, ["--root", str(root)])

    assert result.exit_code == 1
    said = [t for t in result.output.splitlines() if t.startswith(MENU)]
    expected = [
        (line("chat_bar_text:"), "rich menu: chat_bar_text", "at most 14 characters"),
        (line("text_color:"), "rich menu: text_color '#FFF' is not a colour", "six hex digits"),
        (line("x: 800"), "menu area 2 '相談窓口をさがす': overlaps area 1 '相談をはじめる'",
         "move or shrink one of them"),
        (line("action: uri"), "menu area 3 'イベント・セミナー': opens a page (action uri) but "
                              "has no uri", "add 'uri:'"),
        (line("dark red"), "menu area 4 '緊急のとき': color 'dark red' is not a colour",
         "remove it to use the menu's color"),
        (line("uri: https://example.jp/"), "menu area 5 '相談員と話したい': has a uri but its "
                                           "action is 'handoff'", "remove the uri"),
        (line(LONG_LABEL), f"the label is {len(LONG_LABEL)} characters; LINE takes 1 to 20",
         "at most 20 characters"),
        (line("width: 900"), "go outside the large image of 2500×1686 pixels",
         "keep x + width within 2500"),
    ]
    for number, what, fix in expected:
        assert any(t.startswith(f"{MENU}:{number}: error: ") and what in t and fix in t
                   for t in said), (number, what, said)
    assert len(said) == len(expected)
    assert line_api.requests == []


def test_check_counts_the_areas_line_takes(root):
    text = (root / MENU).read_text(encoding="utf-8")
    head, _, _ = text.partition("areas:")
    areas = "".join(f"  - label: 枠{i}\n    action: about\n"
                    f"    bounds: {{x: {i * 119}, y: 0, width: 119, height: 843}}\n"
                    for i in range(21))
    (root / MENU).write_text(head + "areas:\n" + areas, encoding="utf-8")

    result = CliRunner().invoke(check_command, ["--root", str(root)])

    assert result.exit_code == 1
    assert f"{MENU}:{head.count(chr(10)) + 1}: error: rich menu: has 21 areas; LINE takes 1 " \
           "to 20; join areas until there are at most 20" in result.output


def test_deploy_refuses_a_menu_check_finds_wrong_and_asks_line_nothing(app, line_api):
    content = content_source(app).current()
    wide = menu_with(chat_bar_text="メニューはこちらからどうぞご利用ください", areas=[
        MenuArea(label="相談をはじめる", action="questionnaire",
                 bounds=Bounds(x=0, y=0, width=2600, height=1686))])
    bad = content.model_copy(update={"richmenu": wide})

    with pytest.raises(Exception) as refused:
        richmenu.deploy(app, bad, "tester")

    message = refused.value.message
    assert message.startswith("the rich menu needs fixing first")
    assert "chat_bar_text" in message and "go outside the large image" in message
    assert line_api.requests == []
    assert deployments(app) == []


# ---- the image ----------------------------------------------------------------------------

@pytest.mark.parametrize("size, rows", [("large", 2), ("compact", 1)])
def test_the_drawn_image_is_the_menus_size_a_png_and_under_a_megabyte(size, rows):
    height = 1686 if size == "large" else 843
    areas = [MenuArea(label=label, action="about",
                      bounds=Bounds(x=(i % 3) * 833, y=(i // 3) * 843, width=833, height=843))
             for i, label in enumerate(["相談をはじめる", "相談窓口をさがす", "イベント・セミナー",
                                        "緊急のとき", "相談員と話したい", "このサービスについて"]
                                       [:3 * rows])]
    menu = menu_with(size=size, areas=areas)

    data = menu_image.draw(menu, menu_image.find_font())

    assert len(data) <= MAX_MENU_IMAGE_BYTES
    assert menu_image.check_image(data, menu) == "image/png"
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (2500, height))
        # Each area is filled with its colour and has its label drawn in the text colour.
        pixels = image.convert("RGB")
        assert pixels.getpixel((20, 20)) == (0x1B, 0x6B, 0x5A)
        for area in areas:
            b = area.bounds
            box = pixels.crop((b.x + 10, b.y + 10, b.x + b.width - 10, b.y + b.height - 10))
            assert (255, 255, 255) in {c for _, c in box.getcolors(maxcolors=1 << 16)}


def test_a_drawing_png_cannot_keep_under_a_megabyte_is_sent_as_jpeg():
    w, h = 2500, 1686
    gradient = Image.linear_gradient("L").resize((w, h))
    grain = Image.effect_noise((w, h), 8).filter(ImageFilter.GaussianBlur(1))
    mirrored = gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    busy = Image.merge("RGB", (gradient, grain, mirrored))

    data = menu_image.encode(busy)

    assert len(data) <= MAX_MENU_IMAGE_BYTES
    assert menu_image.check_image(data, menu_with()) == "image/jpeg"


def test_an_editors_jpeg_is_sent_as_it_is(app, runner, line_api, tmp_path):
    given = tmp_path / "menu.jpg"
    Image.new("RGB", (2500, 1686), "#336699").save(given, format="JPEG", quality=85)

    result = deploy(runner, "--image", str(given))

    assert result.exit_code == 0, result.output
    (menu_id,) = line_api.richmenus
    assert line_api.images[menu_id] == ("image/jpeg", given.read_bytes())
    assert "JPEG (given) image" in result.output


@pytest.mark.parametrize("make, said", [
    (lambda path: Image.new("RGB", (2500, 843)).save(path, format="PNG"),
     "is 2500×843 pixels; the large menu needs exactly 2500×1686"),
    (lambda path: Image.new("RGB", (2500, 1686)).save(path, format="GIF"),
     "is neither PNG nor JPEG"),
    (lambda path: path.write_bytes(png(2500, 1686) + b"\0" * MAX_MENU_IMAGE_BYTES),
     "LINE takes at most 1,000,000 (1 MB)"),
    (lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\nnot really"), "cannot be read as an image"),
])
def test_an_editors_image_that_does_not_fit_is_refused_before_any_call(
        app, runner, line_api, tmp_path, make, said):
    given = tmp_path / "menu.img"
    make(given)

    result = deploy(runner, "--image", str(given))

    assert result.exit_code == 1
    assert said in result.output
    assert line_api.requests == []


@pytest.fixture
def no_debian_font(monkeypatch, tmp_path):
    """Point the lookup's Debian fonts at files that are not there, as on a machine without
    Debian's font packages."""
    monkeypatch.setattr(menu_image, "FONTS", (tmp_path / "debian" / "ipaexg.ttf",))


@pytest.fixture
def no_font(no_debian_font, monkeypatch):
    """No Japanese font at all: neither Debian's nor the Python package's."""
    monkeypatch.setattr(menu_image, "PACKAGED_FONT", ("tsunagu_no_such_font", "x.otf"))


def test_the_font_that_comes_with_tsunagu_is_used_without_any_debian_font(no_debian_font):
    import noto_cjk_sans_jp_regular

    assert menu_image.find_font() == menu_image.Path(str(noto_cjk_sans_jp_regular.FONT_PATH))
    assert menu_image.find_font().name == "NotoSansCJKjp-Regular.otf"


def test_without_the_package_a_debian_font_is_used(no_font, monkeypatch, tmp_path):
    debian = tmp_path / "ipaexg.ttf"
    shutil.copyfile(packaged_font_path(), debian)
    monkeypatch.setattr(menu_image, "FONTS", (tmp_path / "missing.ttc", debian))
    assert menu_image.find_font() == debian


def test_without_a_japanese_font_deploy_says_which_package_to_install(
        app, runner, line_api, no_font):
    result = deploy(runner)

    assert result.exit_code == 1
    assert "install the Python package noto-cjk-sans-jp-regular" in result.output
    assert "fonts-ipaexfont-gothic" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert line_api.requests == []
    with pytest.raises(menu_image.ImageError, match="TSUNAGU_FONT='/no/such.ttf' is not a file"):
        menu_image.find_font("/no/such.ttf")


def test_tsunagu_font_chooses_the_font(database_url, line_api, no_font, tmp_path):
    chosen = tmp_path / "chosen.otf"
    shutil.copyfile(packaged_font_path(), chosen)
    assert menu_image.find_font(str(chosen)) == chosen
    app = make_app(database_url, line_api, FONT=str(chosen))
    result = app.test_cli_runner().invoke(args=["richmenu", "deploy", "--dry-run"])
    assert result.exit_code == 0, result.output
    database(app).dispose()


def packaged_font_path():
    """The font file of the package tsunagu installs (found before any font is hidden)."""
    import noto_cjk_sans_jp_regular

    return noto_cjk_sans_jp_regular.FONT_PATH


# ---- dry run and status -------------------------------------------------------------------

def test_a_dry_run_validates_with_line_writes_the_image_and_creates_nothing(
        app, runner, line_api, tmp_path):
    out = tmp_path / "menu.png"

    result = deploy(runner, "--dry-run", "-o", str(out))

    assert result.exit_code == 0, result.output
    assert [c.path for c in line_api.requests] == [RICHMENU_VALIDATE_PATH]
    assert line_api.richmenus == {} and deployments(app) == []
    assert "LINE's validation accepts it." in result.output
    assert "Dry run: nothing was created at LINE." in result.output
    with Image.open(out) as image:
        assert (image.format, image.size) == ("PNG", (2500, 1686))


def test_status_shows_what_line_has_next_to_what_tsunagu_deployed(app, runner, line_api):
    line_api.richmenus["richmenu-byhand"] = {
        "richMenuId": "richmenu-byhand", "size": {"width": 2500, "height": 843},
        "selected": False, "name": "春のキャンペーン", "chatBarText": "お知らせ",
        "areas": [{"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
                   "action": {"type": "uri", "uri": "https://example.jp/"}}]}
    none = runner.invoke(args=["richmenu", "status"])
    assert none.exit_code == 0, none.output
    assert "No default rich menu: people see no menu" in none.output
    assert deploy(runner).exit_code == 0
    menu_id = line_api.default_richmenu

    result = runner.invoke(args=["richmenu", "status"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "LINE has 2 rich menus."
    assert any(t.startswith(f"  {menu_id}: 'tsunagu メニュー', 6 areas, 2500×1686; the default, "
                            "deployed by tsunagu ") and "by tester" in t for t in lines)
    assert ("  richmenu-byhand: '春のキャンペーン', 1 area, 2500×843; not deployed by tsunagu"
            in lines)
    assert f"The default, shown to everyone without a menu of their own: {menu_id}." in lines


def test_a_wrong_token_is_said_plainly(database_url, line_api):
    app = make_app(database_url, line_api, LINE_CHANNEL_ACCESS_TOKEN="not-the-token")

    result = app.test_cli_runner().invoke(args=["richmenu", "deploy"])

    assert result.exit_code == 1
    assert ("LINE refused the access token (401): check LINE_CHANNEL_ACCESS_TOKEN"
            in result.output)
    assert "Traceback" not in result.output
    assert line_api.richmenus == {}
    assert all("Authorization" in v for v in line_api.violations)
    line_api.clear()
    database(app).dispose()


def test_a_version_without_richmenu_yaml_is_fine_but_has_nothing_to_deploy(app, line_api, root):
    (root / MENU).unlink()
    files = bundle.read_folders(root / "content", root / "flows")
    assert not [p for p in examine(files).errors() if p.file == MENU]
    older = bundle.parse(files)
    require_fine(older)  # an older version still starts the bot

    with pytest.raises(Exception, match="has no rich menu .* nothing to deploy"):
        richmenu.deploy(app, older, "tester")
    assert line_api.requests == []
    # A richmenu.yaml with no areas, though, is an error.
    text = (ROOT / MENU).read_text(encoding="utf-8")
    (root / MENU).write_text(text.partition("areas:")[0] + "areas: []\n", encoding="utf-8")
    result = CliRunner().invoke(check_command, ["--root", str(root)])
    assert "rich menu: has 0 areas; LINE takes 1 to 20; give the menu at least one area" \
        in result.output


def test_status_says_whether_the_contents_menu_is_the_one_deployed(app, runner, line_api,
                                                                   root):
    def last_line() -> str:
        result = runner.invoke(args=["richmenu", "status"])
        assert result.exit_code == 0, result.output
        return result.output.splitlines()[-1]

    assert last_line() == "The content's menu is not deployed yet: run `tsunagu richmenu deploy`."
    assert deploy(runner).exit_code == 0
    assert last_line() == f"The content's menu is the one deployed ({line_api.default_richmenu})."
    text = (root / MENU).read_text(encoding="utf-8")
    (root / MENU).write_text(text.replace("label: 緊急のとき", "label: いますぐ相談したい"),
                             encoding="utf-8")
    assert runner.invoke(args=["publish", "--root", str(root), "--note", "menu"]).exit_code == 0
    content_source(app).refresh()
    assert last_line().startswith("The content's menu differs from the one deployed")
