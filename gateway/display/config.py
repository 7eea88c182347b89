"""The operator display's config (``display:`` in the station config)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scangw.mqtt import SecretMissing


def is_loopback(host: str) -> bool:
    """True when only this machine can reach ``host`` (the kiosk on the Pi itself)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class DisplayConfig(BaseModel):
    """A live page for the packer: order, line, mode, last scan, alerts, touch buttons."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Serve the operator display page.")
    host: str = Field(
        "127.0.0.1", description="Address to listen on. Anything but loopback lets other"
        " machines see the page and press its buttons, so it needs a token.",
        examples=["127.0.0.1", "192.168.10.21"],
    )
    port: int = Field(8080, ge=0, le=65535,
                      description="TCP port of the page (0: any free port).")
    token_file: Path | None = Field(
        None, description="File holding the access token (kept out of the config file)."
        " Open the page once as /?token=<token>; the browser keeps it in a cookie.",
        examples=["/etc/scangw/secrets/display-token"])
    token_env: str | None = Field(
        None, description="Environment variable holding the access token.",
        examples=["SCANGW_DISPLAY_TOKEN"])
    scanner: str | None = Field(
        None, description="Whose mode and line the page shows, and the scanner the touch"
        " buttons act for (state_scope: scanner). Default: the first scanner; a page can"
        " ask for another with ?scanner=<name>.", examples=["gun"])
    uplink_alert_after_s: float = Field(
        30.0, gt=0, description="Show a banner when the link to the order store has been"
        " down this long.")

    @model_validator(mode="after")
    def _token_when_remote(self) -> DisplayConfig:
        if self.token_file is not None and self.token_env is not None:
            raise ValueError("give the token in token_file or token_env, not both")
        if not is_loopback(self.host) and self.token_file is None and self.token_env is None:
            raise ValueError(
                f"host {self.host!r} lets other machines reach the display: set token_file"
                " or token_env, or listen on 127.0.0.1 for a local kiosk")
        return self

    def token(self) -> str | None:
        """The access token from its file or variable; None: no token needed."""
        if self.token_env is not None:
            value = os.environ.get(self.token_env, "").strip()
            if not value:
                raise SecretMissing(f"display.token_env: variable {self.token_env} is not set"
                                    " or empty (export it in the service's environment file)")
            return value
        if self.token_file is not None:
            try:
                value = self.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SecretMissing(f"display.token_file: cannot read {self.token_file}:"
                                    f" {exc.strerror} (check the path and its permissions)"
                                    ) from exc
            if not value:
                raise SecretMissing(f"display.token_file: {self.token_file} is empty")
            return value
        return None
