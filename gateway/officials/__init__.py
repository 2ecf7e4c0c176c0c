"""The officials' side of the central store: tallies, exports and the dashboard."""

from __future__ import annotations

from gateway.officials.web import create_officials_blueprint, register_officials

__all__ = ["create_officials_blueprint", "register_officials"]
