"""CRC32C (Castagnoli), the checksum TFRecord framing uses, without a compiled extension.

Two implementations of the same function: a 256-entry table loop for short inputs, and for
long ones (screenshots inside TFRecords run to megabytes) a numpy version that runs many
independent lanes at once and joins them with the CRC's linearity: for register values,
CRC(A || B) = shift_|B|(CRC(A)) ^ CRC(B), where shift_n (feeding n zero bytes) is a linear map
on 32-bit values applied through four byte tables.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

POLY = 0x82F63B78  # Castagnoli polynomial, bit-reversed
MASK_DELTA = 0xA282EAD8
_NUMPY_MIN_BYTES = 4096


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = (reg >> 1) ^ POLY if reg & 1 else reg >> 1
        table.append(reg)
    return tuple(table)


_TABLE = _make_table()


def _make_word_tables() -> tuple[npt.NDArray[np.uint32], ...]:
    """Slicing-by-4 tables: T[k][b] is the register after byte b followed by k zero bytes."""
    tables = [np.array(_TABLE, dtype=np.uint32)]
    for _ in range(3):
        prev = tables[-1]
        tables.append((prev >> 8) ^ tables[0][prev & 0xFF])
    return tuple(tables)


_WORD_TABLES = _make_word_tables()

Matrix = tuple[int, ...]  # 32 columns: the image of each basis bit


def _apply(matrix: Matrix, vector: int) -> int:
    out = 0
    bit = 0
    while vector:
        if vector & 1:
            out ^= matrix[bit]
        vector >>= 1
        bit += 1
    return out


def _compose(a: Matrix, b: Matrix) -> Matrix:
    """The matrix of `a` after `b`."""
    return tuple(_apply(a, column) for column in b)


@lru_cache(maxsize=1)
def _zero_byte_operator() -> Matrix:
    one_bit: Matrix = (POLY, *(1 << (j - 1) for j in range(1, 32)))
    two = _compose(one_bit, one_bit)
    four = _compose(two, two)
    return _compose(four, four)


@lru_cache(maxsize=256)
def _shift_operator(nbytes: int) -> Matrix:
    """The linear map a register undergoes when `nbytes` zero bytes are fed in."""
    result: Matrix = tuple(1 << j for j in range(32))
    base = _zero_byte_operator()
    while nbytes:
        if nbytes & 1:
            result = _compose(base, result)
        base = _compose(base, base)
        nbytes >>= 1
    return result


@lru_cache(maxsize=64)
def _shift_tables(nbytes: int) -> tuple[npt.NDArray[np.uint32], ...]:
    matrix = _shift_operator(nbytes)
    values = np.arange(256, dtype=np.uint32)
    tables = []
    for k in range(4):
        table = np.zeros(256, dtype=np.uint32)
        for bit in range(8):
            column = np.uint32(matrix[8 * k + bit])
            table ^= np.where((values >> bit) & 1, column, np.uint32(0)).astype(np.uint32)
        tables.append(table)
    return tuple(tables)


def _shift_lanes(nbytes: int, regs: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    t0, t1, t2, t3 = _shift_tables(nbytes)
    out: npt.NDArray[np.uint32] = (
        t0[regs & 0xFF] ^ t1[(regs >> 8) & 0xFF] ^ t2[(regs >> 16) & 0xFF] ^ t3[regs >> 24]
    )
    return out


def _register_table(reg: int, data: bytes | memoryview) -> int:
    table = _TABLE
    for byte in bytes(data):
        reg = table[(reg ^ byte) & 0xFF] ^ (reg >> 8)
    return reg


def _register_numpy(data: bytes | memoryview) -> int:
    """The register after feeding `data` into a zero register, computed lane-parallel."""
    length = len(data)
    lane = 64  # bytes per lane, a multiple of 4
    while lane * lane * 4 < length:
        lane *= 2
    lanes = 1
    while lanes * lane < length:
        lanes *= 2
    # Leading zero bytes leave a zero register unchanged, so padding in front is free.
    padded = np.zeros(lanes * lane, dtype=np.uint8)
    padded[lanes * lane - length :] = np.frombuffer(data, dtype=np.uint8)
    # One little-endian word per lane per step: transposing words is 4x cheaper than bytes.
    words = np.ascontiguousarray(padded.view("<u4").reshape(lanes, lane // 4).T)
    regs = np.zeros(lanes, dtype=np.uint32)
    t0, t1, t2, t3 = _WORD_TABLES
    for row in words:
        mixed = regs ^ row
        regs = (
            t3[mixed & 0xFF] ^ t2[(mixed >> 8) & 0xFF] ^ t1[(mixed >> 16) & 0xFF] ^ t0[mixed >> 24]
        )
    span = lane
    while len(regs) > 1:
        regs = _shift_lanes(span, regs[0::2]) ^ regs[1::2]
        span *= 2
    return int(regs[0])


def crc32c(data: bytes | memoryview, crc: int = 0) -> int:
    """CRC32C of `data`, continuing from the checksum `crc` of earlier bytes (0 to start).

    `crc32c(b"123456789") == 0xE3069283`, the algorithm's standard check value.
    """
    start = crc ^ 0xFFFFFFFF
    if len(data) < _NUMPY_MIN_BYTES:
        return _register_table(start, data) ^ 0xFFFFFFFF
    reg = _register_numpy(data) ^ _apply(_shift_operator(len(data)), start)
    return reg ^ 0xFFFFFFFF


def masked_crc32c(data: bytes | memoryview) -> int:
    """The masked form TFRecord stores: rotate right by 15 bits, add a constant (mod 2**32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF
