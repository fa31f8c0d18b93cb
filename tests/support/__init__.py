"""Shared test helpers: real servers on loopback ports, processes, Redis."""
