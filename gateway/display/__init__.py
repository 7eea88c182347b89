"""The operator display: a live page for the packer, served by the station.

``DisplayServer`` lives in ``gateway.display.server`` and is imported only when a
display is enabled, so a station without one never loads the web framework.
"""

from gateway.display.config import DisplayConfig

__all__ = ["DisplayConfig"]
