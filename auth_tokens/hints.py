"""What a person should check when RingCentral refuses a login, keyed on errorCode."""

from __future__ import annotations

from auth_tokens.credentials import Credentials

# docs/ringcentral.md#error-format: the token endpoint codes that need a person, not a retry.
CLIENT_CODES = {"OAU-123", "OAU-146", "OAU-153"}
GRANT_NOT_ALLOWED_CODES = {"OAU-251", "OAU-112", "OAU-125", "OAU-250"}
ACCOUNT_STATE_CODES = {"OAU-136", "OAU-141", "OAU-142", "OAU-232", "OAU-236", "OAU-222"}
# Within ACCOUNT_STATE_CODES, two that need different fixes (docs/ringcentral.md#token-errors:
# statuses): no such extension (a setting is wrong) vs an extension that may not log in now.
EXTENSION_NOT_FOUND_CODE = "OAU-136"
EXTENSION_STATE_CODE = "OAU-141"
WRONG_ENVIRONMENT_CODE = "OAU-165"
BAD_CREDENTIALS_CODE = "OAU-140"
MFA_CODE = "OAU-168"
REFRESH_REFUSED_CODES = {"OAU-210", "OAU-211", "OAU-213"}

JWT_ADVICE = (
    "RingCentral has retired the password grant in favour of JWT: create a JWT credential for "
    "this user in the Developer Console and set RINGCENTRAL_JWT."
)
# Shown whenever the password grant is in use, even while it works: the current published
# spec no longer lists it, so an app may be refused it (OAU-251) at any time.
LEGACY_GRANT_WARNING = (
    "the password grant is legacy: RingCentral's current API no longer lists it and may refuse "
    "it (OAU-251) at any time. Replace it with a JWT: create a JWT credential for this user in "
    "the Developer Console and set RINGCENTRAL_JWT (the username and password are then unused)."
)


def hint_for(code: str, creds: Credentials) -> str:
    server, user = creds.describe_server(), creds.describe_user()
    if code == BAD_CREDENTIALS_CODE and creds.grant == "jwt":
        return (
            f"{server} rejected {user}. Check RINGCENTRAL_JWT: it must be a JWT credential "
            f"created for this app's environment ({creds.environment}) and not expired or revoked."
        )
    if code == BAD_CREDENTIALS_CODE:
        return (
            f"{server} rejected the password for {user}. Check RINGCENTRAL_USERNAME, "
            "RINGCENTRAL_EXTENSION and RINGCENTRAL_PASSWORD: sandbox and production passwords "
            "differ, and the developer-portal login is not the RingCentral user's login. "
            + JWT_ADVICE
        )
    if code in CLIENT_CODES:
        return (
            f"{server} did not accept the app's client id and secret. Check "
            "RINGCENTRAL_CLIENT_ID and RINGCENTRAL_CLIENT_SECRET against the app in the "
            "Developer Console: sandbox and production credentials of one app differ."
        )
    if code == WRONG_ENVIRONMENT_CODE:
        return (
            f"The app is not available on {server}: a sandbox app's credentials only work "
            "with the sandbox server and production credentials with production. Set "
            "RINGCENTRAL_SERVER_URL to match the credentials, or use the other credentials."
        )
    if code in GRANT_NOT_ALLOWED_CODES and creds.grant == "jwt":
        return (
            f"{server} does not allow the JWT grant for this app. In the Developer Console, "
            "enable the JWT auth flow for the app (Auth settings)."
        )
    if code in GRANT_NOT_ALLOWED_CODES:
        # The password flow can no longer be switched on for most apps: the JWT is the fix.
        return (
            f"{server} does not allow the password grant for this app ({code}). Log in with a "
            "JWT instead: create a JWT credential for this user in the Developer Console (the "
            "app needs the JWT auth flow) and set RINGCENTRAL_JWT. Re-enabling the password "
            "flow is only possible for apps that still offer it."
        )
    if code == MFA_CODE:
        return (
            f"{server} requires multi-factor authentication for {user}, which blocks the "
            "password grant. " + JWT_ADVICE
        )
    if code == EXTENSION_NOT_FOUND_CODE and creds.grant == "jwt":
        return (
            f"{server} found no extension for {user}: the user the JWT credential belongs to "
            "no longer exists. Create a JWT credential for an existing user and set "
            "RINGCENTRAL_JWT to it."
        )
    if code == EXTENSION_NOT_FOUND_CODE:
        which = f"extension {creds.extension}" if creds.extension else "extension"
        return (
            f"{server} found no {which} for {creds.username}. Check RINGCENTRAL_EXTENSION: "
            "the user's short extension number (e.g. 101) under that phone number or email."
        )
    if code == EXTENSION_STATE_CODE:
        return (
            f"{server} does not allow {user} to log in in the extension's current state "
            f"({code}: disabled or not yet activated). Ask the RingCentral account "
            "administrator to enable the extension, or log in as another user."
        )
    if code in ACCOUNT_STATE_CODES:
        return (
            f"{server} says the extension or account of {user} is not active ({code}). "
            "Ask the RingCentral account administrator to enable it."
        )
    return (
        f"{server} refused the login for {user} with {code or 'an unexpected answer'}. Check "
        "the RINGCENTRAL_* settings and the app's configuration in the Developer Console."
    )
