"""The live voice assistant: one package for one WebSocket conversation hosted by a worker.

``spec.py`` (for the gateway), ``run.py`` (the loop), ``reply.py`` (one spoken
reply), ``audio.py`` (PCM in, WAV out) and ``messages.py`` (what goes either way).
"""
