"""The LINE room: LINE's side of the bot: the webhook, its messages, replies, the reply queue.

Modules:
- `webhook`: verify the signature, hand each event to its handler, reply, answer OK.
- `runtime`: a content bundle ready to answer (its content, dialogue and renderer), per
  process.
- `render`: what the engine says as LINE messages, kept per version.
- `messages`: LINE messages as the JSON LINE takes, from small pure functions of the content.
- `limits`: LINE's documented limits on what a bot sends (the renderer and `check` use them).
- `client`: talking to LINE's Messaging API: replies with bounded, budgeted retries.
- `outbox`: the replies waiting for LINE: a Redis stream the webhook fills.
- `sender`: posting the queued replies to LINE, many at once (`tsunagu send-replies`).
- `commands`: the room's command: `tsunagu send-replies`.

The operator's tools for the account itself (the rich menu, its image, the channel's checks)
are a room of their own above the checks: `bot.operator`.

The top of the data path: may import every room below it (conversations, referrals,
dialogue, db, content).
"""
