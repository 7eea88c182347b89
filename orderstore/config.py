"""The order store's config file (config/store.example.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scangw.mqtt import BrokerConfig
from scangw.protocol import TopicId


class PostgresSection(BaseModel):
    """Where several store instances share one PostgreSQL database. The password
    comes from a file or an environment variable, never the config itself, and
    is never logged."""

    model_config = ConfigDict(extra="forbid")

    dsn: str | None = Field(None, description="libpq connection string or URI (no password).",
                            examples=["host=db.example dbname=scangw user=scangw"])
    host: str | None = None
    port: int = Field(5432, ge=1, le=65535)
    dbname: str = "scangw"
    user: str = "scangw"
    password_file: Path | None = Field(None, description="File holding the password.")
    password_env: str | None = Field(None, description="Environment variable with the password.")
    schema_name: str | None = Field(
        None, pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Schema for the store's tables (created if missing); default public.")
    connect_timeout_s: int = Field(10, ge=1)

    @model_validator(mode="after")
    def _one_way(self) -> PostgresSection:
        if self.dsn is not None and self.host is not None:
            raise ValueError("give store.postgres.dsn or store.postgres.host, not both")
        if self.dsn is None and self.host is None:
            raise ValueError("store.postgres needs dsn or host")
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give store.postgres.password_file or password_env, not both")
        return self

    def conninfo(self) -> str:
        """The connection string without the password."""
        if self.dsn is not None:
            return self.dsn
        return (f"host={self.host} port={self.port} dbname={self.dbname} user={self.user}"
                f" connect_timeout={self.connect_timeout_s}")

    def where(self) -> str:
        """For messages: host and database, no secrets."""
        if self.dsn is not None:
            from psycopg.conninfo import conninfo_to_dict

            parts = conninfo_to_dict(self.dsn)
            return f"{parts.get('host', 'localhost')}/{parts.get('dbname', '?')}"
        return f"{self.host}:{self.port}/{self.dbname}"

    def password_value(self) -> str | None:
        from orderstore.backends import StoreUnavailable, read_secret_env

        if self.password_env is not None:
            return read_secret_env(self.password_env)
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot read store.postgres.password_file {self.password_file}:"
                    f" {exc.strerror}") from exc
        return None


class StoreSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: TopicId = Field("store-1", description="This store instance's id.")
    sites: list[TopicId] = Field(
        description="Sites whose stations this store serves.", min_length=1,
        examples=[["dc-berlin"]],
    )
    database: Path = Field(
        Path("/var/lib/scangw/store.db"),
        description="SQLite file of the order store (used unless store.postgres is given).",
    )
    postgres: PostgresSection | None = Field(
        None, description="Use PostgreSQL instead of SQLite (several store instances).")
    shared_group: TopicId | None = Field(
        None, description="Consume station messages through the MQTT v5 shared subscription"
        " $share/GROUP/... so several store instances split the load.",
        examples=["scangw-stores"])


class StoreConfig(BaseModel):
    """Everything an order store instance needs to run."""

    model_config = ConfigDict(extra="forbid")

    store: StoreSection
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
