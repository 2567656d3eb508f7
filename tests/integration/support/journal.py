"""The journal of acknowledgements read back by the tests, the way its format says
(src/state/journal.hpp), independently of the service's own reader."""
import struct


def read_journal(path):
    """Reads the journal of acknowledgements the way its format says (src/state/journal.hpp: a
    header, records of length + CRC32C + payload, then preallocated zeros): ({(period day number,
    id hex)}, the offset where the records end). Fails on anything but a clean file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"SABJ" and struct.unpack("<I", data[4:8])[0] == 1, data[:8]
    out, at = set(), 8
    while at + 4 <= len(data):
        length, crc = struct.unpack("<II", data[at:at + 8])
        if length == 0:
            break
        payload = data[at + 8:at + 8 + length]
        assert len(payload) == length and (length - 4) % 16 == 0, (at, length)
        assert crc == crc32c(data[at:at + 4] + payload), at
        period = struct.unpack("<i", payload[:4])[0]
        for i in range(4, length, 16):
            out.add((period, payload[i:i + 16].hex()))
        at += 8 + length
    assert not data[at:].strip(b"\0"), "only zeros after the records"
    return out, at


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    """CRC32C (Castagnoli): crc32c(b"123456789") == 0xE3069283."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
