"""Banks: the directory, the connector interface, the facade every call goes through, and the Berlin Group connector."""
