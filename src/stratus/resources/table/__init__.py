"""The table port (DynamoDB)."""
