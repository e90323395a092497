"""Use cases of the mailer: deliver queued e-mails and record what happened."""
