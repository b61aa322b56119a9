"""Forms as a browser posts them: every field of a page's form, as shown, some changed."""

from __future__ import annotations

from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict


class _Form(HTMLParser):
    """Collect the fields of the forms of a page that post (inputs, textareas, selects)."""

    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted = action
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self.fields: list[tuple[str, str]] | None = None
        self.textarea: str | None = None
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.fields = []
            self.forms.append((a.get("action") or "", self.fields))
        if self.fields is None:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""
        elif tag == "select":
            self.select, self.options = a.get("name"), []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag):
        if self.fields is None:
            return
        if tag == "textarea" and self.textarea:
            # A browser drops the one newline that may follow <textarea>.
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select:
            chosen = [v for v, on in self.options if on] or [v for v, _ in self.options[:1]]
            self.fields.extend((self.select, v) for v in chosen)
            self.select = None
        elif tag == "form":
            self.fields = None


def form_of(html: str, action: str | None = None) -> tuple[str, MultiDict]:
    """Return the action and fields of the page's first posting form (or the one to action)."""
    parser = _Form(action)
    parser.feed(html)
    for found, fields in parser.forms:
        if action is None or found == action:
            return found, MultiDict(fields)
    raise AssertionError(f"no form posting to {action!r} on the page")


def submit(client, page, action: str | None = None, **changes):
    """Post a page's form as a browser would: every field as shown, these changed.

    A value may be a list (the boxes ticked of a group of checkboxes); None unticks a box.
    Dotted field names are given with "__" for the dot (options__0__label).
    """
    found, fields = form_of(page.text, action)
    for name, value in changes.items():
        name = name.replace("__", ".")
        fields.poplist(name)
        if isinstance(value, list):
            fields.setlist(name, value)
        elif value is not None:
            fields[name] = value
    return client.post(found, data=fields)
