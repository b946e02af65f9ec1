"""The HTTP API: a FastAPI app (served by uvicorn locally, by Mangum on Lambda)."""
