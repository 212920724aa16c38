"""The agency demo: a realistic procurement and real OCDS data, end to end."""
