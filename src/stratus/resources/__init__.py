"""Ports: what each resource kind *is*, with the semantics of the AWS service it stands for.

One module per kind. Each defines the handle a system uses (a :class:`Resource`
subclass with Pythonic, validated methods), the backend contract its adapters
implement, and its errors.
"""
