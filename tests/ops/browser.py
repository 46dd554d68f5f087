"""Headless Chromium (Debian `chromium` + `chromium-driver`) for the dashboard tests."""

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from ops.selectors import LOCAL_TZ

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,2400",
]


@contextmanager
def chromium(*, accept_language: str | None = None) -> Iterator[WebDriver]:
    """A fresh headless Chromium with its own profile directory, quit and removed afterwards;
    `accept_language` ("vi") is what it asks servers for (Chromium's own default is en-US)."""
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("needs the Debian packages chromium and chromium-driver")
    profile = tempfile.mkdtemp(prefix="loship-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    if accept_language:
        options.add_argument(f"--lang={accept_language}")
        options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def admin_login(driver: WebDriver, base_url: str, *, phone: str, password: str, next_path: str) -> None:
    driver.get(f"{base_url}/admin/login/?next={next_path}")
    driver.find_element(By.ID, "id_username").send_keys(phone)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: next_path in d.current_url)


def text_of(driver: WebDriver, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text).strip()


def screenshot(driver: WebDriver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def wait_out_local_midnight(margin: timedelta = timedelta(minutes=5)) -> None:
    """ "Today" is Ho Chi Minh City's day: in its first minutes (17:00 UTC) orders placed minutes ago
    would fall on the day before, so a test about today's orders waits until they cannot."""
    local = timezone.localtime(timezone.now(), LOCAL_TZ)
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    time.sleep(max(0.0, (margin - since_midnight).total_seconds()))
