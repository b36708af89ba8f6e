"""The console's search: by receipt code or dossier-id prefix (any case), by personal ID number
(12 digits: the portal finds the dossiers that name it, in the submission or a result, and the
answer shows the number masked), or by commune (without diacritics too). Each match comes with
what a result line shows: code, flow, commune and state, and the answer with their count."""

from __future__ import annotations

from typing import TypedDict

import aiohttp
import asyncpg
from aiohttp import web

from contracts.identity import mask_personal_id
from dashboard import workqueue
from dashboard.actions import dumps, problem
from dashboard.wording import FLOW_VI
from runtime.secrets import submitter_headers
from runtime.settings import PlatformSettings
from streams import console
from streams.rows import Found


class Match(TypedDict):
    """A result line: the dossier, its code, flow, commune and state in Vietnamese."""

    dossier_id: str
    code: str | None
    flow_vi: str
    commune: str | None
    state_vi: str


async def answer(request: web.Request, settings: PlatformSettings, pool: asyncpg.Pool | None) -> web.Response:
    text = request.query.get("q", "").strip()
    if not text:
        return problem(400, "Cần nhập mã hồ sơ, số định danh cá nhân (12 chữ số) hoặc tên xã, phường")
    # A dossier id's first group is 8 hex digits, which may all be decimal digits: up to 8
    # digits is an id prefix (a test run once picked such an id); more must be an ID number.
    if text.isdigit() and len(text) > 8:
        if len(text) != 12:
            return problem(400, "Số định danh cá nhân có 12 chữ số (12 digits)")
        ids = await by_personal_id(settings, text)
        by_id = await described(pool, [{"dossier_id": i, "code": None} for i in ids])
        body = {"query": mask_personal_id(text), "dossiers": ids, "matches": by_id, "count": len(ids)}
        return web.json_response(body, dumps=dumps)
    found: list[Found] = []
    if pool is not None:
        async with pool.acquire() as conn:
            found = await console.find(conn, text)
            if not found:
                wanted = workqueue.fold(text)
                names = [str(c) for c in await console.communes(conn) if wanted in workqueue.fold(str(c))]
                found = await console.in_communes(conn, names) if names else []
    matches = await described(pool, found)
    ids = [m["dossier_id"] for m in matches]
    return web.json_response({"query": text, "dossiers": ids, "matches": matches, "count": len(matches)}, dumps=dumps)


async def described(pool: asyncpg.Pool | None, found: list[Found]) -> list[Match]:
    """Each match with what a result line shows: code, flow, commune and state in Vietnamese
    ("—" for what the monitor has not read, or when its database is not up)."""
    known = {}
    if found and pool is not None:
        async with pool.acquire() as conn:
            known = await console.describe(conn, [m["dossier_id"] for m in found])
    out: list[Match] = []
    for m in found:
        d = known.get(m["dossier_id"])
        if d is None:
            out.append({**m, "flow_vi": "—", "commune": None, "state_vi": "—"})
            continue
        closed = d["closed"]
        state = "Đang giải quyết" if closed is None else "Đã trả kết quả" if closed == "completed" else "Từ chối"
        out.append(
            {
                "dossier_id": m["dossier_id"],
                "code": m["code"] or d["code"],
                "flow_vi": FLOW_VI.get(d["chain"] or "", d["chain"] or "—"),
                "commune": d["commune"],
                "state_vi": state,
            }
        )
    return out


async def by_personal_id(settings: PlatformSettings, personal_id: str) -> list[str]:
    url = f"{settings.portal_url}/api/v1/dossiers"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        http.get(url, params={"personal_id": personal_id}, headers=submitter_headers(settings)) as r,
    ):
        if r.status != 200:
            return []
        return [d["dossier_id"] for d in (await r.json())["dossiers"]]
