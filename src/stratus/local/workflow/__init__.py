"""Workflows on the local cloud: STANDARD executions durable in SQLite, EXPRESS in memory.

- :mod:`.adapter` — :class:`LocalWorkflow`, the backend of one declared workflow;
- :mod:`.engine` — the per-cloud engine and what durability it guarantees; :mod:`.pump` steps
  what is due; :mod:`.live` — a running execution and the commit-before-effect invoker;
- :mod:`.store` — the SQLite tables of STANDARD executions; :mod:`.views` — what describe returns;
- :mod:`.inbox` — task-token calls posted by other processes (the CLI);
- :mod:`.integrations`, :mod:`.lambdas`, :mod:`.services` — what Task resources reach;
- :mod:`.tokens` — task tokens that route to their execution; :mod:`.directory` — finding
  resources by ARN, URL or name.
"""

from stratus.local.workflow.adapter import LocalWorkflow

__all__ = ["LocalWorkflow"]
