"""One module per action a user or an operator can take, grouped by feature: accounts,
sessions, items, mail (what works by a mailed link) and housekeeping."""
