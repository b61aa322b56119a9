"""The LINE room: the webhook, LINE events as inputs, rendering replies, LINE's limits, the
reply client, the reply queue and its sender, and the runtime of each content bundle.

The top of the data path: may import every room below it (content, dialogue, referrals,
conversations, db).
"""
