"""The HTTP edges refuse, before any handler, with a 4xx and a JSON reason: a NUL character in the
path or the query (found by fuzzing: PostgreSQL text cannot hold NUL, so it ended as a 500), a body
over the cap (aiohttp's own 413 is plain text), and a client over its share of requests (429 with
Retry-After; the submitter token's holders are not limited)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from runtime.edges import TokenBuckets, cap_body, rate_limit, refuse_nul


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"q": request.query.get("q"), "id": request.match_info["id"]})


async def length(request: web.Request) -> web.Response:
    return web.json_response({"bytes": len(await request.read())})


async def test_a_nul_in_the_path_or_the_query_is_a_400_with_a_reason_and_the_rest_passes() -> None:
    app = web.Application(middlewares=[refuse_nul])
    app.add_routes([web.get("/x/{id}", echo)])
    async with TestClient(TestServer(app)) as client:
        for url in ("/x/a%00b", "/x/a?q=a%00b", "/x/a?a%00b=1"):
            r = await client.get(url)
            assert r.status == 400, url
            body = await r.json()
            assert body["error"] == "bad_request"
            assert "NUL" in body["problems"][0]["reason"]
        ok = await client.get("/x/Xã?q=Tùng Lộc")
        assert (ok.status, await ok.json()) == (200, {"q": "Tùng Lộc", "id": "Xã"})


async def test_a_body_over_the_cap_is_a_413_with_a_json_reason_declared_or_streamed() -> None:
    app = web.Application(middlewares=[cap_body(2048)], client_max_size=2048)
    app.add_routes([web.post("/in", length)])
    async with TestClient(TestServer(app)) as client:
        ok = await client.post("/in", data=b"x" * 2048)
        assert (ok.status, await ok.json()) == (200, {"bytes": 2048})
        declared = await client.post("/in", data=b"x" * 2049)
        assert declared.status == 413
        assert (await declared.json())["error"] == "body_too_large"

        async def chunks() -> object:  # no Content-Length: found while reading
            for _ in range(5):
                yield b"y" * 1024

        streamed = await client.post("/in", data=chunks())
        assert streamed.status == 413
        assert "2048 bytes" in (await streamed.json())["problems"][0]["reason"]


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_bucket_lets_a_burst_through_then_the_sustained_rate_per_client() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, now=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == 0.5  # one token comes every half second
    assert buckets.take("b") == 0.0  # another client has its own bucket
    clock.t += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0.0
    clock.t += 10.0  # idle: the bucket refills to the burst, not beyond
    assert [buckets.take("a") for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_buckets_forget_the_least_recently_seen_clients_beyond_their_cap() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1, max_clients=2, now=Clock())
    for client in ("a", "b", "c"):
        assert buckets.take(client) == 0.0
    assert buckets.take("b") > 0.0  # still known, its bucket empty
    assert buckets.take("a") == 0.0  # forgotten: a full bucket again


async def test_over_its_share_a_client_gets_429_with_retry_after_and_the_token_holder_passes() -> None:
    app = web.Application(middlewares=[rate_limit(TokenBuckets(rate=0.5, burst=2), "s3cret")])
    app.add_routes([web.get("/x/{id}", echo), web.get("/healthz", length)])
    async with TestClient(TestServer(app)) as client:
        assert [(await client.get("/x/1")).status for _ in range(2)] == [200, 200]
        limited = await client.get("/x/1")
        assert limited.status == 429
        assert limited.headers["Retry-After"] == "2"
        body = await limited.json()
        assert (body["error"], body["retry_after_s"]) == ("rate_limited", 2)
        assert "0.5 requests a second" in body["problems"][0]["reason"]
        token = {"Authorization": "Bearer s3cret"}
        assert [(await client.get("/x/1", headers=token)).status for _ in range(5)] == [200] * 5
        wrong = await client.get("/x/1", headers={"Authorization": "Bearer s3cre"})
        assert wrong.status == 429
        health = [(await client.get("/healthz")).status for _ in range(5)]
        assert health == [200] * 5  # the probes are never limited


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited_and_nobody_else_can_claim_an_address() -> None:
    """Behind the compose file's reverse proxy every request comes from the proxy: without trust
    in its X-Forwarded-For, all citizens would share one bucket. Only a listed proxy is believed,
    and only for the address it appended itself (the last one)."""
    from unittest import mock

    from aiohttp.test_utils import make_mocked_request

    from runtime.edges import client_of

    def request(peer: str, forwarded: str | None = None) -> web.Request:
        transport = mock.Mock()
        transport.get_extra_info.return_value = (peer, 40000)
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return make_mocked_request("GET", "/api/v1/dossiers", headers=headers, transport=transport)

    proxies = ("172.30.0.10",)
    assert client_of(request("172.30.0.10", "203.0.113.9"), proxies) == "203.0.113.9"
    assert client_of(request("172.30.0.10", "1.2.3.4, 203.0.113.9"), proxies) == "203.0.113.9"
    assert client_of(request("172.30.0.10"), proxies) == "172.30.0.10"
    assert client_of(request("198.51.100.7", "203.0.113.9"), proxies) == "198.51.100.7"  # not a proxy: ignored
