"""The console room: the counselors' web console at /admin and its accounts.

It owns the console's accounts and roles (`accounts.py`, `tsunagu users`), logging in with
throttling and idle expiry (`auth.py`), the blueprint with its security headers and
allow-list (`web.py`), the counselors' dashboard (`dashboard.py`, `charts.py`), the editors'
versions pages (`editors.py`) and the administrators' pages (`admin.py`); fiscal years and
Japan's time come from `bot/clock.py`. It sits above every other room and may import any of
them.
"""
