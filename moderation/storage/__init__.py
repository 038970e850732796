"""Storage: the SQLite store (all SQL), its migrations, the decision log's hash chain, backups."""
