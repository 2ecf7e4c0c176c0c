"""The central consultation store: receives events from gateways, holds the truth for tallies."""
