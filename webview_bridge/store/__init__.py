"""Storage: the schema, the database handle, and one repository module per aggregate."""
