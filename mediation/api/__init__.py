"""The JSON API v1 (``/api/v1``): bearer tokens, the same services and access rule as the
pages, OpenAPI generated from the schemas that validate and shape it, an outbox of case
events for webhooks, and the case exchange format. README, "API"."""
