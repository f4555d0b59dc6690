"""Lip-sync engines: a portrait or video frame plus speech in, a frame with the mouth moved out."""
