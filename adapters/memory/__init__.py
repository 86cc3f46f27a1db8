"""The ports kept in dictionaries: for fast tests, never for anything users depend on."""
