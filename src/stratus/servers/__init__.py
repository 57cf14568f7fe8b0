"""Adapters for real servers (PostgreSQL for Aurora, Redis for ElastiCache), used locally by choice and on AWS."""
