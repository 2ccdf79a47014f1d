"""Take screenshots of the main pages with headless Chromium (Playwright, Debian's chromium).

Usage: .venv/bin/python bin/screenshots.py [--base http://127.0.0.1:8000] [--out docs/screenshots]
The server must be running (make run). Logs in as the demo admin.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = [
    ("login", "/accounts/login/", False),
    ("home", "/", True),
    ("grid-map", "/geo/map/", True),
    ("admin-index", "/admin/", True),
    ("admin-regions", "/admin/geo/region/", True),
    ("admin-grids", "/admin/geo/grid/", True),
    ("admin-categories", "/admin/catalog/category/", True),
    ("admin-calendar-days", "/admin/workcalendar/calendarday/", True),
]

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="demo-admin")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        logged_in = False
        for name, path, needs_login in PAGES:
            if needs_login and not logged_in:
                page.goto(args.base + "/accounts/login/")
                page.fill("#id_username", args.user)
                page.fill("#id_password", args.password)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
                logged_in = True
            page.goto(args.base + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print(f"{name}: {page.url}")
        browser.close()


if __name__ == "__main__":
    main()
