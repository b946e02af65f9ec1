"""The domain: jobs, their lifecycle and the documents they edit. No I/O here."""
