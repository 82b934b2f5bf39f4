"""The device side of ADB's RSA authentication.

The client's public key travels in Android's own format: base64 of a little-endian struct
(modulus size in 32-bit words, n0inv = -1/n mod 2**32, the modulus, R**2 mod n with
R = 2**(modulus bits), the exponent), optionally followed by " user@host". adbd answers a
connection with a 20-byte random token; the client signs it with RSA PKCS#1 v1.5, treating the
token itself as a SHA-1 digest. This module decodes keys, checks their Montgomery parameters,
and verifies signatures with plain integer arithmetic.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

MODULUS_BYTES = 256
_KEY_STRUCT = struct.Struct(f"<II{MODULUS_BYTES}s{MODULUS_BYTES}sI")
# DER DigestInfo prefix for SHA-1 (RFC 8017, section 9.2, note 1)
_SHA1_PREFIX = bytes.fromhex("3021300906052b0e03021a05000414")


class KeyFormatError(ValueError):
    """The bytes are not an Android RSA public key."""


@dataclass(frozen=True)
class PublicKey:
    """An RSA public key: modulus `n`, exponent `e`, and the comment ("user@host")."""

    n: int
    e: int
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        """A short identifier for logs (the modulus' last 8 hex digits)."""
        return f"{self.n & 0xFFFFFFFF:08x}"


def decode_public_key(text: bytes | str) -> PublicKey:
    """Parse an Android public key (`adbkey.pub` content, NUL and comment allowed).

    Raises:
        KeyFormatError: wrong length, bad base64, or Montgomery parameters that do not match
            the modulus (a corrupted or forged key).
    """
    raw = text.encode() if isinstance(text, str) else bytes(text)
    raw = raw.split(b"\0", 1)[0].strip()
    encoded, _, comment = raw.partition(b" ")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise KeyFormatError(f"public key is not valid base64: {exc}") from None
    if len(blob) != _KEY_STRUCT.size:
        raise KeyFormatError(f"public key blob has {len(blob)} bytes, expected {_KEY_STRUCT.size}")
    words, n0inv, modulus, rr, exponent = _KEY_STRUCT.unpack(blob)
    if words != MODULUS_BYTES // 4:
        raise KeyFormatError(f"modulus of {words} words is not supported (only 2048-bit keys)")
    n = int.from_bytes(modulus, "little")
    if n % 2 == 0 or n.bit_length() < MODULUS_BYTES * 8 - 8:
        raise KeyFormatError("public key modulus is not a plausible 2048-bit RSA modulus")
    if (n * n0inv) % 2**32 != 2**32 - 1:
        raise KeyFormatError("public key n0inv does not match its modulus")
    if int.from_bytes(rr, "little") != pow(2, 2 * MODULUS_BYTES * 8, n):
        raise KeyFormatError("public key rr does not match its modulus")
    if exponent not in (3, 65537):
        raise KeyFormatError(f"public key exponent {exponent} is not 3 or 65537")
    return PublicKey(n=n, e=exponent, comment=comment.decode("utf-8", "replace"))


def encode_public_key(n: int, e: int, comment: str = "") -> bytes:
    """The Android format of a public key (the inverse of `decode_public_key`)."""
    n0inv = (-pow(n, -1, 2**32)) % 2**32
    rr = pow(2, 2 * MODULUS_BYTES * 8, n)
    blob = _KEY_STRUCT.pack(
        MODULUS_BYTES // 4,
        n0inv,
        n.to_bytes(MODULUS_BYTES, "little"),
        rr.to_bytes(MODULUS_BYTES, "little"),
        e,
    )
    text = base64.b64encode(blob)
    return text + (b" " + comment.encode() if comment else b"")


def verify_token(key: PublicKey, token: bytes, signature: bytes) -> bool:
    """True when `signature` is `key`'s PKCS#1 v1.5 signature of `token` as a SHA-1 digest."""
    if len(signature) != MODULUS_BYTES or len(token) != 20:
        return False
    value = int.from_bytes(signature, "big")
    if value >= key.n:
        return False
    block = pow(value, key.e, key.n).to_bytes(MODULUS_BYTES, "big")
    digest_info = _SHA1_PREFIX + token
    padding = MODULUS_BYTES - 3 - len(digest_info)
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info
    return block == expected


class KeyStore:
    """The keys this device trusts (its `adb_keys`), keyed by modulus."""

    def __init__(self, keys: list[PublicKey] | None = None) -> None:
        self._keys: dict[int, PublicKey] = {k.n: k for k in keys or []}

    def add(self, key: PublicKey) -> None:
        self._keys[key.n] = key

    def __contains__(self, key: object) -> bool:
        return isinstance(key, PublicKey) and key.n in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def match(self, token: bytes, signature: bytes) -> PublicKey | None:
        """The trusted key that made `signature` over `token`, or None."""
        for key in self._keys.values():
            if verify_token(key, token, signature):
                return key
        return None
