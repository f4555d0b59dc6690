"""Chat: ``spec.py`` (the conversation's model, for the gateway) and ``run.py`` (the LLM)."""
