"""The referrals room: what an anonymous referral record holds, and counting them (`stats`).

Imports `bot.db` and `bot.content`. A record never carries a user key.
"""
