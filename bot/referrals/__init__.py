"""The referrals room: what an anonymous referral record holds, and counting them (`stats`).

The prefecture's tables as CSV and XLSX (`exports`, `tsunagu export`) and the small-cell
protection of published ones (`suppression`) live here too. Imports `bot.db` and
`bot.content`. A record never carries a user key.
"""
