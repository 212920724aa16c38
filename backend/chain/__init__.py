"""The only code that speaks JSON-RPC: artifacts, devnets, deployment, sending, reading."""
