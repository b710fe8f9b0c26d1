"""Regenerate the README's screenshots from the demo organization.

    .venv/bin/python scripts/screenshots.py

Loads the demo into a temporary KEEPSCORE_HOME, serves it with `keepscore serve`, and takes
the pictures with Playwright driving Debian's Chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
KEEPSCORE = str(Path(sys.executable).with_name("keepscore"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    env = {**os.environ, "KEEPSCORE_HOME": tempfile.mkdtemp(prefix="keepscore-shots-")}
    env.pop("DATABASE_URL", None)
    subprocess.run([KEEPSCORE, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen(
        [KEEPSCORE, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login/")
            page.get_by_label("Email address").fill("owner@demo.keepscore.test")
            page.get_by_label("Password").fill("demo-owner-2024")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/o/demo/")
            page.wait_for_selector("#focus-card")  # the focus card arrives after the page
            page.screenshot(path=str(OUT / "dashboard.png"))
            page.goto(f"{base}/o/demo/board/")
            page.screenshot(path=str(OUT / "board.png"))
            page.goto(f"{base}/o/demo/today/")
            page.screenshot(path=str(OUT / "today.png"))
            # an open lead with an overdue next step, a call just logged
            page.goto(f"{base}/o/demo/leads/?next_step=overdue")
            page.locator("table.leads tbody a").first.click()
            page.wait_for_selector("#lead-actions")
            lead = page.url
            page.locator("#quick-call > summary").click()
            page.get_by_placeholder("What was said (optional)").fill("Wants a quote by Friday")
            page.get_by_role("button", name="Reached them").click()
            page.wait_for_selector("text=Next step?")
            page.screenshot(path=str(OUT / "lead.png"))
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.context.add_cookies(page.context.cookies())
            phone.goto(lead)
            phone.screenshot(path=str(OUT / "lead-phone.png"))
            # last month's scorecard (complete), and the funnel of the last 12 months
            first = date.today().replace(day=1)
            last_month = (first - timedelta(days=1)).strftime("%Y-%m")
            page.goto(f"{base}/o/demo/scorecard/{last_month}/")
            page.screenshot(path=str(OUT / "scorecard.png"), full_page=True)
            page.goto(f"{base}/o/demo/funnel/")
            page.screenshot(path=str(OUT / "funnel.png"))
            page.goto(f"{base}/o/demo/focus/")
            page.screenshot(path=str(OUT / "focus.png"), full_page=True)
            year = date.today().year
            page.goto(f"{base}/o/demo/economics/?from={year}-01-01&to={date.today()}")
            page.screenshot(path=str(OUT / "economics.png"), full_page=True)
            # next year's plan for a revenue goal, with proposal -> customer tried at 50%
            page.goto(f"{base}/o/demo/plan/?year={year + 1}")
            page.get_by_label("Amount").fill("700000")
            page.wait_for_selector(".plan-headline")
            with page.expect_response(lambda r: "to_customer=50" in r.url):
                page.locator("#a-to_customer").fill("50")
            page.wait_for_selector("text=what-if, not saved")
            page.locator("#plan-result").screenshot(path=str(OUT / "plan.png"))
            # this year's targets: the grid the accepted plan filled
            page.goto(f"{base}/o/demo/scorecard/targets/?year={year}")
            page.screenshot(path=str(OUT / "targets.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
