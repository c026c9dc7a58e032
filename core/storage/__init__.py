"""Storage, the bottom of the stack: the only LanceDB code and everything that reads or writes
workspace data as such.

- schemas: one LanceModel per table, enums, key columns.
- store: the Store (LanceDB connection, typed reads, upserts, atomic operations).
- claims: leases on queue items, so two reviewers never hold the same one.
- imports: BEIR folders, .zip, JSONL/CSV documents, all or nothing.
- splits: train/eval assignment.
- demo: the bundled demo workspace.
- projects: the workspace's projects (one dataset each), their names and counts.
- archive: zip export of a workspace.
- status: counts, milestones and the next step.
- auth: users file, roles, the permission check; accounts: user changes with their events;
  sessions: signed sign-in tokens (the app's cookie); throttle: failed sign-ins per name.
- migrations: the schema version, older workspaces brought forward; retention: how long old
  table versions are kept, the daily optimize; backup: consistent snapshots and their restore.
"""

import os

# Before anything imports lancedb: lance logs a deprecation warning on every full-text search that
# selects columns (0.40 has no Python switch for it), thousands of lines in a run's log. Errors still show.
os.environ.setdefault("LANCEDB_LOG", "error")

__all__ = ["schemas", "store", "claims", "imports", "splits", "demo", "projects", "archive", "status", "auth", "accounts", "sessions", "throttle",
           "migrations", "retention", "backup"]
