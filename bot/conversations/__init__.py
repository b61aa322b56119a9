"""The conversations room: read, decide and write one event atomically; retention; user keys.

The store takes a `decide` callable instead of importing the dialogue, and writes the referral
record the decision carries. Imports `bot.db` and `bot.referrals`.
"""
