"""The project's own functional suite of reader comments and its evaluation (no Flask, no SQLite)."""
