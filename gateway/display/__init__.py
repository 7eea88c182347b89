"""The operator display: a live page for the packer, served by the station."""

from gateway.display.config import DisplayConfig
from gateway.display.server import DisplayServer

__all__ = ["DisplayConfig", "DisplayServer"]
