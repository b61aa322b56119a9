"""The referrals room: anonymous referral records, their tallies, and the counts made of them.

A record never carries a user key. The room owns the statements that write its tables
(`referrals`, `referral_targets`, `referral_tallies`); the conversation store runs them in
each event's own write, so a redelivered event counts once.

Modules:
- `record`: what a record holds (`Record`, `record`) and the statements that store it:
  `write` (in a transaction), `stored_after` and `stored_values` (inside one statement).
- `tallies`: the monthly tallies kept as records land (`add`, `added_after`,
  `added_values`), summing them, and `rebuild` from the records.
- `stats`: the counts for counselors and the `tsunagu stats` command.
- `funnel`: where people go in the questionnaire: the daily counters, summed over a period.
- `exports`: the prefecture's tables as CSV and XLSX (`tsunagu export`).
- `suppression`: the small-cell protection of published counts.
- `retention`: how many fiscal years records are kept, and deleting older ones with their
  tallies.
- `links`: the link to a referral's own page: the answers' categories and the version, signed
  for 90 days (no user key, no row: the link is all there is).

Imports `bot.db` and `bot.content` (and `bot.clock`).
"""
