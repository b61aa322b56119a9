"""The studio room: the editors' tools (`tsunagu check`, the flow table and diagram).

Imports `bot.content`, `bot.dialogue` and `bot.line` (LINE's limits, rendering), never the
conversation store.
"""
