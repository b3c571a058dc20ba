"""Writes of ordering: one transaction per call, every rule re-asked at the moment of acceptance."""
