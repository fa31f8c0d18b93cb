"""Run-time flags per agent: kill switch, candidate share, overrides, sample rate.

Requests read flags from a local in-memory copy only (no I/O on the request path); the store
behind it is memory (embedded) or Redis (shared by every replica).
"""

from gateway.flags.model import AgentFlags, FlagChange
from gateway.flags.store import FlagStore, MemoryFlagStore, flags_from_config

__all__ = ["AgentFlags", "FlagChange", "FlagStore", "MemoryFlagStore", "flags_from_config"]
