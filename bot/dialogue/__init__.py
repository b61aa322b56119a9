"""The dialogue room: the pure questionnaire engine (one input + state -> what to say next).

Owns the state machine, reading typed answers, matching rules to programmes and offices, and
crisis words. Imports only `bot.content`; knows nothing of LINE or the database.
"""
