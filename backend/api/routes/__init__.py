"""One module per resource: notices, verify, processes, health."""
