"""The console room: the counselors' web console at /admin and its accounts.

Modules:
- `site`: the console put together: its pages, sessions, CSRF and the `tsunagu users` command.
- `web`: the blueprint, its security headers, the address allow-list and the error pages.
- `auth`: logging in: sessions, idle expiry, the login throttle and role checks.
- `accounts`: accounts and roles, argon2 password hashes, the `tsunagu users` commands.
- `dashboard`: the counselors' dashboard: a fiscal year's referrals by 取組, office, area and
  answer, whether they seemed useful, the menu areas tapped, and the months one by one.
- `charts`: bar charts drawn as SVG on the server (no JavaScript): counts, and month by month.
- `exports`: the counselors' downloads: 相談等件数, the referral records, the monthly workbook.
- `funnels`: a version's funnel beside the version before.
- `drafting`: the check's report of the draft on every editor page, the offices found by
  municipality or gap, the worklist 「確認が必要な情報」.
- `editing`: the draft's items edited in forms (offices, programmes, questions, rules,
  messages, crisis lines, events, the finder, handoff, the menu): saved with their sources,
  refused beside the field, never lost; added, and restored from the draft's history.
- `scenario_results`: the draft's scenarios played against the draft, each 合格 or 不合格
  with what it must get beside what it got.
- `editors`: the editors' pages: the versions, what each changes from live, publishing and
  rolling back.
- `admin`: the administrators' pages: accounts, and the audit log with its CSV export.

Fiscal years and Japan's time come from `bot/clock.py`. It sits above every other room and
may import any of them.
"""
