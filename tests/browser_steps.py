"""Steps the Chromium tests share: waiting for Streamlit to settle, picking a selectbox option,
signing in, and training a small adapter from the Train page. One definition each, so a
fix for a race (a key pressed mid-run, a list that closes while the page re-renders) lands
in every test at once."""

from __future__ import annotations

from tests.conftest import PASSWORD


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Until Streamlit's 'running' indicator is gone: a key pressed mid-run can be lost."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)


def settled(page, timeout_ms: int = 300_000) -> None:
    """Until the page's script run is over (the app root says so) and no spinner shows."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def choose(page, box, option: str) -> None:
    """Pick `option` in the selectbox `box` (a combobox locator); the list can close again while
    Streamlit re-renders, so retry."""
    for _ in range(5):
        wait_idle(page)
        box.click()
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.wait_for(timeout=5_000)
            choice.click()
            settled(page)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: try once more
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r}")


def sign_in(page, name: str, password: str = PASSWORD) -> None:
    """Fill the sign-in form on the page now open and wait until the sidebar names the user."""
    page.get_by_role("textbox", name="Name").wait_for(timeout=60_000)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=60_000)


def start_small_adapter_run(page, url: str, steps: int = 10, name: str = "") -> None:
    """Open Train as reviewer ann, pick the adapter, cap its steps (and name it), press Train."""
    page.goto(f"{url}/train?reviewer=ann")
    page.get_by_text("adapter", exact=True).click(timeout=60_000)
    settled(page)
    box = page.get_by_label("Max steps (0 = no cap)")
    box.fill(str(steps))
    box.press("Enter")
    settled(page)
    if name:
        page.get_by_role("textbox", name="Run name (optional)").fill(name)
        page.get_by_role("textbox", name="Run name (optional)").press("Enter")
        settled(page)
    page.get_by_role("button", name="Train", exact=True).click()
