"""Pure security functions: keyed hashing, encryption at rest, signing keys."""
