"""Names the queue's users share, without importing the queue library."""

QUEUE = "keel"
HOUSEKEEPING = "housekeeping"
