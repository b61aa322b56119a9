"""Editors' benchmark: a save with its checks, and the editor pages, on gunicorn with 2 workers.

    .venv/bin/python -m bench.editor [--database sqlite|postgresql|both] [--saves 100]
                                     [--editors 3] [--profile DIR] [--write-docs]

The production set-up of the README: gunicorn with the shipped gunicorn.conf.py (the
bot.server.ThreadWorker), 2 workers of 8 threads, behind a reverse proxy. The benchmark plays
that proxy as nginx does with the README's settings: a new connection to gunicorn per request,
X-Forwarded-For / -Proto (https) / -Host, with TSUNAGU_PROXY_HOPS=1, so the console's Secure
cookies, its CSRF tokens and their referrer check work as in a browser, and requests spread
over both workers.

Each editor has an account of their own (`tsunagu users add`) and logs in through the login
form. Then, until the saves are made, each one opens a random office's form, changes its phone
number or its hours (the two values alternate, so every save changes something), gives a
source and posts the form with every field as shown; a save refused because another editor
saved the office meanwhile (409) is counted, the form read again and the save retried. A save
with its checks is the POST and the GET of the page it redirects to: only then does the editor
see what the check of the whole draft says (each worker runs the check once per draft and day,
`drafting.draft_report`). After each save the editor opens a few of the other editor pages in
turn. Once the saves are made, every page is opened again with no saves meanwhile. Targets
(issue 19): a save with its checks p95 < 1 s, each editor page p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import random
import re
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import psutil
from werkzeug.datastructures import MultiDict

from bench import report
from bench.databases import PG_ADMIN_URL, postgresql_url, sqlite_url
from bench.load import percentile
from bench.measure import _machine_busy, quiet, say
from bench.servers import (
    BIN,
    ROOT,
    TSUNAGU_APP,
    Gunicorn,
    Target,
    bot_env,
    database_cpu_seconds,
    revision,
)
from tests.support.forms import form_of

SAVE_LIMIT, PAGE_LIMIT = 1.0, 0.3
PG_DATABASE = "bench_editor"
HOST = "127.0.0.1"  # the host name the proxy forwards (TSUNAGU_TRUSTED_HOSTS)
PASSWORD = "kanto-matsuri-lanterns-{n}-4821"
SOURCE = "秋田県のウェブサイト（ベンチマーク {who} の保存 {n}）"
HOURS = "月〜金 8:30〜17:15"
SAVED = "下書きに保存しました"
OFFICE_FORM = "offices/<id>"
# The editor pages (besides an office's form), as the issue names them.
PAGES = {"draft": "/admin/draft/", "offices": "/admin/draft/offices",
         OFFICE_FORM: "/admin/draft/offices/{office}",
         "questions/employment": "/admin/draft/questions/employment",
         "rules/unstable-employment": "/admin/draft/rules/unstable-employment",
         "messages": "/admin/draft/messages", "worklist": "/admin/draft/worklist",
         "history": "/admin/draft/history", "scenarios": "/admin/draft/scenarios",
         "publish (the diff)": "/admin/versions/publish"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.editor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", "--db", dest="database", default="both",
                        choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--saves", type=int, default=100,
                        help="saves on each database, by all editors together (default: 100)")
    parser.add_argument("--editors", type=int, default=3,
                        help="editors at work at once, each logged in (default: 3)")
    parser.add_argument("--pages-per-save", type=int, default=3,
                        help="other editor pages each editor opens after a save (default: 3)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds an editor waits (± half) before each request: reading a "
                             "page, typing (default: 1)")
    parser.add_argument("--repeat", type=int, default=10,
                        help="times each page is opened once the saves are made (default: 10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default: 2)")
    parser.add_argument("--threads", type=int, default=8,
                        help="threads per worker (default: 8, the shipped config's with the "
                             "reply queue)")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record py-spy profiles of both workers while editors save")
    parser.add_argument("--noise-limit", type=float, default=0.25,
                        help="wait (at most --quiet-wait s) until other programs use fewer cores")
    parser.add_argument("--quiet-wait", type=float, default=60.0)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--workdir", type=Path,
                        help="where SQLite files and gunicorn logs go (default: a new temp dir)")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/performance.md")
    return parser.parse_args(argv)


# -- a browser behind the proxy ------------------------------------------------------------

@dataclass
class Page:
    status: int
    location: str
    text: str
    seconds: float


class Browser:
    """One editor's browser as gunicorn sees it through nginx: a new connection per request."""

    def __init__(self, port: int, address: str) -> None:
        self.port = port
        self.address = address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields=None, referer: str | None = None) -> Page:
        headers = {"Host": HOST, "X-Forwarded-For": self.address, "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": HOST, "Connection": "close",
                   "User-Agent": "tsunagu-bench-editor"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(list(fields.items(multi=True))).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if referer:
            headers["Referer"] = f"https://{HOST}{referer}"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        for value in response.headers.get_all("Set-Cookie") or []:
            self._keep(value)
        location = response.headers.get("Location") or ""
        if location:
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        return Page(response.status, location, data.decode("utf-8", "replace"), seconds)

    def _keep(self, header: str) -> None:
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            if morsel.value == "" or morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def submit(self, page_path: str, page: Page, action: str, **changes) -> Page:
        """Post a page's form as a browser would: every field as shown, these changed."""
        found, fields = form_of(page.text, action)
        for name, value in changes.items():
            fields.poplist(name)
            fields[name] = value
        return self.request("POST", found, fields, referer=page_path)

    def log_in(self, name: str, password: str) -> None:
        form = self.get("/admin/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert form.status == 200 and found, (form.status, form.text[:300])
        done = self.request("POST", "/admin/login", MultiDict(
            {"name": name, "password": password, "csrf_token": found.group(1)}),
            referer="/admin/login")
        assert done.status == 302, f"{name} could not log in: {done.status} {done.text[:300]}"


# -- what the editors do -------------------------------------------------------------------

@dataclass
class Results:
    saves: list[float] = field(default_factory=list)  # POST + GET of the redirected page
    posts: list[float] = field(default_factory=list)  # the POST alone
    busy: dict[str, list[float]] = field(default_factory=dict)  # pages while editors save
    idle: dict[str, list[float]] = field(default_factory=dict)  # pages with no saves
    conflicts: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)  # the first errors' pages
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page(self, phase: dict[str, list[float]], name: str, seconds: float) -> None:
        with self.lock:
            phase.setdefault(name, []).append(seconds)

    def error(self, what: str, page: Page | None = None) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1
            if page is not None and len(self.failed) < 10:
                self.failed.append((what, page.text))


@dataclass
class Office:
    id: str
    phones: tuple[str, str] | None  # as shipped and without its hyphens
    hours: tuple[str, str]


def shipped_offices() -> list[Office]:
    """Return the shipped offices, each with the two values its saves alternate between."""
    from bot.content import bundle

    content = bundle.load(ROOT / "content", ROOT / "flows")
    offices = []
    for office in content.offices.values():
        if office.url and not office.url.startswith("https://"):
            # Left out so that runs stay comparable with the first (cc591cd), when its form
            # refused any save until its web address was https:// (mended in e09cb3d).
            continue
        phones = ((office.phone, office.phone.replace("-", ""))
                  if office.phone and "-" in office.phone else None)
        hours = (office.hours, f"{office.hours}（祝日を除く）") if office.hours else ("", HOURS)
        offices.append(Office(office.id, phones, hours))
    return offices


def other(pair: tuple[str, str], now: str) -> str:
    """Return the value of the pair that differs from the form's."""
    return pair[1] if now == pair[0] else pair[0]


class Editor(threading.Thread):
    """One editor: open an office's form, change a fact with its source, save, look around."""

    def __init__(self, n: int, browser: Browser, offices: list[Office], todo: list[int],
                 results: Results, args: argparse.Namespace) -> None:
        super().__init__(name=f"editor-{n}", daemon=True)
        self.n, self.browser, self.offices, self.todo = n, browser, offices, todo
        self.results, self.args = results, args
        self.rng = random.Random(args.seed * 100 + n)
        self.turn = n  # which of the other pages comes next
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while self._take():
                self.save(self.rng.choice(self.offices))
                for _ in range(self.args.pages_per_save):
                    self.look(self.results.busy)
        except BaseException as err:  # noqa: BLE001 (reported by the main thread)
            self.failure = err

    def _take(self) -> bool:
        with self.results.lock:
            if not self.todo:
                return False
            self.todo.pop()
            return True

    def _pause(self) -> None:
        time.sleep(self.args.think * self.rng.uniform(0.5, 1.5))

    def save(self, office: Office) -> None:
        """Save one change of an office, again on a newer form if another editor saved it."""
        address = f"/admin/draft/offices/{office.id}"
        for _ in range(10):
            form = self.browser.get(address)
            self.results.page(self.results.busy, OFFICE_FORM, form.seconds)
            if form.status != 200:
                self.results.error(f"office form {form.status}", form)
                return
            _, fields = form_of(form.text, address)
            self._pause()
            if office.phones and self.rng.random() < 0.5:
                change = {"phone": other(office.phones, fields.get("phone", ""))}
            else:
                change = {"hours": other(office.hours, fields.get("hours", ""))}
            posted = self.browser.submit(address, form, address, source=SOURCE.format(
                who=self.n, n=len(self.results.saves) + 1), **change)
            if posted.status == 409:
                with self.results.lock:
                    self.results.conflicts += 1
                continue
            if posted.status != 302:
                self.results.error(f"save {posted.status}", posted)
                return
            shown = self.browser.get(posted.location)
            if shown.status != 200 or SAVED not in shown.text:
                self.results.error(f"page after a save {shown.status}", shown)
                return
            with self.results.lock:
                self.results.saves.append(posted.seconds + shown.seconds)
                self.results.posts.append(posted.seconds)
            return
        self.results.error("10 conflicts in a row")

    def look(self, phase: dict[str, list[float]], name: str | None = None) -> None:
        """Open a page (by default the next of the editor pages in turn), as an editor does."""
        if name is None:
            name = list(PAGES)[self.turn % len(PAGES)]
            self.turn += 1
        self._pause()
        path = PAGES[name].format(office=self.rng.choice(self.offices).id)
        page = self.browser.get(path)
        if page.status != 200:
            self.results.error(f"{name} {page.status}", page)
            return
        self.results.page(phase, name, page.seconds)


# -- one database --------------------------------------------------------------------------

@dataclass
class Run:
    kind: str
    results: Results
    window: float = 0.0  # seconds of the saves
    server_cpu: float = 0.0  # seconds, gunicorn master and workers, while editors saved
    database_cpu: float | None = None
    others: float = 0.0  # cores other programs used while editors saved
    worker_cpu: list[float] = field(default_factory=list)
    log_problems: dict[str, int] = field(default_factory=dict)
    profile: list[Path] = field(default_factory=list)


def fresh(kind: str, workdir: Path, env: dict[str, str], admin_url: str) -> str:
    """Create an empty database (PostgreSQL: `bench_editor`, not bench.run's), migrated."""
    url = (sqlite_url(workdir, "editor") if kind == "sqlite"
           else postgresql_url(admin_url, PG_DATABASE))
    subprocess.run([str(BIN / "tsunagu"), "db", "upgrade"], cwd=ROOT, check=True,
                   env={**env, "DATABASE_URL": url}, stdout=subprocess.DEVNULL)
    return url


def add_editors(env: dict[str, str], count: int) -> list[tuple[str, str]]:
    """Create the editors' accounts with `tsunagu users add`; return names and passwords."""
    made = []
    for n in range(1, count + 1):
        name, password = f"editor-{n}", PASSWORD.format(n=n)
        subprocess.run([str(BIN / "tsunagu"), "users", "add", name, "--role", "editor",
                        "--password-stdin"], cwd=ROOT, env=env, input=password + "\n",
                       text=True, check=True, stdout=subprocess.DEVNULL)
        made.append((name, password))
    return made


def run_db(kind: str, args: argparse.Namespace, workdir: Path) -> Run:
    """Start gunicorn on a fresh database of this kind, let the editors work, measure."""
    env = bot_env("http://127.0.0.1:9")  # LINE is never called from the console
    env.update(TSUNAGU_PROXY_HOPS="1", TSUNAGU_TRUSTED_HOSTS=HOST)
    env["DATABASE_URL"] = fresh(kind, workdir, env, args.pg_admin_url)
    accounts = add_editors(env, args.editors)
    server = Gunicorn(Target(f"tsunagu {kind}", TSUNAGU_APP, args.workers, args.threads, kind),
                      env, workdir / f"editor-{kind}.log")
    asyncio.run(server.start())
    run = Run(kind, Results())
    try:
        browsers = []
        for n, (name, password) in enumerate(accounts, 1):
            browser = Browser(server.port, f"192.0.2.{n}")  # each editor from their own desk
            browser.log_in(name, password)
            browsers.append(browser)
        offices = shipped_offices()
        asyncio.run(quiet(SimpleNamespace(noise_limit=args.noise_limit,
                                          quiet_wait=args.quiet_wait)))
        say(f"{kind}: {args.editors} editors make {args.saves} saves ...")
        spies = _spy(server, args.profile, kind)
        run.profile = [path for path, _ in spies]
        me = psutil.Process()
        before = (time.perf_counter(), server.cpu_seconds(), server.worker_cpu(),
                  database_cpu_seconds() if kind == "postgresql" else None, _machine_busy(),
                  sum(me.cpu_times()[:2]))
        todo = list(range(args.saves))
        editors = [Editor(n, b, offices, todo, run.results, args)
                   for n, b in enumerate(browsers, 1)]
        _all(editors)
        began, cpu, workers, database, busy, mine = before
        run.window = time.perf_counter() - began
        run.server_cpu = server.cpu_seconds() - cpu
        now = server.worker_cpu()
        run.worker_cpu = sorted((now[pid] - workers[pid] for pid in now if pid in workers),
                                reverse=True)
        if database is not None:
            run.database_cpu = database_cpu_seconds() - database
        ours = run.server_cpu + (run.database_cpu or 0.0) + sum(me.cpu_times()[:2]) - mine
        run.others = max(0.0, _machine_busy() - busy - ours) / run.window
        _stop(spies)
        say(f"{kind}: every page {args.repeat} times with no saves meanwhile ...")
        readers = [Reader(n, b, offices, [], run.results, args) for n, b in enumerate(browsers, 1)]
        _all(readers)
    finally:
        server.stop()
    run.log_problems = server.log_problems()
    for n, (what, text) in enumerate(run.results.failed, 1):
        (workdir / f"editor-{kind}-error-{n}.html").write_text(f"<!-- {what} -->\n{text}")
    return run


class Reader(Editor):
    """An editor who only reads: every page in turn, `--repeat` times among all readers."""

    def run(self) -> None:
        try:
            names = list(PAGES)
            for i in range(self.n - 1, self.args.repeat * len(names), self.args.editors):
                self.look(self.results.idle, names[i % len(names)])
        except BaseException as err:  # noqa: BLE001 (reported by the main thread)
            self.failure = err


def _all(threads: list[Editor]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for thread in threads:
        if thread.failure is not None:
            raise thread.failure


def _spy(server: Gunicorn, folder: Path | None, kind: str) -> list[tuple[Path, subprocess.Popen]]:
    """Start py-spy on every worker (until stopped), if asked."""
    if folder is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    spies = []
    for worker in server.workers():
        path = folder / f"editor-{kind}-{worker.pid}.txt"
        spies.append((path, subprocess.Popen(
            [str(BIN / "py-spy"), "record", "-p", str(worker.pid), "-r", "100", "-f", "raw",
             "-o", str(path), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    return spies


def _stop(spies: list[tuple[Path, subprocess.Popen]]) -> None:
    for _, spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
    for _, spy in spies:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()


# -- the report ----------------------------------------------------------------------------

def spread(values: list[float]) -> str:
    """Return p50 / p95 / max in milliseconds."""
    if not values:
        return "—"
    return " / ".join(report.ms(percentile(values, q)) for q in (0.5, 0.95, 1.0))


def mark(values: list[float], limit: float) -> str:
    if not values:
        return "—"
    return "✅" if percentile(values, 0.95) < limit else "❌"


def tables(runs: list[Run], args: argparse.Namespace) -> str:
    """Return the results as Markdown: saves, pages, then notes."""
    lines = [f"gunicorn with the shipped config, {args.workers} workers × {args.threads} "
             f"threads, behind a stand-in for the README's nginx (a new connection per "
             f"request); a fresh database; {args.editors} editors logged in, each "
             f"waiting {args.think:g} s (± half) before each request. {args.saves} saves of an "
             "office's phone number or hours with a source, each by a random editor on a "
             "random office; after each save the editor opens "
             f"{args.pages_per_save} of the other pages in turn. Then, with no saves, each "
             f"page {args.repeat} times. Milliseconds, p50 / p95 / max.", "",
             "| database | saves | conflicts (retried) | save + its check | the POST alone | "
             "errors | target |", "|---|---|---|---|---|---|---|"]
    for run in runs:
        r = run.results
        errors = ", ".join(f"{k} ×{n}" for k, n in sorted(r.errors.items())) or "0"
        lines.append(f"| {run.kind} | {len(r.saves)} | {r.conflicts} | {spread(r.saves)} | "
                     f"{spread(r.posts)} | {errors} | {mark(r.saves, SAVE_LIMIT)} p95 < "
                     f"{SAVE_LIMIT * 1000:.0f} ms |")
    head = "| page | " + " | ".join(f"{run.kind}: while editors save | {run.kind}: no saves"
                                     for run in runs) + " | target |"
    lines += ["", head, "|---|" + "---|" * (2 * len(runs)) + "---|"]
    for name in PAGES:
        cells, marks = [], []
        for run in runs:
            for phase in (run.results.busy, run.results.idle):
                values = phase.get(name, [])
                cells.append(f"{spread(values)} ({len(values)})")
                marks.append(mark(values, PAGE_LIMIT))
        ok = "❌" if "❌" in marks else "✅"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ok} p95 < "
                     f"{PAGE_LIMIT * 1000:.0f} ms |")
    lines += ["", "(n): requests measured. " + "; ".join(_note(run) for run in runs) + "."]
    return "\n".join(lines)


def _note(run: Run) -> str:
    saves = len(run.results.saves) or 1
    text = (f"{run.kind}: {run.window:.0f} s of saves, server CPU "
            f"{run.server_cpu / saves:.2f} s per save (workers "
            + " / ".join(f"{s:.0f}" for s in run.worker_cpu) + " s)")
    if run.database_cpu is not None:
        text += f", PostgreSQL {run.database_cpu / saves * 1000:.0f} ms per save"
    text += f", other programs {run.others:.2f} cores"
    if run.log_problems:
        text += ", server log: " + ", ".join(f"{k} ×{n}" for k, n in run.log_problems.items())
    return text


def main(argv: list[str] | None = None) -> list[Run]:
    """Run the editors' benchmark; print (and with --write-docs, write) its tables."""
    args = parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory(prefix="tsunagu-editor-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        runs = [run_db(kind, args, workdir) for kind in kinds]
    text = tables(runs, args)
    print(text)
    profiled = [path for run in runs for path in run.profile if path.exists()]
    if profiled:
        from bench.profile import summarise

        print("\n" + summarise(profiled, top=40))
    if args.write_docs:
        section = report.dated("Editors' saves and pages (issue 19)", "bench.editor",
                               revision(), text)
        report.write_docs("editor", section)
        say(f"wrote {report.DOCS}")
    return runs


if __name__ == "__main__":
    main()
