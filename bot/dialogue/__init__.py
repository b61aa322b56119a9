"""The dialogue room: the pure engine of a conversation (one input + state -> what to say next).

Imports only `bot.content` (and `bot.clock`); knows nothing of LINE or the database.

- `engine`: `Dialogue.respond`, the table of handlers (entry points, states, fallback) and the
  questionnaire's own handlers.
- `account`: the handlers beyond the questionnaire (a handoff's silence, the rich menu, the
  office finder) and what they say.
- `turns`: what a turn is made of: inputs, outputs, the typed `Conversation` (answers and
  markers apart), the `Outcome`, and the postback data of every button.
- `machine`: the questionnaire's `transitions` state machine, built from the flow file.
- `answers`: reading typed answers (normalising once, options, ages, municipalities).
- `matching`: the rules that turn answers into programmes and offices.
- `crisis`: crisis words (the text itself is never kept).
"""
