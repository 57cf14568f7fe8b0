"""Finding resources by the identifiers definitions use: ARNs, URLs, names, partial function ARNs."""

from __future__ import annotations

from typing import Any

from stratus import App
from stratus.local.workflow.directory import Directory
from stratus.testing import local


def test_resources_are_found_by_every_aws_identifier() -> None:
    app = App("dir")
    queue = app.queue("jobs")
    table = app.table("items", partition_key="id")
    topic = app.topic("news")

    @app.function
    def handler(event: Any, context: Any) -> None:
        return None

    with local(app) as env:
        directory = Directory(env.cloud)
        assert directory.find("queue", "https://sqs.us-east-1.amazonaws.com/000000000000/dir-jobs") is queue
        assert directory.find("queue", "arn:aws:sqs:us-east-1:000000000000:dir-jobs") is queue
        assert directory.find("table", "dir-items") is table
        assert directory.find("table", "arn:aws:dynamodb:us-east-1:000000000000:table/dir-items") is table
        assert directory.find("topic", "arn:aws:sns:us-east-1:000000000000:dir-news") is topic
        for name in (
            "dir-handler",
            "dir-handler:$LATEST",
            "arn:aws:lambda:us-east-1:000000000000:function:dir-handler",
            "arn:aws:lambda:us-east-1:000000000000:function:dir-handler:live",
            "000000000000:function:dir-handler",
        ):
            assert directory.find("function", name) is handler, name
        assert directory.find("queue", "dir-items") is None
        assert directory.find("function", None) is None
