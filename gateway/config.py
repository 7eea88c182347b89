"""The station's config file (config/station.example.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers import ScannerConfig
from gateway.commands import CommandConfig
from gateway.debounce import DebounceConfig
from gateway.decoding import DecoderConfig
from gateway.display import DisplayConfig
from gateway.retention import RetentionConfig
from gateway.scan_rules import ScanRule, SerialPattern
from scangw.mqtt import BrokerConfig
from scangw.protocol import TopicId


class MonitorConfig(BaseModel):
    """``monitor:`` in the station config: status and metrics over HTTP."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Serve /status and /metrics.")
    host: str = Field("127.0.0.1", description="Address to listen on; keep it local unless "
                      "Prometheus scrapes from another host.", examples=["127.0.0.1"])
    port: int = Field(9108, ge=0, le=65535, description="TCP port (0: any free port).",
                      examples=[9108])
    outbox_poll_s: float = Field(5.0, gt=0, description="How often outbox depth is read.")


class StationSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: TopicId = Field(description="Site id; a topic level, so letters, digits, '-_.'.",
                          examples=["dc-berlin"])
    id: TopicId = Field(description="This station's id, unique within the site.",
                        examples=["pack-01"])
    database: Path = Field(
        Path("/var/lib/scangw/station.db"),
        description="SQLite file holding the journal, outbox and order cache.",
    )


class UplinkSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resend_after_s: float = Field(
        5.0, gt=0, description="Send a registration again when no acknowledgement came by then."
    )
    batch_size: int = Field(200, ge=1, le=500, description="Most registrations per message.")
    window: int = Field(
        5000, ge=1, le=100_000,
        description="Most registrations sent and not yet acknowledged while the outbox drains.",
    )
    order_timeout_s: float = Field(
        3.0, gt=0, description="How long opening an order waits for the store before it"
        " falls back to the cached copy.",
    )


class StationConfig(BaseModel):
    """Everything a station gateway needs to run."""

    model_config = ConfigDict(extra="forbid")

    station: StationSection
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    uplink: UplinkSection = Field(default_factory=UplinkSection)
    scanners: dict[str, ScannerConfig] = Field(
        description="Scanners attached to this station, by name.", min_length=1
    )
    state_scope: Literal["station", "scanner"] = Field(
        "station", description="Share one mode and current line among all scanners"
        " (station), or keep one per scanner when several packers share a station.")
    decoder: DecoderConfig = Field(default_factory=DecoderConfig)
    commands: CommandConfig = Field(default_factory=CommandConfig)
    debounce: DebounceConfig = Field(default_factory=DebounceConfig)
    scan_rules: list[ScanRule] = Field(
        default_factory=list,
        description="Ordered rules, first match wins (like DataWedge advanced data formatting).")
    serial_patterns: dict[str, SerialPattern] = Field(
        default_factory=dict, description="Serial number patterns per item id.")
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    display: DisplayConfig = Field(default_factory=DisplayConfig,
                                   description="The operator display page (docs/display.md).")
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @model_validator(mode="after")
    def _distinct_devices(self) -> StationConfig:
        seen: dict[str, str] = {}
        for name, scanner in self.scanners.items():
            device = _device(scanner)
            if device is None:
                continue
            if device in seen:
                raise ValueError(
                    f"scanners {seen[device]!r} and {name!r} both use {device}"
                    " (each device can feed one scanner entry)"
                )
            seen[device] = name
        return self


def _device(scanner: ScannerConfig) -> str | None:
    """The device a scanner entry names explicitly, to catch two entries on one."""
    if scanner.kind == "serial":
        return scanner.port
    if scanner.kind == "keyboard":
        return scanner.path
    if scanner.kind == "tcp":
        return f"tcp {scanner.mode} {scanner.host}:{scanner.port}"
    return None
