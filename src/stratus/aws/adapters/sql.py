"""AwsSql: the SQL port on Aurora PostgreSQL, through the PostgreSQL adapter and a Secrets Manager secret.

Aurora PostgreSQL *is* PostgreSQL, so this adapter is
:class:`stratus.servers.postgres.PostgresDatabase` (the one the conformance suite runs
against a real server: a schema per database, migrations, isolation levels, the pool,
error mapping) with its server taken from AWS instead of ``STRATUS_POSTGRES_DSN``.

Connection settings come from the Secrets Manager secret whose ARN is the resource's
physical identity (``STRATUS_SQL_<NAME>``). Accepted shapes of the secret's value:

- the JSON object RDS and Aurora keep for a cluster (what the template's
  ``SecretTargetAttachment`` completes): ``host``, ``port``, ``username``, ``password``,
  ``dbname`` (default ``postgres``), ``engine`` (must be PostgreSQL's when present), and
  optionally ``sslmode``/``sslrootcert``;
- a JSON object with a ``dsn`` (or ``url``/``uri``) field: a libpq connection string or a
  ``postgresql://`` URL; the other fields above, when present, override its parts;
- the secret string itself being such a URL.

TLS: ``sslmode`` comes from the secret, else libpq's ``prefer``: encrypted whenever the
server offers TLS, as Aurora always does, and still able to reach a server without it (a
local PostgreSQL standing in for Aurora). A secret saying ``require`` refuses plaintext
outright; ``verify-full`` with ``sslrootcert`` (the RDS CA bundle in the package) verifies
the server too.

The settings are read once per adapter and cached. When opening a connection fails, the
secret is read again and, if it changed (a rotated password, a moved cluster), the
connection is retried once with the new settings; an unchanged secret re-raises the error.

The password is never logged nor put in a message: messages show the connection string
through :func:`stratus.servers.postgres.redact`, and the ``repr`` of the settings hides it.

Why a direct connection and not the RDS Data API (the cluster enables it, and
``STRATUS_SQL_<NAME>_CLUSTER`` carries its ARN): the Data API has its own type mapping,
statement and transaction model and limits, so the port would need a second
implementation whose behaviour the PostgreSQL suite does not pin down; a direct
connection keeps exactly the tested semantics. The cost is network reach: a function
using the database must run in the cluster's VPC (a ``VpcConfig`` in the template).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import conninfo as pg_conninfo

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.resources.sql.errors import SqlError
from stratus.servers.postgres import PostgresDatabase, redact

if TYPE_CHECKING:
    from stratus.resources.sql import SqlDatabase

log = logging.getLogger("stratus.aws.sql")

DEFAULT_SSLMODE = "prefer"
DEFAULT_DBNAME = "postgres"
POSTGRES_ENGINES = frozenset({"postgres", "postgresql", "aurora-postgresql"})
_DSN_FIELDS = ("dsn", "url", "uri")
#: Secret fields -> libpq keywords.
_FIELDS = {
    "host": "host",
    "port": "port",
    "username": "user",
    "user": "user",
    "password": "password",
    "dbname": "dbname",
    "sslmode": "sslmode",
    "sslrootcert": "sslrootcert",
}


class SecretFormatError(SqlError):
    """The secret holding a database's connection settings is not in a shape this adapter reads."""

    code = "InvalidSecretFormat"


@dataclass(frozen=True)
class ConnectionSettings:
    """A libpq connection string built from a secret; ``repr`` and ``display`` hide the password."""

    conninfo: str = field(repr=False)
    version_id: str | None = None

    @property
    def display(self) -> str:
        return redact(self.conninfo)

    def __repr__(self) -> str:
        return f"ConnectionSettings({self.display!r}, version_id={self.version_id!r})"


def settings_from_secret(text: str, where: str, version_id: str | None = None) -> ConnectionSettings:
    """Parse a secret's string (RDS JSON, JSON with a ``dsn``, or a URL) into connection settings.

    Errors name what is missing or wrong, never a value (the text holds the password).
    """
    stripped = text.strip()
    if stripped.startswith(("postgresql://", "postgres://")):
        return ConnectionSettings(_conninfo(_parse_dsn(stripped, where), where), version_id)
    try:
        data = json.loads(stripped)
    except ValueError:
        raise SecretFormatError(
            f"{where}: the secret is neither JSON nor a postgresql:// URL (expected the RDS shape: "
            "host, port, username, password, dbname)"
        ) from None
    if not isinstance(data, dict):
        raise SecretFormatError(f"{where}: the secret's JSON must be an object, got {type(data).__name__}")
    engine = data.get("engine")
    if engine is not None and str(engine).lower() not in POSTGRES_ENGINES:
        raise SecretFormatError(
            f"{where}: the secret is for engine {engine!r}; the SQL port runs on PostgreSQL (Aurora PostgreSQL)"
        )
    params: dict[str, Any] = {}
    for name in _DSN_FIELDS:
        if isinstance(data.get(name), str) and data[name].strip():
            params = _parse_dsn(data[name].strip(), where)
            break
    for name, keyword in _FIELDS.items():
        value = data.get(name)
        if value is None or value == "":
            continue
        if name == "port":
            if isinstance(value, bool) or not str(value).isdigit():
                raise SecretFormatError(f"{where}: the secret's port must be a number")
            value = str(int(value))
        elif not isinstance(value, str):
            raise SecretFormatError(f"{where}: the secret's {name} must be a string")
        params[keyword] = value
    if not params.get("host"):
        raise SecretFormatError(f"{where}: the secret has no host (nor a dsn)")
    if not params.get("user"):
        raise SecretFormatError(f"{where}: the secret has no username (nor a dsn naming the user)")
    params.setdefault("dbname", DEFAULT_DBNAME)
    return ConnectionSettings(_conninfo(params, where), version_id)


def _parse_dsn(dsn: str, where: str) -> dict[str, Any]:
    try:
        return dict(pg_conninfo.conninfo_to_dict(dsn))
    except psycopg.ProgrammingError:
        raise SecretFormatError(f"{where}: the secret's dsn is not a valid PostgreSQL connection string") from None


def _conninfo(params: dict[str, Any], where: str) -> str:
    params.setdefault("sslmode", DEFAULT_SSLMODE)
    try:
        return pg_conninfo.make_conninfo("", **params)
    except psycopg.ProgrammingError:
        raise SecretFormatError(f"{where}: the secret's connection settings are not valid for PostgreSQL") from None


class AwsSql(PostgresDatabase):
    """One declared SQL database on Aurora PostgreSQL, its server named by the secret ``STRATUS_SQL_<NAME>``."""

    def __init__(self, resource: SqlDatabase, cloud: Any) -> None:
        self.cloud = cloud
        self.secret_id = _context.physical_id(resource, cloud)
        self.secrets = _context.client("secretsmanager", cloud)
        self._where = f"sql {resource.name!r} (secret {self.secret_id})"
        self._settings_lock = threading.Lock()
        self.settings = self._read_settings()
        log.debug("%s: connecting to %s", self._where, self.settings.display)
        super().__init__(resource, cloud, server_dsn=self.settings.conninfo)

    def _read_settings(self) -> ConnectionSettings:
        try:
            response = self.secrets.get_secret_value(SecretId=self.secret_id)
        except ClientError as error:
            failure = SqlError(
                f"{self._where}: cannot read the connection settings: "
                f"{_context.error_code(error)}: {_context.error_message(error)}"
            )
            failure.code = _context.error_code(error) or SqlError.code
            raise failure from None
        if "SecretString" in response:
            text = str(response["SecretString"])
        elif "SecretBinary" in response:
            try:
                text = bytes(response["SecretBinary"]).decode()
            except UnicodeDecodeError:
                raise SecretFormatError(f"{self._where}: the secret's binary value is not UTF-8 text") from None
        else:
            raise SecretFormatError(f"{self._where}: the secret has no value yet")
        return settings_from_secret(text, self._where, response.get("VersionId"))

    def refresh_settings(self) -> bool:
        """Read the secret again; True if the connection settings changed (new connections use them)."""
        with self._settings_lock:
            fresh = self._read_settings()
            if fresh.conninfo == self.settings.conninfo:
                self.settings = fresh
                return False
            self.settings = fresh
            self.dsn = fresh.conninfo
            log.info("%s: connection settings changed (secret version %s)", self._where, fresh.version_id)
            return True

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return super()._connect()
        except SqlError:
            # A rotated password or a moved cluster: the cached settings may be stale.
            if not self.refresh_settings():
                raise
            return super()._connect()

    def __repr__(self) -> str:
        return f"<AwsSql {self.resource.qualified_name} at {self.settings.display}>"
