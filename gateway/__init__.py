"""CivicLine: an offline-first SMS and voice participation gateway."""

from __future__ import annotations

__version__ = "0.1.0"
