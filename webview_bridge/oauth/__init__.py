"""OAuth 2.0 for backend access tokens, on Authlib (RFC 6749, RFC 7009, RFC 9700 §4.14)."""
