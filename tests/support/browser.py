"""Driving the staff pages in Chromium: signing in, and hearing every CSP violation a page
reports."""

from __future__ import annotations

# Every CSP violation the page reports, whichever directive: Chromium's console messages about
# them are not console API calls, so Playwright does not see those; the DOM event it fires is
# reliable.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${location.pathname}: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
  );
});
"""


def csp_violations(page) -> list[str]:
    """The list the page's CSP violations are added to ("<path>: <directive> blocked <what>"),
    from the next navigation on."""
    violations: list[str] = []
    page.expose_function("reportCspViolation", lambda text: violations.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    return violations


def submit_sign_in(page, username: str, password: str) -> None:
    """Type a user name and password into the sign-in page that is open, and press Sign in."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_at(page, base_url: str, username: str, password: str) -> None:
    """Sign in from the sign-in page and wait for the compose page, where staff land."""
    page.goto(f"{base_url}/accounts/login/")
    submit_sign_in(page, username, password)
    page.wait_for_url("**/compose/")
