"""Which gateways share a rate limit: Procountor counts requests per API client, not per company."""

from __future__ import annotations

from spotilla_procountor.app.gateways import GatewayFactory
from spotilla_procountor.app.settings import Settings

TEST_URL = "https://pts-api.procountor.com"


def test_tenants_of_one_api_client_share_one_limiter_whatever_their_api_keys() -> None:
    factory = GatewayFactory(settings=Settings(rate_limit_per_s=20, rate_limit_margin=0.1, _env_file=None))

    first = factory.limiter(TEST_URL, "integrator")
    assert factory.limiter(TEST_URL, "integrator") is first  # another tenant's key, same client: same budget
    assert factory.limiter(TEST_URL, "another-integrator") is not first
    assert factory.limiter("https://api.procountor.com", "integrator") is not first  # another environment
    assert (first.per_second, first.margin) == (20, 0.1)


def test_gateways_of_two_tenants_with_one_client_id_draw_on_the_same_limiter() -> None:
    factory = GatewayFactory(settings=Settings(_env_file=None))
    one = factory.gateway(environment=TEST_URL, client_id="integrator", client_secret="s", api_key="key-of-tenant-1")
    two = factory.gateway(environment=TEST_URL, client_id="integrator", client_secret="s", api_key="key-of-tenant-2")
    try:
        assert one._exchange._limiter is two._exchange._limiter
    finally:
        one.close()
        two.close()
