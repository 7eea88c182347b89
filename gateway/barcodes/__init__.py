"""Barcode data formats the decoder recognises, each on top of biip.

``aim``: symbology identifiers (G1); ``gs1``: element strings, HRI, Digital
Link and ISO/IEC 15434 envelopes (G2-G6); ``charsets``: GS1 character set 82
and the sets per-item serial patterns may name. ``gateway.decoding`` ties them
together.
"""
