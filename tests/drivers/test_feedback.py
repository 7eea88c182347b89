"""Feedback presets: Honeywell Host ACK and Zebra SSI packets with checksums."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.feedback import (
    PRESETS,
    SSI_BEEP,
    ByteFeedbackConfig,
    SsiReplyFilter,
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


ACK = bytes.fromhex("04d00000ff2c")  # what the scanner sends back for each BEEP


def test_ack_packet_constant_is_a_valid_ssi_ack() -> None:
    assert ssi_packet(0xD0, source=0x00) == ACK
    nak = ssi_packet(0xD1, b"\x01", source=0x00)
    assert SsiReplyFilter().feed(b"A" + nak + b"B\r") == b"AB\r"


@settings(max_examples=100, deadline=None)
@given(
    scans=st.lists(st.text(alphabet="0123456789ABCXYZ-", min_size=1, max_size=12), max_size=6),
    acks_at=st.lists(st.integers(0, 100), max_size=4),
    cuts=st.lists(st.integers(0, 200), max_size=10),
)
def test_ssi_replies_vanish_from_the_stream_at_any_split(
    scans: list[str], acks_at: list[int], cuts: list[int]
) -> None:
    clean = b"".join(s.encode() + b"\r" for s in scans)
    stream = clean
    for at in sorted((a % (len(clean) + 1) for a in acks_at), reverse=True):
        stream = stream[:at] + ACK + stream[at:]  # replies arrive between scan bytes
    reply_filter = SsiReplyFilter()
    out = b""
    start = 0
    for cut in [*sorted({c % (len(stream) + 1) for c in cuts}), len(stream)]:
        out += reply_filter.feed(stream[start:cut])
        start = cut
    assert out + reply_filter.flush() == clean
    assert reply_filter.removed == len(acks_at)


def test_bytes_that_only_look_like_a_reply_are_kept() -> None:
    reply_filter = SsiReplyFilter()
    assert reply_filter.feed(b"\x04\xd0\x00") == b""
    assert reply_filter.holding
    assert reply_filter.feed(b"\x00\x00\x00X") == b"\x04\xd0\x00\x00\x00\x00X"
    assert reply_filter.feed(b"\x04X") == b"\x04X"
