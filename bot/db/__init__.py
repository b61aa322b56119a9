"""The database room: engines and transactions, the tables, and the Alembic migrations.

Owns everything SQL-specific that is not a query of another room. Imports no other room.
"""
