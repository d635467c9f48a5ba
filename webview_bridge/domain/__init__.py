"""The rules, as plain functions over plain data: no HTTP, no SQL."""
