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
