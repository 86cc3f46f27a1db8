"""Accounts: registering, reading, listing, changing and deleting them."""
