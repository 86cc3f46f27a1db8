"""Housekeeping: what can no longer be used is deleted, so the tables stop growing."""
