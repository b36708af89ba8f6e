"""What every HTTP edge refuses before a handler sees it, answered with a 4xx and a JSON reason
in both the portal's and the dashboard's shapes (`error`, `problems`):

- a NUL character in the path or the query string (PostgreSQL text cannot hold one, so it would
  end as a server error deep inside): 400;
- a body over the edge's cap: 413 (aiohttp's own answer is plain text);
- more requests from one client than its share (the portal): 429 with `Retry-After`.

The rate limit is a token bucket per client, the client being the peer address. Clients that
present the submitter token (`runtime/secrets.py`) submit for many citizens at once and are not
limited per client: the national portal's gateway in production; here the simulator's own
workload, the load tests and the benchmarks."""

from __future__ import annotations

import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection

from aiohttp import web
from aiohttp.typedefs import Middleware as Middleware  # re-exported: the type of every edge check

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNLIMITED_PATHS = frozenset({"/healthz", "/metrics"})
"""Probes the supervisor and `lienthong status` poll: never limited."""


def problem(status: int, error: str, reason: str, **extra: object) -> web.Response:
    return web.json_response({"error": error, "problems": [{"field": "$", "reason": reason}], **extra}, status=status)


@web.middleware
async def refuse_nul(request: web.Request, handler: Handler) -> web.StreamResponse:
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.query.items()):
        return problem(400, "bad_request", "NUL character in the path or the query string")
    return await handler(request)


def cap_body(max_bytes: int) -> Middleware:
    """Refuse a body over `max_bytes` with a JSON 413, whether its length is declared up front or
    found while reading (the application's `client_max_size` must be the same cap)."""

    @web.middleware
    async def capped(request: web.Request, handler: Handler) -> web.StreamResponse:
        reason = f"the body is over {max_bytes} bytes"
        if request.content_length is not None and request.content_length > max_bytes:
            return problem(413, "body_too_large", reason)
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return problem(413, "body_too_large", reason)

    return capped


class TokenBuckets:
    """A token bucket per client: `rate` requests a second sustained, `burst` at once. At most
    `max_clients` buckets are kept (the least recently seen go first), so many addresses cannot
    grow the memory without bound; a forgotten client starts again with a full bucket."""

    def __init__(
        self, rate: float, burst: int, max_clients: int = 10_000, now: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a rate limit needs rate > 0 and burst ≥ 1, got {rate}, {burst}")
        self.rate, self.burst, self.max_clients, self._now = rate, float(burst), max_clients, now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 if `client` may go on (one token taken), else the seconds until it may."""
        now = self._now()
        tokens, at = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def client_of(request: web.Request, trusted_proxies: Collection[str]) -> str:
    """The client a request comes from: its peer, or, when the peer is a trusted reverse proxy,
    the address the proxy appended last to X-Forwarded-For (the one it saw; earlier entries are
    the client's own word)."""
    peer = request.remote or "unknown"
    if peer not in trusted_proxies:
        return peer
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    return forwarded[-1] if forwarded else peer


def rate_limit(buckets: TokenBuckets, submitter_token: str, trusted_proxies: Collection[str] = ()) -> Middleware:
    """Answer 429 to a client over its share; the submitter token's holders pass unlimited."""
    bearer = f"Bearer {submitter_token}".encode()

    @web.middleware
    async def limited(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode()
        if request.path in UNLIMITED_PATHS or (submitter_token and hmac.compare_digest(given, bearer)):
            return await handler(request)
        wait = buckets.take(client_of(request, trusted_proxies))
        if wait == 0.0:
            return await handler(request)
        seconds = max(1, math.ceil(wait))
        response = problem(
            429,
            "rate_limited",
            f"more than {buckets.rate:g} requests a second from this client (bursts of {buckets.burst:g}); "
            f"retry after {seconds} s",
            retry_after_s=seconds,
        )
        response.headers["Retry-After"] = str(seconds)
        return response

    return limited
