"""The database room: engines and transactions, the tables, and the Alembic migrations.

Owns everything SQL-specific that is not a query of another room.

Modules:
- `database`: the engines, sessions and transactions, the writer queue of SQLite, migrating
  (`upgrade`) and the `tsunagu db` commands.
- `models`: the tables: conversations in progress, handled events, anonymous referrals with
  their targets and tallies, the funnel's counters, content versions, console accounts, the
  audit log, rich menu deployments.
- `audit`: the audit log: who did what in the console or with an account command, and when.
- `versions`: the stored content versions and the version each channel answers with.
- `migrations`: Alembic's environment and the schema's versions.

Imports no other room (only `bot.clock`).
"""
