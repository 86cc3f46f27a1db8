"""Use cases and the ports they depend on. No framework is imported here."""
