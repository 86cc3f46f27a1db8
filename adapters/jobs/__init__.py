"""Background jobs on procrastinate: the queue lives in PostgreSQL beside Keel's own tables
(or in memory for the embedded start), a relay moves the outbox into it, and its worker runs
the jobs with Keel's retry policies."""
