"""Media handling with PyAV (no ffmpeg binary): sniff, probe, decode, encode, subtitles.

Light enough for the gateway: imports only PyAV and numpy, never an engine.
"""
