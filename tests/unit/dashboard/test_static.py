import re
import unicodedata
from importlib import resources

STATIC = resources.files("dashboard").joinpath("static")


def test_the_page_loads_nothing_from_outside() -> None:
    # It must work without internet: every asset is served by the dashboard itself.
    for name in ("index.html", "app.js", "style.css"):
        text = STATIC.joinpath(name).read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), name
        assert "@import" not in text, name


def test_the_page_is_vietnamese_in_nfc() -> None:
    html = STATIC.joinpath("index.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html
    assert '<meta charset="utf-8">' in html
    for name in ("index.html", "app.js"):
        text = STATIC.joinpath(name).read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), name
    assert "Cảnh báo trực tiếp" in html


async def test_static_files_are_served_with_their_types_and_nothing_outside_the_folder() -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from dashboard.app import Dashboard
    from runtime.settings import Settings

    app = web.Application()
    app.add_routes(Dashboard(Settings(operator_token="t")).routes())
    async with TestClient(TestServer(app)) as client:
        css = await client.get("/static/style.css")
        assert css.status == 200
        assert css.content_type == "text/css"
        js = await client.get("/static/app.js")
        assert js.status == 200
        assert "javascript" in js.content_type
        assert (await client.get("/static/../app.py")).status in (403, 404)
        assert (await client.get("/static/%2e%2e/app.py")).status in (403, 404)
        assert (await client.get("/static/missing.js")).status == 404
