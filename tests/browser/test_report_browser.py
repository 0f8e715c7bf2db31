"""The auditor report in a real headless Chromium: the sections render, the figures link to their traces, and the
page is not blank (screenshot decoded with a small stdlib PNG reader)."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from collections import Counter
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SCREENSHOT_COPY = Path("/tmp/report_screenshot.png")


# ------------------------------------------------------------------------------------------ PNG -------------
def read_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG: (width, height, unfiltered rows, bytes per pixel)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = ihdr
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG: {ihdr}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif f == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def colour_stats(png: bytes) -> tuple[int, float]:
    """(distinct colours, share of the most common colour) over every pixel."""
    width, height, rows, bpp = read_png(png)
    counts: Counter = Counter()
    for row in rows:
        counts.update(row[i:i + 3] for i in range(0, len(row), bpp))
    return len(counts), counts.most_common(1)[0][1] / (width * height)


def assert_not_blank(path: Path) -> None:
    distinct, top_share = colour_stats(path.read_bytes())
    assert distinct > 1, "the screenshot is one flat colour"
    assert top_share <= 0.99, f"the screenshot is {top_share:.1%} one colour"


def test_png_reader_on_a_known_image():
    # 2x1 RGB: red, white; filter 1 (Sub) on the only row
    row = bytes([1, 255, 0, 0, 0, 255, 255])
    ihdr = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(row)) + chunk(b"IEND", b"")
    w, h, rows, bpp = read_png(png)
    assert (w, h, bpp) == (2, 1, 3) and rows[0] == bytes([255, 0, 0, 255, 255, 255])
    assert colour_stats(png) == (2, 0.5)


# ------------------------------------------------------------------------------------------ browser ---------
# what a reader sees in each language (issue 23: Bahasa Indonesia first, English on a switch), written here from
# the wording, not read from the catalogue
WORDS = {
    "id": {"title": "laporan auditor", "nav": "Karantina", "back": "← kembali ke tabel cakupan", "june": "Juni 2025",
           "precision": "Ketik NIK sebagai teks", "where": ", lembar ", "months": "Januari Februari Maret April Mei "
           "Juni Juli Agustus September Oktober November Desember", "result": "lolos"},
    "en": {"title": "auditor report", "nav": "Quarantine", "back": "← back to the coverage table", "june": "June 2025",
           "precision": "Type the NIK as text", "where": ", sheet ", "months": "January February March April May "
           "June July August September October November December", "result": "pass"},
}


def test_report_in_chromium(chrome, site_url, report_site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    lang = report_site[2]
    words = WORDS[lang]
    driver = chrome
    driver.get(site_url + "index.html")
    assert words["title"] in driver.title
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    assert words["nav"] in [a.text for a in driver.find_elements(By.CSS_SELECTOR, "nav a")]
    # dates as "30 April 2025 07:08:09 UTC", the month by its name in the page's language
    published = driver.find_element(By.ID, "published-at").text
    months = words["months"].replace(" ", "|")
    assert re.fullmatch(rf"\d{{1,2}} ({months}) \d{{4}} \d\d:\d\d:\d\d UTC", published), published

    # the quality gate: the newest run is open and its checks table has visible rows
    checks = driver.find_element(By.ID, "checks")
    newest = checks.find_elements(By.CSS_SELECTOR, "details.run")[0]
    assert newest.get_attribute("open") is not None
    check_rows = newest.find_elements(By.CSS_SELECTOR, "table.checks tbody tr")
    assert len(check_rows) > 10 and check_rows[0].is_displayed()
    assert newest.get_attribute("data-status") == "published"

    # per-file loads and the quarantine (the 4 rows the samples produce)
    loads = driver.find_elements(By.CSS_SELECTOR, "#loads tr.load")
    assert len(loads) == 6
    q_rows = driver.find_elements(By.CSS_SELECTOR, "#quarantine tr.q-row")
    assert len(q_rows) == 4
    assert sorted(r.get_attribute("data-reason") for r in q_rows) == [
        "NIK_17_DIGITS", "NIK_PRECISION_LOST", "NO_PARTICIPANT_ID", "OCCUPATION_MISSING"]
    assert all(r.is_displayed() for r in q_rows)
    # the clerk's message in the page's language, naming the file, sheet and row
    precision = next(r for r in q_rows if r.get_attribute("data-reason") == "NIK_PRECISION_LOST")
    message = precision.find_elements(By.TAG_NAME, "td")[5].text
    assert words["precision"] in message and words["where"] in message, message
    assert precision.get_attribute("data-file") in message
    assert words["result"] in {td.text for td in newest.find_elements(By.CSS_SELECTOR, "td.result")}

    # one chart per regency, each an inline SVG with points and a rendered size
    regencies = {r.get_attribute("data-regency") for r in driver.find_elements(By.CSS_SELECTOR, "tr.coverage-row")}
    charts = driver.find_elements(By.CSS_SELECTOR, "#charts figure.chart")
    assert {c.get_attribute("data-regency") for c in charts} == regencies and regencies
    for reg in regencies:
        svg = driver.find_element(By.ID, f"chart-{reg}").find_element(By.TAG_NAME, "svg")
        assert svg.size["width"] > 200 and svg.size["height"] > 100
        assert svg.find_elements(By.CSS_SELECTOR, "circle.point-enrolled")
        assert svg.find_elements(By.CSS_SELECTOR, "circle.point-protected")

    assert driver.find_element(By.ID, "promises").find_elements(By.CSS_SELECTOR, "tr.promise")

    # months by name, Rupiah with a dot between thousands ("Rp 16.800"), in either language
    june = driver.find_element(By.CSS_SELECTOR, 'tr.coverage-row[data-regency="73.14"][data-month="2025-06"]')
    assert june.find_element(By.CSS_SELECTOR, "td.month").text == words["june"]
    paid = june.find_element(By.CSS_SELECTOR, "td.premium_paid").text
    assert re.fullmatch(r"Rp \d{1,3}(\.\d{3})*", paid), paid

    # screenshots: the top of the page and the charts
    top = tmp_path / "report_top.png"
    assert driver.save_screenshot(str(top))
    assert_not_blank(top)
    shutil.copyfile(top, SCREENSHOT_COPY)
    driver.execute_script("document.getElementById('charts').scrollIntoView()")
    charts_png = tmp_path / "report_charts.png"
    assert driver.save_screenshot(str(charts_png))
    assert_not_blank(charts_png)

    # clicking a coverage figure opens its trace page, whose rows add up to the figure
    link = driver.find_element(
        By.CSS_SELECTOR, 'tr.coverage-row[data-regency="73.14"][data-month="2025-06"] a[data-measure="enrolled"]')
    assert link.text == "15"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    WebDriverWait(driver, 10).until(EC.url_contains("trace/73.14_2025-06_enrolled.html"))
    figure = driver.find_element(By.ID, "figure")
    assert figure.text == "15"
    rows = driver.find_elements(By.CSS_SELECTOR, "#trace-rows tr.trace-row")
    assert len(rows) == 15
    assert all(len(r.find_element(By.CSS_SELECTOR, "td.pseudonym").text) == 13 for r in rows)  # 12 hex + "…"
    trace_png = tmp_path / "trace.png"
    assert driver.save_screenshot(str(trace_png))
    assert_not_blank(trace_png)

    # and back to the coverage table
    driver.find_element(By.LINK_TEXT, words["back"]).click()
    WebDriverWait(driver, 10).until(EC.url_contains("index.html"))
    assert driver.find_element(By.ID, "coverage").is_displayed()
