"""Items: created by their owner, seen and changed by the owner or an administrator."""
