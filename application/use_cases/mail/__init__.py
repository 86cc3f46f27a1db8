"""What works by a link mailed to the account: password reset and address verification
(single-use tokens), and the handlers of the events that send the mails."""
