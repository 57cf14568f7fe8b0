"""The dispatcher: event-source mappings that deliver queues, streams, table streams and bucket
events to functions with the semantics AWS documents for each source. Each mapping is a pump."""
