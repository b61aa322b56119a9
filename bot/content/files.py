"""Reading the editors' YAML files from bytes, with problems that name the file, line and item.

A file is read once into a `Document`: its data and yaml's node tree, which knows the line of
every key and entry, so that a schema error's path or an item's id can be given its line (the
locator `tsunagu check` uses for every problem).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """yaml's safe loader (libyaml's when built in: ten times faster, the same nodes)."""

    def construct_yaml_timestamp(self, node):
        # A date that is no date (2026-13-01) is kept as text, so that the schema names it
        # with its line instead of yaml failing with no line at all.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """One problem: where (file and line), which item, what is wrong, how to fix it, how bad.

    The one type for every problem the project finds in content: the files' own (schema,
    YAML), `tsunagu check`'s rules and the scenarios'.
    """

    file: str  # e.g. content/offices.yaml
    line: int | None  # from 1; None where no line can be told
    item: str  # e.g. "office 'hw-akita'", "question 'age', option 'u35'"; "" for a file
    message: str
    fix: str
    severity: str = ERROR  # ERROR or WARNING (errors with --strict)

    def text(self, severity: bool = True) -> str:
        """Return the problem as one line: `file:line: severity: item: message; fix`."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{self.item}: {self.message}" if self.item else self.message
        said = f"{where}: {self.severity}: {what}" if severity else f"{where}: {what}"
        return f"{said}; {self.fix}" if self.fix else said


class ContentError(Exception):
    """Content or flow files that cannot be loaded; the message names the file and the fix."""

    def __init__(self, message: str, issues: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.issues = tuple(issues)

    @classmethod
    def of(cls, issues: Sequence[Problem]) -> ContentError:
        return cls("\n".join(issue.text(severity=False) for issue in issues), issues)


# A path step: a mapping key, a list index, or (field, value): the list entry whose field is
# value (an entry's `id:`, an option's `value:`, a region's `name:`).
Step = str | int | tuple[str, object]


class Document:
    """One YAML file of a bundle: its data, and the line of each of its keys and entries."""

    def __init__(self, name: str, data: object, node: yaml.Node | None) -> None:
        self.name = name
        self.data = data
        self.node = node

    def line(self, *path: Step) -> int | None:
        """Return the line (from 1) of the deepest part of this path found in the file."""
        found = None
        node = self.node
        for step in path:
            node, at = _child(node, step)
            if node is None:
                break
            found = at
        return found

    def duplicates(self, field: str, *path: Step) -> dict[str, list[int]]:
        """Return each `field` value given by more than one entry of the list at `path`."""
        node = self.node
        for step in path:
            node, _ = _child(node, step)
        if not isinstance(node, yaml.SequenceNode):
            return {}
        lines: dict[str, list[int]] = {}
        for entry in node.value:
            value = _scalar(_child(entry, field)[0])
            if value is not None:
                lines.setdefault(value, []).append(entry.start_mark.line + 1)
        return {value: found for value, found in lines.items() if len(found) > 1}

    def duplicate_keys(self) -> Iterator[Problem]:
        """Yield a problem for each key given twice in one mapping (YAML keeps the last)."""
        todo = [self.node] if self.node is not None else []
        while todo:
            node = todo.pop()
            if isinstance(node, yaml.MappingNode):
                seen: dict[str, int] = {}
                for key, value in node.value:
                    name, line = _scalar(key), key.start_mark.line + 1
                    if name in seen:
                        yield Problem(self.name, line, "", f"{name!r} is given twice (lines "
                                    f"{seen[name]} and {line}); only the last one counts",
                                    "keep one of them")
                    else:
                        seen[name] = line
                    todo.append(value)
            elif isinstance(node, yaml.SequenceNode):
                todo.extend(node.value)

    def item(self, loc: Sequence[object], kinds: Mapping[str, tuple[str, str]],
             top: str = "") -> str:
        """Name the item a path is in, e.g. "question 'age', option 'u35'"."""
        # `kinds` maps a list's key to the kind of its entries and the field naming one;
        # `top` is the kind of the file's top-level keys (messages.yaml: "message").
        if top and loc and isinstance(loc[0], str):
            return f"{top} {loc[0]!r}"
        names, data = [], self.data
        for i, here in enumerate(loc):
            after = loc[i + 1] if i + 1 < len(loc) else None
            if isinstance(data, Mapping):
                data = data.get(here)
                if here in kinds:
                    names.append(_name(kinds[here], data, after))
            elif isinstance(data, list) and isinstance(here, int) and here < len(data):
                data = data[here]
            else:
                break
        return ", ".join(names)


def _name(kind: tuple[str, str], data: object, index: object) -> str:
    """Name one entry: "office 'hw-akita'", or "office #3" when it has no id."""
    what, field = kind
    if isinstance(data, list) and isinstance(index, int):
        data = data[index] if index < len(data) else None
        name = data.get(field) if isinstance(data, Mapping) and field else None
        return f"{what} {name!r}" if isinstance(name, str | int) else f"{what} #{index + 1}"
    name = data.get(field) if isinstance(data, Mapping) and field else None
    return f"{what} {name!r}" if isinstance(name, str | int) else what


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _child(node: yaml.Node | None, step: Step) -> tuple[yaml.Node | None, int | None]:
    """Return the node a step leads to and the line that shows it (a key's own line)."""
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if _scalar(key) == step:
                return value, key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
        if 0 <= step < len(node.value):
            entry = node.value[step]
            return entry, entry.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, tuple):
        field, value = step
        for entry in node.value:
            if _scalar(_child(entry, field)[0]) == _text(value):
                return entry, entry.start_mark.line + 1
    return None, None


def read_document(name: str, data: bytes) -> Document:
    """Parse one YAML file of a bundle; raise ContentError with file:line on a problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ContentError.of([Problem(name, None, "", "not UTF-8 text",
                                     "save the file as UTF-8")]) from err
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        context = getattr(err, "context", None)
        what = f"not valid YAML ({problem}{', ' + context if context else ''})"
        raise ContentError.of([Problem(
            name, mark.line + 1 if mark else None, "", what,
            "check this line and the one before: the indentation, a missing ':' or '-', and "
            "quotes around text that has a ':' or '#' in it")]) from err
    finally:
        loader.dispose()
    return Document(name, value, node)


def check_schema(schema: Any, doc: Document, kinds: Mapping[str, tuple[str, str]] | None = None,
                 top: str = "") -> tuple[Any, list[Problem]]:
    """Validate a document against a schema; return the value, or None and every problem."""
    try:
        return _adapter(schema).validate_python(doc.data), []
    except ValidationError as err:
        by_loc: dict[tuple, list] = {}
        for error in err.errors():
            by_loc.setdefault(_data_loc(error["loc"], doc.data), []).append(error)
        issues = []
        for loc, errors in by_loc.items():
            if len(errors) > 1 and (members := _members(_field_type(schema, loc))):
                # A union (a rule's condition: a list of answers or an age range) reports one
                # error per member: say once what it may be.
                field = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
                message = (f"{field!r} should be {' or '.join(members)}, not "
                           f"{_shown(errors[0].get('input'))}")
                fix = "see the comments at the top of the file for examples"
            else:
                message, fix = explain(errors[0], loc, _field_type(schema, loc[:-1]))
            issues.append(Problem(doc.name, doc.line(*loc), doc.item(loc, kinds or {}, top),
                                message, fix))
        return None, issues


def _members(tp: Any) -> list[str]:
    """Describe what each member of a union may be, e.g. "a list such as [a, b]"."""
    if get_origin(tp) not in (Union, UnionType):
        return []
    found = []
    for member in get_args(tp):
        if get_origin(member) is list:
            found.append("a list such as [a, b]")
        elif isinstance(member, type) and issubclass(member, BaseModel):
            found.append("{" + ", ".join(f"{name}: ..." for name in member.model_fields) + "}")
    return found


_ADAPTERS: dict[Any, TypeAdapter] = {}


def _adapter(schema: Any) -> TypeAdapter:
    if schema not in _ADAPTERS:
        _ADAPTERS[schema] = TypeAdapter(schema)
    return _ADAPTERS[schema]


def _data_loc(loc: tuple, data: object) -> tuple:
    """Drop the names pydantic gives a union's members (list[str], AgeRange) from a path."""
    kept = []
    for part in loc:
        present = isinstance(data, Mapping) and part in data
        if isinstance(part, str) and not present and ("[" in part or part[:1].isupper()):
            continue  # a member's name: not in the file (a missing field is lowercase)
        kept.append(part)
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            data = None
    return tuple(kept)


def _field_type(schema: Any, loc: tuple) -> Any:
    """Return the annotation at a path of the schema (None where it cannot be told)."""
    here: Any = schema
    for part in loc:
        here = _unwrap(here, part)
        if here is None:
            return None
    return here


def _unwrap(tp: Any, part: object) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(str(part))
        return field.annotation if field else None
    origin = get_origin(tp)
    if origin in (list, tuple) and isinstance(part, int):
        return get_args(tp)[0]
    if origin is dict and isinstance(part, str):
        return get_args(tp)[1]
    if origin in (Union, UnionType):
        for member in get_args(tp):
            if (found := _unwrap(member, part)) is not None:
                return found
    return None


def _fields(tp: Any) -> str:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return ", ".join(tp.model_fields)
    return ""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# How a schema error reads to an editor: the message, and the fix (field, expected, got).
_EXPLAIN: dict[str, Callable[[str, str, object], tuple[str, str]]] = {
    "missing": lambda f, e, g: (f"{f!r} is missing", f"add '{f}:' with its value"),
    "string_type": lambda f, e, g: (
        f"{f!r} should be text, not {_shown(g)}", "write it in quotes, e.g. \"...\""),
    "list_type": lambda f, e, g: (
        f"{f!r} should be a list, not {_shown(g)}",
        "write it as [a, b] or one '- item' per line"),
    "dict_type": lambda f, e, g: (
        f"{f!r} should be a set of 'name: value' lines, not {_shown(g)}",
        "indent its lines under it, each as 'name: value'"),
    "int_type": lambda f, e, g: (
        f"{f!r} should be a whole number, not {_shown(g)}", "write a number such as 35"),
    "bool_type": lambda f, e, g: (
        f"{f!r} should be true or false, not {_shown(g)}", "write true or false"),
    "date_type": lambda f, e, g: (
        f"{f!r} should be a date, not {_shown(g)}", "write it as YYYY-MM-DD, e.g. 2026-12-01"),
    "literal_error": lambda f, e, g: (
        f"{f!r} should be one of {e}, not {_shown(g)}", "use one of those words"),
}
# Pydantic names some mistakes twice (a wrong type, or text it could not read as that type).
_EXPLAIN.update({alias: _EXPLAIN[kind] for alias, kind in (
    ("model_type", "dict_type"), ("int_parsing", "int_type"), ("bool_parsing", "bool_type"),
    ("date_parsing", "date_type"), ("date_from_datetime_parsing", "date_type"))})


def explain(error: Mapping[str, Any], loc: tuple, parent: Any) -> tuple[str, str]:
    """Return a schema error in plain words: what is wrong, and how to fix it."""
    # `parent` is the schema of what holds the field (None where it cannot be told).
    kind = error["type"]
    field = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    where = ".".join(str(p) for p in loc)
    got = error.get("input")
    if kind == "extra_forbidden":
        known = _fields(parent)
        return (f"{field!r} is not a known field here",
                f"check its spelling{'; the fields are: ' + known if known else ''}")
    if got is None and field and kind.endswith("_type"):
        return f"{field!r} is empty", "write its value after the ':', or remove the line"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return message, ""
    if field and kind in _EXPLAIN:
        ctx = error.get("ctx") or {}
        return _EXPLAIN[kind](field, str(ctx.get("expected", "")), got)
    if not loc and kind in ("model_type", "dict_type"):
        first = _fields(parent).split(",")[0]
        return ("the file is empty or not a set of 'name: value' lines",
                f"restore its first line ('{first}:') and the entries under it" if first
                else "restore its 'name: value' lines")
    what = f"{where or 'the file'}: {error['msg']}"
    return what, "see the comments at the top of the file for what is expected"

