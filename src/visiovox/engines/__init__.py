"""Model-backed capabilities: one folder per capability, one module per implementation."""
