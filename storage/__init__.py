"""Storage: the SQLAlchemy 2.0 (async) implementation of the ports in :mod:`surveys.ports`.

- :mod:`storage.database`: engines, sessions, :func:`~storage.database.open_store` and the
  :class:`~storage.database.Store` bundling the repositories;
- :mod:`storage.repositories`: the survey, roster, round, response and audit repositories,
  returning core records, never ORM rows; :mod:`storage.channel_repositories`: identities,
  enrolment codes, the older inbox and outbox; :mod:`storage.queues`: the inbox and outbox
  queues claimed with leases, live screens and named leases (:mod:`storage.keys`: how their
  keys are stored);
- :mod:`storage.tables`: the declarative models; :mod:`storage.migrations`: the Alembic
  migrations that own the schema, run with :mod:`storage.migrate`;
- :mod:`storage.memory`: an in-memory store with the same behaviour (previews, demos, tests).

Works on SQLite (``sqlite+aiosqlite:///itinera.db``) and PostgreSQL
(``postgresql+asyncpg://...``). Imports :mod:`surveys`, never ``handlers`` or ``bot``; this
package imports nothing itself, so ``storage.memory`` needs no SQLAlchemy.
"""
