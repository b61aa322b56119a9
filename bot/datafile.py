"""Reading the editors' YAML files, with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError


class ContentError(Exception):
    """Content or flow files that cannot be loaded; the message names the file and the fix."""


def read_yaml(path: Path) -> object:
    """Parse one YAML file; raise ContentError with file:line on a problem."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ContentError(f"{path}: file is missing") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ContentError(f"{where}: not valid YAML ({getattr(err, 'problem', err)})") from err


def parse(model: type[BaseModel], data: object, path: Path):
    """Validate data against a schema; raise ContentError naming every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise ContentError(f"{path}: {problems}") from err
