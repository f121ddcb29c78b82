"""httpx transport that hands requests to a FakeProcountor in-process (no sockets)."""

from typing import TYPE_CHECKING

import httpx

from .messages import FakeRequest, decode_header

if TYPE_CHECKING:
    from .fake import FakeProcountor


class FakeTransport(httpx.BaseTransport):
    """Turns httpx requests into fake calls, and injected timeouts/drops into httpx exceptions."""

    def __init__(self, fake: "FakeProcountor"):
        self._fake = fake

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer, or raise what a real network failure would raise."""
        headers = {k.decode("latin-1"): decode_header(v) for k, v in request.headers.raw}
        fake_request = FakeRequest.build(
            request.method, request.url.path, request.url.query.decode("ascii"), headers, request.read()
        )
        answer = self._fake.handle(fake_request)
        if answer.fault == "timeout":
            raise httpx.ReadTimeout("Fake Procountor did not answer in time (injected)", request=request)
        if answer.fault == "drop":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)
