"""One archive of the whole system: ``flask --app mediation backup create|restore|verify``.

The archive (``.tar.gz``, written 0600) holds

* ``database/``: a consistent snapshot taken while the app keeps writing. SQLite: the
  database copied through SQLite's online backup API (``mediation.sqlite``), never the
  live file. PostgreSQL: every table (computed columns left out) as JSON lines, one
  array per row in the order of the manifest's columns, read in one ``REPEATABLE READ
  READ ONLY`` transaction (the snapshot pg_dump takes), so no PostgreSQL client is needed;
* ``instance/``: ``config.py``, ``secret_key``, ``id_key`` and ``id_hash_key``, those that exist;
* ``uploads/``: every attachment (and thumbnail) the database snapshot refers to;
* ``manifest.json``: format, app version, dialect, Alembic revision, the time, each table's
  columns and row count, and the SHA-256 and size of every other file.

``restore`` rebuilds an archive into an empty instance folder and an empty database of the
same dialect (``restore.py``).
"""
FORMAT = "mediation-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INSTANCE_FILES = ("config.py", "secret_key", "id_key", "id_hash_key")
