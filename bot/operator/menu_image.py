"""The rich menu's image: drawn from content/richmenu.yaml with Pillow, or an editor's file.

Each area is a filled rectangle (its own color or the menu's) with its label centred in the
menu's text_color (every label in one size, on one line or two), in the Japanese font that is
installed with tsunagu (Noto Sans CJK JP, from a Python package; never downloaded at run time);
thin lines separate the areas. The image is exactly the menu's size, PNG (JPEG if a PNG would
be over LINE's 1 MB), as `bot.line.limits` says LINE takes it.
"""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

from bot.content.schema import RichMenu
from bot.line.limits import MAX_MENU_IMAGE_BYTES

# The font installed with tsunagu (pyproject.toml): Noto Sans CJK JP Regular, SIL OFL 1.1, in
# the Python package noto-cjk-sans-jp-regular (its module, the file in it).
PACKAGED_FONT = ("noto_cjk_sans_jp_regular", "NotoSansCJKjp-Regular.otf")
# Then Japanese fonts Debian installs, in the order tried: fonts-ipaexfont-gothic, fonts-noto-cjk.
FONTS = (
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
NO_FONT = ("no Japanese font to draw the rich menu with: install the Python package "
           "noto-cjk-sans-jp-regular (pip install noto-cjk-sans-jp-regular; it comes with "
           "tsunagu), or Debian's fonts-ipaexfont-gothic, or set TSUNAGU_FONT to a "
           ".ttf/.otf/.ttc file (or give a finished image with --image)")
SEPARATOR = 4  # pixels of the line between two areas
BREAK_AFTER = "・、。 　をのにへとでから"  # a label may go onto a second line after these


class ImageError(Exception):
    """The menu's image cannot be drawn or used; the message says why and what to do."""


def find_font(configured: str = "") -> Path:
    """Return the font to draw with: TSUNAGU_FONT if set, else the font installed with tsunagu,
    else the first Debian font found."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ImageError(f"TSUNAGU_FONT={configured!r} is not a file: give the path of a "
                             ".ttf, .otf or .ttc font, or unset it to use the font installed "
                             "with tsunagu (Noto Sans CJK JP)")
        return path
    for path in (packaged_font(), *FONTS):
        if path is not None and path.is_file():
            return path
    raise ImageError(NO_FONT)


def packaged_font() -> Path | None:
    """Return the font file of the Python package PACKAGED_FONT names, or None without it."""
    module, name = PACKAGED_FONT
    try:
        folder = resources.files(module)
    except ModuleNotFoundError:
        return None
    path = Path(str(folder / name))  # an installed package is a folder of files
    return path if path.is_file() else None


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], share: float) -> tuple[int, ...]:
    return tuple(round(x * (1 - share) + y * share) for x, y in zip(a, b, strict=True))


def _katakana(ch: str) -> bool:
    return "\u30a0" <= ch <= "\u30ff"


def _splits(label: str) -> list[list[str]]:
    """Return the ways to show a label on two lines: after a particle, ・ or a katakana word."""
    cuts = [i for i in range(1, len(label)) if label[i - 1] in BREAK_AFTER
            or (_katakana(label[i - 1]) and not _katakana(label[i]))]
    if not cuts:  # anywhere but inside a katakana word
        cuts = [i for i in range(1, len(label))
                if not (_katakana(label[i - 1]) and _katakana(label[i]))] or [len(label) // 2]
    cuts.sort(key=lambda i: abs(len(label) - 2 * i))
    return [[label[:i].strip(), label[i:].strip()] for i in cuts[:2]]


def _fit(lines: list[str], width: int, height: int, font_path: Path):
    """Return the largest font (at most 140 px) in which these lines fit an area."""
    from PIL import ImageFont

    size = min(height // (3 * len(lines) + 1), 140)
    while True:
        font = ImageFont.truetype(str(font_path), size)
        if size <= 24 or max(font.getlength(line) for line in lines) <= width * 0.86:
            return font
        size -= 4


def _layout(label: str, width: int, height: int, font_path: Path):
    """Return the font and the lines that show a label largest within an area."""
    one = _fit([label], width, height, font_path)
    if len(label) < 2:
        return one, [label]
    two = max(((_fit(lines, width, height, font_path), lines) for lines in _splits(label)),
              key=lambda pair: pair[0].size)
    # Two lines only when one line would be much smaller.
    return (one, [label]) if one.size >= 0.8 * two[0].size else two


def draw(menu: RichMenu, font_path: Path) -> bytes:
    """Draw the menu's image; return it as PNG (or JPEG if PNG is over LINE's limit)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (menu.width, menu.height), _rgb(menu.color))
    pen = ImageDraw.Draw(image)
    text = _rgb(menu.text_color)
    layouts = [_layout(a.label, a.bounds.width, a.bounds.height, font_path) for a in menu.areas]
    # Every label in the same size, the largest all of them fit in.
    font = ImageFont.truetype(str(font_path), min((f.size for f, _ in layouts), default=24))
    spacing = font.size // 3
    for area, (_, lines) in zip(menu.areas, layouts, strict=True):
        b = area.bounds
        fill = _rgb(area.color or menu.color)
        box = (b.x, b.y, b.x + b.width - 1, b.y + b.height - 1)
        pen.rectangle(box, fill=fill, outline=_mix(fill, text, 0.35), width=SEPARATOR // 2)
        pen.multiline_text((b.x + b.width / 2, b.y + b.height / 2), "\n".join(lines),
                           fill=text, font=font, anchor="mm", align="center", spacing=spacing)
    return encode(image)


def encode(image) -> bytes:
    """Return an image as PNG, or as JPEG when the PNG would be over LINE's 1 MB."""
    out = io.BytesIO()
    image.save(out, format="PNG")  # optimize=True: 2 % smaller, many times slower
    if out.tell() <= MAX_MENU_IMAGE_BYTES:
        return out.getvalue()
    for quality in (90, 80, 70, 60):
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=quality)
        if out.tell() <= MAX_MENU_IMAGE_BYTES:
            return out.getvalue()
    raise ImageError("the drawn image is over LINE's 1 MB even as JPEG: use fewer colours "
                     "or give an image with --image")


def content_type(data: bytes) -> str:
    """Return the image's type as LINE takes it (image/png or image/jpeg), by its first bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    raise ImageError("the image is neither PNG nor JPEG: LINE takes only these two")


def check_image(data: bytes, menu: RichMenu, name: str = "the image") -> str:
    """Check an image fits the menu and LINE's limits; return its content type."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_MENU_IMAGE_BYTES:
        raise ImageError(f"{name} is {len(data):,} bytes; LINE takes at most "
                         f"{MAX_MENU_IMAGE_BYTES:,} (1 MB): save it smaller (e.g. as JPEG)")
    try:
        kind = content_type(data)
    except ImageError:
        raise ImageError(f"{name} is neither PNG nor JPEG: LINE takes only these two") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            size = image.size
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ImageError(f"{name} cannot be read as an image ({err})") from None
    if size != (menu.width, menu.height):
        raise ImageError(f"{name} is {size[0]}×{size[1]} pixels; the {menu.size} menu needs "
                         f"exactly {menu.width}×{menu.height} (the areas' bounds are pixels "
                         "of it)")
    return kind
