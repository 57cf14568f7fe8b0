"""boto3 adapters, one module per port kind, each ``Aws<Kind>(resource, cloud)``.

Adapters reach AWS only through :mod:`._context` (physical identity, clients, clock), so
they bind under :class:`stratus.aws.cloud.AwsCloud` or any object offering that surface.
"""
