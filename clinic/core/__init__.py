"""Pieces every feature shares: form helpers, error pages, response headers, health check."""
