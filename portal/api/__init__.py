"""The HTTP API: FastAPI routers and request/response models. Rules live in the domain."""
