"""Fake Procountor: a stateful stand-in for the Procountor REST API, in-process or served on loopback."""

# The /_fake control endpoints (state, faults, accountant edits, reset, request log) carry no auth:
# this is a loopback demo tool and must never be exposed beyond 127.0.0.1.

from .fake import FakeProcountor
from .faults import FaultPlan
from .messages import ApiError
from .server import RunningFake, run_fake_server

__all__ = ["ApiError", "FakeProcountor", "FaultPlan", "RunningFake", "run_fake_server"]
