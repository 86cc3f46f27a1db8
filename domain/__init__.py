"""The business core of Keel: entities, value objects, policies and errors (standard library only)."""
