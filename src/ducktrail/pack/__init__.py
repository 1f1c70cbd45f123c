"""The rule pack: rule metadata, versioned SQL and the lock that freezes released versions."""
