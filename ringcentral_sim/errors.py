"""Error answers shaped like RingCentral's, so clients can key their logic on errorCode."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: HTTP status, RingCentral errorCode and message.

    The token endpoint answers in the OAuth shape (`error`, `error_description`) plus `errors`;
    the REST API answers with `errorCode`/`message` and `errors` (docs/ringcentral.md#error-format).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        oauth_error: str | None = None,
        parameter: str | None = None,
        permission: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.oauth_error = oauth_error
        self.parameter = parameter
        # A missing permission is named in `permissionName` (CMN-401/CMN-408 answers).
        self.permission = permission
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"errorCode": self.code, "message": self.message}
        if self.parameter:
            detail["parameterName"] = self.parameter
        if self.permission:
            detail["permissionName"] = self.permission
        if self.oauth_error:
            return {
                "error": self.oauth_error,
                "error_description": self.message,
                "errors": [detail],
            }
        return {"errorCode": self.code, "message": self.message, "errors": [detail]}


def invalid_parameter(name: str) -> ApiError:
    return ApiError(400, "CMN-101", f"Parameter [{name}] value is invalid", parameter=name)
