"""Live voice conversion: a worker hosts one ``WS /v1/live/voice`` session, PCM in and out."""
