# SPDX-License-Identifier: GPL-2.0
"""The Internet checksum (RFC 1071), for the tests that build packets.

The shell tests run their packet builders with PYTHONPATH set to the
selftests directory, so that they can `from pktcsum import csum`.
"""
import struct


def csum(data):
    """The one's complement of the one's complement sum of data's 16-bit
    words (an odd byte is padded with a zero)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
