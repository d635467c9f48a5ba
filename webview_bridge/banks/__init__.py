"""Banks: the directory, the connector interface, and the sandbox connector behind every directory bank."""
