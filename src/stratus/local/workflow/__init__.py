"""Workflows on the local cloud: STANDARD executions durable in SQLite, EXPRESS in memory.

- :mod:`.adapter` — :class:`LocalWorkflow`, the backend of one declared workflow;
- :mod:`.engine` — the per-cloud engine, its pump, and what durability it guarantees;
- :mod:`.store` — the SQLite tables of STANDARD executions;
- :mod:`.integrations`, :mod:`.lambdas`, :mod:`.services` — what Task resources reach;
- :mod:`.tokens` — task tokens that route to their execution; :mod:`.directory` — finding
  resources by ARN, URL or name.
"""

from stratus.local.workflow.adapter import LocalWorkflow

__all__ = ["LocalWorkflow"]
