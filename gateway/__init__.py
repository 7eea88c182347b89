"""The station gateway: decoding -> station rules -> journal -> feedback and uplink."""
