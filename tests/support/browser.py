"""A real headless browser for the pages people read: Debian's chromium, driven through its
chromedriver by Selenium (never a browser Selenium would download)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium_axe_python import Axe

from tests.support.tools import require_tool


@contextmanager
def headless_chromium(
    *, trust_test_certificates: bool = False, downloads: Path | None = None
) -> Iterator[webdriver.Chrome]:
    """`trust_test_certificates`: accept the tests' own CA's certificates (HTTPS pages);
    `downloads`: where a clicked download lands."""
    options = webdriver.ChromeOptions()
    options.binary_location = require_tool("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.accept_insecure_certs = trust_test_certificates
    if downloads is not None:
        options.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
    driver = webdriver.Chrome(options=options, service=Service(require_tool("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


def accessibility_problems(driver: WebDriver) -> list[str]:
    """What axe-core (WCAG 2.1 A and AA rules) finds serious or critical on the page shown."""
    axe = Axe(driver)
    axe.inject()
    results = axe.run(
        options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
