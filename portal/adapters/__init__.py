"""Adapters: the real and in-memory implementations of the ports in portal/domain/ports.py."""
