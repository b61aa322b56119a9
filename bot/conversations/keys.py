"""Keyed hashing of LINE user ids, so no id is ever stored in clear."""

import hashlib
import hmac


def user_key(secret_key: str, user_id: str) -> str:
    """Return the HMAC-SHA256 of a LINE user id under the app's secret key."""
    return hmac.new(secret_key.encode(), user_id.encode(), hashlib.sha256).hexdigest()
