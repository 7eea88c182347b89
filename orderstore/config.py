"""The order store's config file (config/store.example.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from scangw.mqtt import BrokerConfig
from scangw.protocol import TopicId


class StoreSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: TopicId = Field("store-1", description="This store instance's id.")
    sites: list[TopicId] = Field(
        description="Sites whose stations this store serves.", min_length=1,
        examples=[["dc-berlin"]],
    )
    database: Path = Field(
        Path("/var/lib/scangw/store.db"), description="SQLite file of the order store."
    )


class StoreConfig(BaseModel):
    """Everything an order store instance needs to run."""

    model_config = ConfigDict(extra="forbid")

    store: StoreSection
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
