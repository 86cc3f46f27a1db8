"""Event buses for live events: in this process's memory, or through Redis Streams."""
