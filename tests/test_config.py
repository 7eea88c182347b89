"""Config files: every example validates; every problem is reported with its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import StationConfig
from orderstore.config import StoreConfig
from scangw.cli import main
from scangw.configfile import ConfigError, load

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "config").glob("**/*.yaml"))


def test_there_are_example_configs() -> None:
    assert {p.name for p in EXAMPLES} >= {"station.example.yaml", "store.example.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_config_is_valid(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_station_example_loads_into_the_model() -> None:
    config = load(StationConfig, EXAMPLES[0].parent / "station.example.yaml")
    assert config.scanners["handheld"].terminator == "cr"
    assert config.station.id == "pack-01"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.yaml"
    path.write_text(text)
    return path


def test_every_problem_is_listed_with_its_key_path(tmp_path: Path) -> None:
    path = _write(tmp_path, """
station: {site: "dc/berlin", id: pack-01, colour: red}
broker: {port: 99999}
scanners:
  a: {kind: serial, port: /dev/ttyACM0, baudrate: fast, terminator: semicolon}
""")
    with pytest.raises(ConfigError) as caught:
        load(StationConfig, path)
    problems = "\n".join(caught.value.problems)
    assert "station.site: String should match pattern" in problems
    assert "station.colour: Extra inputs are not permitted (remove it or check its spelling)" \
        in problems
    assert "broker.port: Input should be less than or equal to 65535" in problems
    assert "scanners.a.baudrate:" in problems
    assert "(write a whole number)" in problems
    assert "scanners.a.terminator: unknown terminator 'semicolon'" in problems
    assert len(caught.value.problems) == 5


def test_missing_section_says_to_add_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "station: {site: s, id: p}\n")
    with pytest.raises(ConfigError) as caught:
        load(StationConfig, path)
    assert caught.value.problems == ["scanners: Field required (add this key)"]


def test_two_scanners_on_one_device_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, """
station: {site: s, id: p}
scanners:
  a: {kind: serial, port: /dev/ttyACM0}
  b: {kind: serial, port: /dev/ttyACM0}
""")
    with pytest.raises(ConfigError, match="both use /dev/ttyACM0"):
        load(StationConfig, path)


def test_yaml_syntax_error_points_at_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "station:\n  site: a\n  id: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load(StationConfig, path)
    assert "YAML syntax error at line" in caught.value.problems[0]


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load(StationConfig, path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load(StoreConfig, tmp_path / "nope.yaml")


def test_check_command_exits_1_and_prints_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "store: {id: s1, sites: []}\nbroker: {hots: x}\n")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "store.sites: List should have at least 1 item" in out
    assert "broker.hots: Extra inputs are not permitted" in out
