"""The sheet room: a referral's own page, opened from the link under it on LINE (`/r/<token>`).

A public page of the app, not the console: whoever holds the link may open it, so it shows
only what the link carries (the answers' categories and the version) and the referral made
again from them. It reads no table (the version is in memory), keeps nothing, and needs no
script, font or image from anywhere else; it prints on one A4 sheet to show at the counter.

Modules:
- `page`: what the page shows: the referral made again from the link's answers with the bot's
  own matching, against the version the link names (or the live one, saying so), the summary
  to show at the counter, and the LINE share link.
- `web`: the blueprint at /r/: the page, a kind page for an old, altered or expired link,
  noindex, and the console's security headers.

It sits above the console, whose security headers it sends (`bot.console.web`), and may import
every room below (line, referrals, dialogue, content); nothing imports it but the app factory.
"""
