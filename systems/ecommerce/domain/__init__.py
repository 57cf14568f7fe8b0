"""The shop's domain: plain Python that knows nothing of AWS, SQLite or HTTP."""
