"""Procountor REST API over httpx."""

from .gateway import HttpProcountorGateway
from .ratelimit import RateLimiter
from .retry import RetryPolicy

__all__ = ["HttpProcountorGateway", "RateLimiter", "RetryPolicy"]
