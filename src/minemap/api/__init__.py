"""The web application: a FastAPI API over the store, the hazard map and the plan, and the page.

Call :func:`create_app` with a store URL (and the map and plan folders) to get
an ASGI application; ``minemap serve`` runs it with uvicorn.
"""

from minemap.api.app import create_app

__all__ = ["create_app"]
