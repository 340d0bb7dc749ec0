"""The wall's two layouts in Chromium: the map takes the room, every chart row shows, no label is cut.

At 1920×1080 (16:9) and 3840×1080 (32:9), in Chinese and in English. The
small district has three streets; the default one has sixteen, of which the
street chart shows twelve, so the chart is also measured with its rows made
up to twelve in the page.
"""

from __future__ import annotations

import pytest

SIZES = {"16x9": (1920, 1080), "32x9": (3840, 1080)}

#: boxes of the parts of the wall, and whether each street-chart row lies inside its chart box
MEASURE_JS = """(fill) => {
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
                                height: r.height}; };
  const chart = document.querySelector('#wall-chart-street');
  const bars = chart.querySelector('.bars');
  if (fill) {
    const rows = bars.querySelectorAll('.bar-row');
    for (let i = rows.length; i < fill; i++) {
      const row = rows[i % rows.length].cloneNode(true);
      row.querySelector('.bar-label').textContent = '测试街道' + i + '号街道';
      bars.appendChild(row);
    }
  }
  const inner = box(chart);
  const rows = [...bars.querySelectorAll('.bar-row')].map((row) => {
    const parts = [...row.children].map(box);
    return {inside: parts.every((p) => p.top >= inner.top - 0.5 && p.bottom <= inner.bottom + 0.5
                                       && p.left >= inner.left - 0.5 && p.right <= inner.right + 0.5
                                       && p.height > 0),
            track: box(row.querySelector('.bar-track')).height};
  });
  const cut = [...document.querySelectorAll(
      '.kpi-label, .kpi-value, .bars-title, .bar-label, .bar-value, .wall-header h1, .wall-side h2')]
    .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
    .map((el) => el.textContent);
  return {map: box(document.querySelector('#wall-map-box')), charts: box(document.querySelector('#wall-charts')),
          side: box(document.querySelector('#wall-side')), rows, bars: box(bars), cut,
          width: window.innerWidth};
}"""


def _ready(pg, lang: str) -> None:
    label = "摄像头在线率" if lang == "zh" else "Cameras online"
    pg.wait_for_selector("#wall-kpi_camera-label", state="attached", timeout=20_000)
    pg.wait_for_function(f"document.querySelector('#wall-kpi_camera-label').textContent === '{label}'",
                         timeout=20_000)
    pg.wait_for_function("document.querySelector('#wall-kpi_camera-value').textContent.includes('%')",
                         timeout=20_000)
    pg.wait_for_function("document.querySelectorAll('#wall-chart-street .bar-row').length > 0"
                         " && document.querySelectorAll('#wall-chart-class .bar-row').length > 0", timeout=30_000)
    # the class chart relabelled in the page's language (Chinese labels hold CJK characters, English ones none)
    cjk = "true" if lang == "zh" else "false"
    pg.wait_for_function(f"[...document.querySelectorAll('#wall-chart-class .bar-label')]"
                         f".every((e) => /[\\u4e00-\\u9fff]/.test(e.textContent) === {cjk})", timeout=20_000)
    pg.wait_for_timeout(300)  # fonts and the last layout pass


@pytest.mark.parametrize("ratio", ["16x9", "32x9"])
def test_the_wall_uses_the_whole_screen_and_nothing_is_cut(wall_url, page, shot, ratio):
    pg, outside = page
    width, height = SIZES[ratio]
    pg.set_viewport_size({"width": width, "height": height})
    pg.goto(f"{wall_url}/wall?ratio={ratio}", wait_until="domcontentloaded")
    pg.wait_for_selector(f"#wall-root.wall-{ratio}", timeout=20_000)
    for lang in ("zh", "en"):
        if lang == "en":
            pg.locator("#shell-lang-toggle").click()
        _ready(pg, lang)
        shot(pg, f"wall-{ratio}-{lang}")
        seen = pg.evaluate(MEASURE_JS, 0)
        the_map, charts, side = seen["map"], seen["charts"], seen["side"]
        assert the_map["width"] >= 0.45 * seen["width"], (lang, the_map, seen["width"])
        # the map in the middle: charts on its left, the feed and 3-D panel on its right
        assert charts["right"] <= the_map["left"] and side["left"] >= the_map["right"], (charts, the_map, side)
        assert the_map["height"] >= 0.6 * height, the_map
        assert seen["rows"] and all(r["inside"] for r in seen["rows"]), seen["rows"]
        assert seen["cut"] == [], f"{ratio} {lang}: labels cut: {seen['cut']}"
        # twelve streets (the default district's chart): every row still inside its box, bars filling their rows
        twelve = pg.evaluate(MEASURE_JS, 12)
        assert len(twelve["rows"]) == 12
        assert all(r["inside"] for r in twelve["rows"]), twelve["rows"]
        pitch = twelve["bars"]["height"] / 12
        assert all(r["track"] >= 0.6 * pitch for r in twelve["rows"]), (pitch, twelve["rows"])
        assert twelve["cut"] == [], f"{ratio} {lang}: labels cut with twelve streets: {twelve['cut']}"
    assert outside == [], f"requests left the server: {outside[:5]}"


def test_an_empty_ticker_takes_no_room(wall_url, page):
    pg, _ = page
    pg.set_viewport_size({"width": 3840, "height": 1080})
    pg.goto(f"{wall_url}/wall?ratio=32x9", wait_until="domcontentloaded")
    _ready(pg, "zh")
    # measured in one go in the page, the ticker's items set aside and put back (nothing renders in between)
    seen = pg.evaluate("""() => {
      const ul = document.querySelector('#wall-ticker');
      const width = (sel) => document.querySelector(sel).getBoundingClientRect().width;
      const kept = [...ul.childNodes];
      ul.replaceChildren();
      const empty = {ticker: width('.wall-ticker'), feed: width('.wall-feed'), map: width('#wall-map-box')};
      const li = document.createElement('li');
      li.className = 'ticker-item';
      li.textContent = '12:00:00  EV2026103100001';
      ul.appendChild(li);
      const one = {ticker: width('.wall-ticker'), feed: width('.wall-feed'), map: width('#wall-map-box')};
      ul.replaceChildren(...kept);
      return {empty, one, hotspots: document.querySelector('#wall-hotspots').children.length};
    }""")
    assert seen["empty"]["ticker"] == 0 and seen["one"]["ticker"] > 0, seen
    if seen["hotspots"] == 0:  # nothing at all in the feed: its column goes to the map
        assert seen["empty"]["feed"] == 0 and seen["empty"]["map"] > seen["one"]["map"], seen
