"""The HTTP API: FastAPI routers and request/response models. HTTP only; rules live in the domain."""
