"""VisioVox: a self-hosted platform for AI media jobs."""

__version__ = "0.1.0"
