"""Reading the editors' YAML files from bytes, with errors that name the file and line."""

from __future__ import annotations

import yaml
from pydantic import BaseModel, ValidationError


class ContentError(Exception):
    """Content or flow files that cannot be loaded; the message names the file and the fix."""


def read_yaml(name: str, data: bytes) -> object:
    """Parse one YAML file of a bundle; raise ContentError with file:line on a problem."""
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ContentError(f"{name}: not UTF-8 text; save the file as UTF-8") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise ContentError(f"{where}: not valid YAML ({getattr(err, 'problem', err)})") from err


def validate(model: type[BaseModel], data: object, name: str):
    """Validate data against a schema; raise ContentError naming every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise ContentError(f"{name}: {problems}") from err
