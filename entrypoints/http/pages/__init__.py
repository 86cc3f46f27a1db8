"""The account pages the mails link to: plain HTML forms that work with scripts off and
call the same use cases as the API."""
