"""Pipelines: a light spec each (imported by the gateway) and a lazy ``run``."""
