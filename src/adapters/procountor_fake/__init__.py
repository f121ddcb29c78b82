"""Fake Procountor: a stateful stand-in for the Procountor REST API, in-process or served on loopback."""

from .fake import FakeProcountor
from .faults import FaultPlan
from .server import RunningFake, run_fake_server

__all__ = ["FakeProcountor", "FaultPlan", "RunningFake", "run_fake_server"]
