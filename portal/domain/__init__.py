"""The domain: pure functions and pydantic models. No I/O library is imported here."""
