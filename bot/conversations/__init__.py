"""The conversations room: read, decide and write one event atomically; retention; user keys.

The store takes a `decide` callable instead of importing the dialogue, and runs the
statements of `bot.referrals` that write the referral record the decision carries.

Modules:
- `store`: each event read, decided and written once, atomically (`conversations(app)`).
- `retention`: how long conversations and event ids are kept: `tsunagu purge` and forgetting
  a person on unfollow.
- `keys`: keyed hashing of LINE user ids, so no id is ever stored in clear.

Imports `bot.db`, `bot.referrals`, `bot.content` and (retention only: which states it keeps
how long) `bot.dialogue`.
"""
