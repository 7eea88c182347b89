"""Feedback presets: Honeywell Host ACK and Zebra SSI packets with checksums."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.feedback import (
    PRESETS,
    SSI_BEEP,
    ByteFeedbackConfig,
    ssi_beep,
    ssi_checksum_ok,
    ssi_packet,
)


def test_honeywell_host_ack_bytes() -> None:
    assert PRESETS["honeywell"] == (b"\x1b7,", b"\x1b8,")


def test_ssi_beep_packet_layout_and_checksum() -> None:
    # length 5, BEEP, from host, status 0, beep code 0; 0x10000 - 0xEF = 0xFF11
    assert ssi_beep(0x00) == bytes.fromhex("05e6040000ff11")
    assert ssi_beep(0x07) == bytes.fromhex("05e6040007ff0a")
    assert PRESETS["zebra-ssi"] == (ssi_beep(0x00), ssi_beep(0x07))


@given(opcode=st.integers(0, 255), data=st.binary(max_size=40))
def test_every_ssi_packet_has_a_valid_checksum(opcode: int, data: bytes) -> None:
    packet = ssi_packet(opcode, data)
    assert ssi_checksum_ok(packet)
    assert packet[0] == len(packet) - 2
    corrupted = bytes([packet[0], packet[1] ^ 0x01]) + packet[2:]
    assert not ssi_checksum_ok(corrupted)


def test_ssi_packet_rejects_oversized_data() -> None:
    with pytest.raises(ValueError, match="300 bytes"):
        ssi_packet(SSI_BEEP, b"x" * 300)


def test_raw_hex_overrides_preset_and_bad_hex_is_explained() -> None:
    cfg = ByteFeedbackConfig(feedback="zebra-ssi", feedback_good="1b 37 2c")
    assert cfg.feedback_bytes(True) == b"\x1b7,"
    assert cfg.feedback_bytes(False) == ssi_beep(0x07)
    assert ByteFeedbackConfig().feedback_bytes(True) == b""
    with pytest.raises(ValueError, match="not hex bytes: 'ESC7'"):
        ByteFeedbackConfig(feedback_good="ESC7")
