"""Summarise py-spy raw (collapsed) profiles: where a worker's CPU samples went."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# Where a sample's CPU goes: walking from the leaf to the root, the first frame whose file
# matches a stage names it (so the engine's log calls count as logging, the SDK's HTTP as HTTP).
STAGES = [
    ("logging (records, handlers)", ("logging/",)),
    ("LINE reply: HTTP (urllib3, http.client, aiohttp)", ("urllib3/", "http/client", "aiohttp/")),
    ("reply queue: Redis, sender's event loop", ("redis/", "bot/line/outbox", "bot/line/sender",
                                                 "asyncio/", "selectors", "uvloop")),
    ("LINE SDK: models, validation, JSON", ("linebot/v3/messaging",)),
    ("reply rendering (bot.line.render)", ("bot/line/render",)),
    ("questionnaire engine (bot.dialogue)", ("bot/dialogue", "bot/content", "transitions/")),
    ("database (bot.conversations, bot.db, SQLAlchemy, driver)",
     ("bot/conversations/store", "bot/referrals", "bot/db", "sqlalchemy/", "psycopg")),
    ("user key (HMAC)", ("bot/conversations/keys",)),
    ("webhook: verify, parse, dispatch", ("bot/line/webhook", "bot/line/runtime",
                                          "linebot/v3/webhook", "echo_bot")),
    ("Flask and werkzeug", ("flask/", "werkzeug/")),
    ("gunicorn (HTTP, access log, thread pool)", ("gunicorn/", "concurrent/")),
]
OTHER = "other"

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def read(paths: list[Path]) -> list[tuple[list[str], int]]:
    """Return (frames from the root to the leaf, samples) for every stack in the files."""
    stacks = []
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks.append((stack.split(";"), int(count)))
    return stacks


def summarise(paths: list[Path], top: int = 25) -> str:
    """Return a text summary (no profiles: a note saying so)."""
    stacks = read(paths)
    total = sum(n for _, n in stacks)
    if not total:
        return "(no samples)"
    return "\n".join(["samples: " + str(total), "", "inclusive (share of CPU samples):"]
                     + _top(_inclusive(stacks), total, top)
                     + ["", "self, by package:"] + _top(_packages(stacks), total, top)
                     + ["", "by stage:"] + _top(stages(stacks), total, len(STAGES) + 1))


def stage_table(columns: list[tuple[str, list[Path], float | None]]) -> str:
    """Return a markdown table: CPU ms per event of each stage (rows) for each target.

    Each target's server CPU per event is split in proportion to its profile's samples.
    """
    shares = []
    for _, paths, _ in columns:
        stacks = read(paths)
        total = sum(n for _, n in stacks) or 1
        shares.append({name: n / total for name, n in stages(stacks).items()})
    head = "| stage | " + " | ".join(name for name, _, _ in columns) + " |"
    lines = [head, "|---|" + "---:|" * len(columns)]
    for name in [stage for stage, _ in STAGES] + [OTHER]:
        cells = [_ms(share.get(name, 0.0), cpu)
                 for share, (_, _, cpu) in zip(shares, columns, strict=True)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    totals = ["—" if cpu is None else f"**{cpu:.2f}**" for _, _, cpu in columns]
    lines.append("| **server CPU per event** | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def _ms(share: float, cpu: float | None) -> str:
    if cpu is None:
        return f"{100 * share:.0f} %"
    return f"{share * cpu:.2f}" if share else "—"


def stages(stacks: list[tuple[list[str], int]]) -> Counter:
    """Count samples by the stage of the event they belong to (see STAGES)."""
    counts: Counter = Counter()
    for frames, n in stacks:
        counts[_stage(frames)] += n
    return counts


def _stage(frames: list[str]) -> str:
    for frame in reversed(frames):
        match = FRAME.match(frame)
        file = match["file"] if match else frame
        for name, patterns in STAGES:
            if any(pattern in file for pattern in patterns):
                return name
    return OTHER


def _top(counts: Counter, total: int, top: int) -> list[str]:
    return [f"  {100 * n / total:5.1f} %  {name}" for name, n in counts.most_common(top)]


def _inclusive(stacks: list[tuple[list[str], int]]) -> Counter:
    counts: Counter = Counter()
    for frames, n in stacks:
        for name in {_short(frame) for frame in frames}:
            counts[name] += n
    return counts


def _packages(stacks: list[tuple[list[str], int]]) -> Counter:
    counts: Counter = Counter()
    for frames, n in stacks:
        counts[_package(frames[-1])] += n
    return counts


def _short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    return f"{match['func']} ({_module(match['file'])})"


def _package(frame: str) -> str:
    match = FRAME.match(frame)
    return _module(match["file"]).split("/")[0] if match else frame


def _module(file: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def main() -> None:
    """Print the summary of the given profiles."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarise(args.files, args.top))


if __name__ == "__main__":
    main()
