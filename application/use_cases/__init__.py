"""One class per action a user or an operator can take."""
