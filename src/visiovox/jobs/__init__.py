"""The job domain shared by the gateway and the workers."""
