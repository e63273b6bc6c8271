"""Small, explicit crypto helpers: secret sealing, opaque tokens, HMAC signatures."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def derive_key(purpose: str, length: int = 32) -> bytes:
    """A key for one purpose, derived from SECRET_KEY (so one secret feeds many uses safely)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"linli", info=purpose.encode()).derive(secret)


def seal(plaintext: str, purpose: str) -> str:
    """Encrypt a secret for storage (AES-GCM, random nonce)."""
    nonce = os.urandom(12)
    ct = AESGCM(derive_key(purpose)).encrypt(nonce, plaintext.encode(), purpose.encode())
    return base64.urlsafe_b64encode(nonce + ct).decode()


def unseal(sealed: str, purpose: str) -> str | None:
    """Decrypt what `seal` produced; None when it cannot be opened (e.g. SECRET_KEY rotated)."""
    try:
        raw = base64.urlsafe_b64decode(sealed)
        return AESGCM(derive_key(purpose)).decrypt(raw[:12], raw[12:], purpose.encode()).decode()
    except (InvalidTag, ValueError):
        return None


def new_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """Tokens are stored as their SHA-256; they are long random values, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def hmac_digest(key: bytes, message: bytes, length: int | None = None) -> bytes:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return digest[:length] if length else digest


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
