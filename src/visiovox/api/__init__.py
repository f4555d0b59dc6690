"""The HTTP gateway: authenticates, validates, stores uploads, creates jobs, streams events."""
