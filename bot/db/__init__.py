"""Storage: models, the engine and sessions, repositories."""
