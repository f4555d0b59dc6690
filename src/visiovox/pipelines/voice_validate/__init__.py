"""``voice-validate``: a worker's short check of a voice uploaded to ``POST /v1/voices``."""
