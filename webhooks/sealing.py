"""Endpoint secrets at rest: encrypted, because the server must be able to read them back.

A signing secret cannot be stored as a hash (as a password is): every delivery computes an HMAC with
it. Stored plainly, anyone who reads the table (a backup, a replica, an analytics export, an injected
query) could forge deliveries to every partner. So the secret is sealed with Fernet (AES-128-CBC and
HMAC-SHA256, from `cryptography`) under keys that live in the environment, not in the database:
`WEBHOOKS_SECRET_KEYS`, newest first. New secrets are sealed with the first key and any listed key
opens them, so a key is rotated by putting the new one first; the old one stays listed until every
stored secret has been sealed again under the new one.

Without `WEBHOOKS_SECRET_KEYS` (development, tests) the key is derived from `SECRET_KEY`; production
sets its own, or a change of `SECRET_KEY` makes the stored secrets unreadable. This protects the
secrets from someone holding the database alone, not from someone running code in the app.
"""

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

SECRET_PREFIX = "whsec_"  # noqa: S105 (a label in front of the random part, not a secret)


def new_secret() -> str:
    """A fresh signing secret (256 random bits), shown to its owner once."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _fernet() -> MultiFernet:
    keys: list[str] = list(settings.WEBHOOKS_SECRET_KEYS)
    if not keys:
        derived = hashlib.sha256(b"loship.webhooks.sealing:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def seal(secret: str) -> str:
    """The secret encrypted under the first key, for the database."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    """The secret back, with whichever configured key sealed it."""
    return _fernet().decrypt(sealed.encode()).decode()
