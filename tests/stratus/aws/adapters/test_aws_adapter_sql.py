"""AwsSql: a real PostgreSQL reached through connection settings kept in (moto's) Secrets Manager.

The secret holds the credentials of the PostgreSQL on 127.0.0.1:5432 (trust auth, so the
password is never checked, which lets the tests watch where it goes); the statements run
on that server. Skipped, with the reason, when the server cannot be reached.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql as pg_sql
from tests.ports.sql.conftest import postgres_unreachable
from tests.stratus.aws.adapters.moto_cloud import MotoCloud, moto_cloud

from stratus import App
from stratus.aws.adapters.sql import AwsSql, SecretFormatError, settings_from_secret
from stratus.resources.sql import IntegrityError, SqlDatabase, SqlError
from stratus.servers import postgres

PASSWORD = "pw-9f1c-never-in-a-message"
SERVER = {
    "engine": "postgres",
    "host": "127.0.0.1",
    "port": 5432,
    "username": "postgres",
    "password": PASSWORD,
    "dbname": "test",
    "sslmode": "disable",  # the test server has no TLS (without the field: prefer)
    "dbClusterIdentifier": "shop-ledger",
}
ACCOUNTS = ["CREATE TABLE accounts (id TEXT PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0))"]


# -- settings from the secret (no server needed) --------------------------------------------------


def test_the_rds_secret_shape_becomes_a_connection_string_hiding_the_password() -> None:
    settings = settings_from_secret(json.dumps({**SERVER, "sslmode": None}), "sql 'ledger'", "v1")
    assert psycopg.conninfo.conninfo_to_dict(settings.conninfo) == {
        "host": "127.0.0.1",
        "port": "5432",
        "user": "postgres",
        "password": PASSWORD,
        "dbname": "test",
        "sslmode": "prefer",  # TLS whenever the server offers it, unless the secret says otherwise
    }
    assert PASSWORD not in repr(settings) and PASSWORD not in settings.display
    assert "password=***" in settings.display


def test_a_dsn_field_or_url_is_accepted_and_named_fields_override_it() -> None:
    from_url = settings_from_secret(f"postgresql://app:{PASSWORD}@db.example:6432/shop?sslmode=verify-full", "w")
    assert psycopg.conninfo.conninfo_to_dict(from_url.conninfo) == {
        "user": "app",
        "password": PASSWORD,
        "host": "db.example",
        "port": "6432",
        "dbname": "shop",
        "sslmode": "verify-full",
    }
    mixed = settings_from_secret(json.dumps({"dsn": "host=old user=app dbname=shop", "host": "new"}), "w")
    assert psycopg.conninfo.conninfo_to_dict(mixed.conninfo)["host"] == "new"
    no_db = settings_from_secret(json.dumps({"host": "h", "username": "u"}), "w")
    assert psycopg.conninfo.conninfo_to_dict(no_db.conninfo)["dbname"] == "postgres"


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "neither JSON nor a postgresql:// URL"),
        ("[1, 2]", "must be an object"),
        (json.dumps({**SERVER, "engine": "mysql"}), "engine 'mysql'"),
        (json.dumps({"username": "u", "password": PASSWORD}), "no host"),
        (json.dumps({"host": "h", "password": PASSWORD}), "no username"),
        (json.dumps({**SERVER, "port": "x5432"}), "port must be a number"),
    ],
)
def test_a_secret_of_another_shape_is_refused_without_showing_it(secret: str, message: str) -> None:
    with pytest.raises(SecretFormatError, match=message) as info:
        settings_from_secret(secret, "sql 'ledger' (secret arn:x)")
    assert PASSWORD not in str(info.value)
    assert "sql 'ledger' (secret arn:x)" in str(info.value)


# -- on the server --------------------------------------------------------------------------------


class SecretsSpy:
    """Secrets Manager as the adapter sees it: counts reads and can rotate the value right after one."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.reads = 0
        self.rotate_to: str | None = None

    def get_secret_value(self, **params: Any) -> Any:
        response = self.real.get_secret_value(**params)
        self.reads += 1
        if self.rotate_to is not None:
            self.real.put_secret_value(SecretId=params["SecretId"], SecretString=self.rotate_to)
            self.rotate_to = None
        return response


class SpyCloud(MotoCloud):
    def __init__(self) -> None:
        super().__init__()
        self.secrets = SecretsSpy(super().client("secretsmanager"))

    def client(self, service: str, *, endpoint_url: str | None = None, region: str | None = None) -> Any:
        if service == "secretsmanager":
            return self.secrets
        return super().client(service, endpoint_url=endpoint_url, region=region)


@pytest.fixture
def server() -> None:
    if reason := postgres_unreachable():
        pytest.skip(reason)


@pytest.fixture
def cloud(server: None) -> Iterator[SpyCloud]:
    with moto_cloud():
        spy = SpyCloud()
        try:
            yield spy
        finally:
            spy.close()


@pytest.fixture
def app_name() -> Iterator[str]:
    name = f"awssql-{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        for db in ("ledger",):
            schema = postgres.schema_name(name, db)
            conn.execute(pg_sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pg_sql.Identifier(schema)))


def declare(cloud: SpyCloud, app_name: str, value: dict[str, Any] | str) -> SqlDatabase:
    db = App(app_name).sql("ledger", migrations=ACCOUNTS)
    text = value if isinstance(value, str) else json.dumps(value)
    arn = cloud.client("secretsmanager").real.create_secret(Name=f"{app_name}-ledger-credentials", SecretString=text)
    cloud.set_id(db, arn["ARN"])
    return db


def test_statements_and_transactions_run_on_the_server_named_by_the_secret(
    cloud: SpyCloud, app_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="stratus")  # (botocore's own DEBUG log prints response bodies)
    db = declare(cloud, app_name, SERVER)
    backend = cloud.bind(db, AwsSql)
    assert backend.schema == postgres.schema_name(app_name, "ledger")
    assert db.scalar("SELECT current_schema()") == backend.schema  # migrated into its own schema
    assert db.execute("INSERT INTO accounts (id, balance) VALUES (:id, :b)", {"id": "a", "b": 10}) == 1
    with db.transaction() as tx:
        tx.execute("UPDATE accounts SET balance = balance - 4 WHERE id = 'a'")
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('b', 4)")
    with pytest.raises(IntegrityError), db.transaction() as tx:
        tx.execute("UPDATE accounts SET balance = balance + 100 WHERE id = 'b'")
        tx.execute("UPDATE accounts SET balance = balance - 100 WHERE id = 'a'")  # CHECK fails: all rolled back
    assert {r["id"]: r["balance"] for r in db.query("SELECT id, balance FROM accounts")} == {"a": 6, "b": 4}
    assert db.scalar("SELECT current_setting('TimeZone')") == "UTC"
    assert cloud.secrets.reads == 1  # read once, then cached for every connection of the pool
    assert PASSWORD not in repr(backend) and PASSWORD not in caplog.text
    assert "password=***" in caplog.text  # the connection was logged, redacted


def test_a_rotated_secret_is_read_again_when_connecting_fails(cloud: SpyCloud, app_name: str) -> None:
    stale = {**SERVER, "port": 1}  # nothing listens there: as a password the server no longer takes
    db = declare(cloud, app_name, stale)
    rotated = {k: v for k, v in SERVER.items() if k != "sslmode"}  # as RDS writes it: no sslmode
    cloud.secrets.rotate_to = json.dumps(rotated)  # rotated just after the adapter's first read
    backend = cloud.bind(db, AwsSql)
    assert cloud.secrets.reads == 2
    assert "port=5432" in backend.settings.display and "sslmode=prefer" in backend.settings.display
    db.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)")
    assert db.scalar("SELECT COUNT(*) FROM accounts") == 1
    assert cloud.secrets.reads == 2


def test_an_unchanged_secret_raises_the_connection_error_redacted(cloud: SpyCloud, app_name: str) -> None:
    db = declare(cloud, app_name, {**SERVER, "sslmode": "require"})  # the test server has no TLS to give
    with pytest.raises(SqlError, match=r"cannot connect to PostgreSQL at .*password=\*\*\*.*SSL") as info:
        cloud.bind(db, AwsSql)
    assert PASSWORD not in str(info.value)
    assert cloud.secrets.reads == 2  # read again in case it had been rotated, then the error


def test_a_missing_secret_or_value_is_a_sql_error_naming_it(cloud: SpyCloud, app_name: str) -> None:
    db = App(app_name).sql("ledger", migrations=ACCOUNTS)
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    cloud.set_id(db, missing)
    with pytest.raises(SqlError, match=r"sql 'ledger' \(secret arn:.*nope-AbCdEf\): cannot read") as info:
        AwsSql(db, cloud)
    assert info.value.code == "ResourceNotFoundException"
    empty = cloud.client("secretsmanager").real.create_secret(Name=f"{app_name}-empty")["ARN"]
    cloud.set_id(db, empty)
    with pytest.raises(SqlError, match=r"has no value|cannot read"):
        AwsSql(db, cloud)
