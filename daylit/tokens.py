"""API keys: generated once, stored as a SHA-256 hash with a short visible prefix."""

import hashlib
import secrets

PREFIX_LENGTH = 8


def generate_key() -> str:
    return "dl_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def key_prefix(key: str) -> str:
    return key[:PREFIX_LENGTH]
