"""The request and response models of the API (its OpenAPI schema), one module per surface."""
