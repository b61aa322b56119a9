"""`tsunagu check`, the editors' safety net: every problem, with its file, line, item and fix.

The checks run in layers. 1, the files: YAML syntax, each file's schema, ids used twice
(`bot.content.bundle`); the rest run only once every file reads. 2, what the content means:
one small rule per check. 3, LINE's limits (`bot.line.limits`), measured on the messages
`bot.line.messages` builds. Then the warnings (errors with --strict), the scenarios
(`bot.studio.scenarios`, people played through the bot) and the coverage: how many of all
citizens' answer combinations reach an office to call or open.

Modules:
- `framework`: the `Problem` a rule yields, the `Context` it looks at (content, lines, today,
  coverage), `check` (the registry, in the order rules run), `error` and `warning`.
- `meaning`: layer 2, what the content means (ids, answers, paths, texts, formulas).
- `line_limits`: layer 3, LINE's limits on buttons, labels, data, texts, results and links.
- `menu`: the rich menu's rules (`menu_errors` runs them alone, for `tsunagu richmenu`).
- `account`: events, the office finder, talking to a person.
- `warnings`: what is not wrong but needs a person (facts without sources, long bubbles).
- `coverage`: every combination of answers, which reach an office, and the largest gaps.
- `runner`: `examine` (every layer on a bundle's files), `problems`, `require_fine`.
- `report`: the report as text or JSON, and the `tsunagu check` command.
- `japanese`: the problems in Japanese for the editors' pages (the command line keeps English).

A rule is a function of a `Context` that yields Problems: test one alone with
`list(rule(Context(content)))` on content made in memory.
"""

from bot.line.messages import crisis_text, offices_text, result_text
from bot.studio.checks import account, line_limits, meaning, menu, warnings  # noqa: F401
from bot.studio.checks.coverage import Coverage, Gap, coverage, describe, reachable
from bot.studio.checks.framework import CHECKS, ERROR, WARNING, Context, Problem, Report
from bot.studio.checks.line_limits import units
from bot.studio.checks.menu import menu_errors
from bot.studio.checks.report import check_command, init_app, report_json, report_text
from bot.studio.checks.runner import _CHECKED, examine, problems, problems_of, require_fine

__all__ = [
    "CHECKS", "ERROR", "WARNING", "Context", "Coverage", "Gap", "Problem", "Report",
    "check_command", "coverage", "crisis_text", "describe", "examine", "init_app",
    "menu_errors", "offices_text", "problems", "problems_of", "reachable", "report_json",
    "report_text", "require_fine", "result_text", "units", "_CHECKED",
]
