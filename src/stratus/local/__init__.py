"""Embedded adapters: every port on SQLite (WAL) and files, in one process, durable."""
