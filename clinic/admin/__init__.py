"""Clinic administration: staff accounts and the clinic's details and settings."""
