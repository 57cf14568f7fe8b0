"""The adapters bound through the colleague's AwsCloud (environment contract), on moto."""

from __future__ import annotations

from tests.stratus.aws.adapters.moto_cloud import create_queue, create_table, moto_cloud

from stratus import App
from stratus.aws.cloud import AwsCloud


def test_aws_cloud_binds_the_adapters_from_the_environment() -> None:
    app = App("shop")
    users = app.table("users", partition_key="id")
    jobs = app.queue("jobs.fifo", fifo=True, content_based_deduplication=True)
    with moto_cloud() as moto:
        table_name = create_table(moto, users)
        queue_url = create_queue(moto, jobs)
        environ = {"STRATUS_TABLE_USERS": table_name, "STRATUS_QUEUE_JOBS_FIFO": queue_url}
        with AwsCloud(environ=environ, region="us-east-1") as cloud:
            cloud.bind(app)
            users.put({"id": "u1", "n": 1})
            assert users.get({"id": "u1"}) == {"id": "u1", "n": 1}
            jobs.send("work", group_id="g")
            [message] = jobs.receive()
            assert message.body == "work"
