"""Prefect flows: they order the steps of portal/ and hold no business rules."""
