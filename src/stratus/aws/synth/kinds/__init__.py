"""One generator per resource kind; importing this package registers them all."""

from stratus.aws.synth.kinds import apis, data, events, functions, identity, messaging, monitoring, storage, workflow

__all__ = ["apis", "data", "events", "functions", "identity", "messaging", "monitoring", "storage", "workflow"]
