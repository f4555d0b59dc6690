"""Face swap: ``spec.py`` (params and inputs, for the gateway) and ``run.py`` (the face engines)."""
