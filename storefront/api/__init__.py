"""The REST API for ERP integrations: another surface over the same resolver, selectors, engine and
services as the pages (docs/api.md)."""
