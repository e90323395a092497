"""A real headless browser for the pages people read: Debian's chromium, driven through its
chromedriver by Selenium (never a browser Selenium would download)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support.tools import require_tool


@contextmanager
def headless_chromium() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = require_tool("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(require_tool("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()
