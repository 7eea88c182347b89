"""The ScannerConfig union and the registry the station builds drivers from."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ValidationError

import drivers
from drivers.base import DRIVER_KINDS
from drivers.hid_pos import HidPosConfig, HidPosScanner
from drivers.keyboard_wedge import KeyboardWedgeConfig, KeyboardWedgeScanner
from drivers.registry import DRIVER_CLASSES
from drivers.serial_port import SerialConfig, SerialScanner
from drivers.tcp import TcpConfig, TcpScanner


class StationScanners(BaseModel):
    """How the station config is expected to use the union."""

    scanners: dict[str, drivers.ScannerConfig]


STATION_YAML = """
scanners:
  packing-1:
    kind: serial
    vid: 0c2e
    pid: "0b61"
    feedback: honeywell
    prefix: "02"
    suffix: "03"
  packing-2:
    kind: keyboard
    device_name: "Datalogic*"
    layout: de
    terminators: [enter, tab]
  packing-3:
    kind: hidpos
    vid: 0x05e0
    pid: 0x1300
  conveyor:
    kind: tcp
    mode: server
    host: 0.0.0.0
    port: 2001
    terminator: hex:03
"""


def test_station_yaml_validates_into_each_kind_and_builds_drivers() -> None:
    station = StationScanners.model_validate(yaml.safe_load(STATION_YAML))
    kinds = {name: type(cfg) for name, cfg in station.scanners.items()}
    assert kinds == {"packing-1": SerialConfig, "packing-2": KeyboardWedgeConfig,
                     "packing-3": HidPosConfig, "conveyor": TcpConfig}
    built = {n: DRIVER_KINDS[c.kind](n, c) for n, c in station.scanners.items()}
    assert [type(d) for d in built.values()] == [SerialScanner, KeyboardWedgeScanner,
                                                HidPosScanner, TcpScanner]
    assert drivers.make_driver("x", station.scanners["conveyor"]).name == "x"
    serial_cfg = station.scanners["packing-1"]
    assert isinstance(serial_cfg, SerialConfig)
    assert (serial_cfg.vid, serial_cfg.pid) == (0x0C2E, 0x0B61)
    hid_cfg = station.scanners["packing-3"]
    assert isinstance(hid_cfg, HidPosConfig)
    assert (hid_cfg.vid, hid_cfg.pid) == (0x05E0, 0x1300)


def test_unknown_kind_names_the_kinds() -> None:
    with pytest.raises(ValidationError) as err:
        drivers.parse_scanner_config({"kind": "bluetooth"})
    text = str(err.value)
    for kind in ("serial", "keyboard", "hidpos", "tcp"):
        assert kind in text


def test_error_names_the_key_of_that_kind() -> None:
    with pytest.raises(ValidationError, match=r"keyboard\.layout"):
        drivers.parse_scanner_config({"kind": "keyboard", "path": "/x", "layout": "xx"})


def test_every_kind_is_registered_with_its_model_in_the_union() -> None:
    union_models = typing.get_args(typing.get_args(drivers.ScannerConfig)[0])
    assert {cls.kind for cls in DRIVER_CLASSES} == set(DRIVER_KINDS)
    for cls in DRIVER_CLASSES:
        assert cls.config_model in union_models
        assert cls.config_model.model_fields["kind"].default == cls.kind


@pytest.mark.parametrize("model", [SerialConfig, KeyboardWedgeConfig, HidPosConfig, TcpConfig])
def test_every_config_key_has_description_and_example(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    undocumented = [
        key for key, prop in schema["properties"].items()
        if key != "kind" and ("description" not in prop or "examples" not in prop)
    ]
    assert undocumented == []
    for key, prop in schema["properties"].items():
        for example in prop.get("examples", []):
            model.model_validate({**_required(model, key), key: example})


def _required(model: type[BaseModel], key: str) -> dict[str, object]:
    """Minimal valid settings per kind, to check each example on its own."""
    if model is SerialConfig and key in ("vid", "pid", "serial_number"):
        return {}  # an identity replaces the port
    required: dict[type[BaseModel], dict[str, object]] = {
        SerialConfig: {"port": "/dev/ttyACM0"}, KeyboardWedgeConfig: {"path": "/x"},
        HidPosConfig: {}, TcpConfig: {"host": "10.0.0.5", "port": 2001},
    }
    return required[model]


def test_readme_examples_validate() -> None:
    readme = Path(drivers.__file__).with_name("README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        station = StationScanners.model_validate(yaml.safe_load(block))
        assert station.scanners
    four = StationScanners.model_validate(yaml.safe_load(blocks[0])).scanners["packing-4"]
    assert isinstance(four, KeyboardWedgeConfig)
    assert four.pid == 0x2206
