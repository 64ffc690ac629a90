"""The simulator's state and request handling, independent of the HTTP server around it."""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from ringcentral_sim import a2p, inbox, webhooks
from ringcentral_sim.config import SimConfig
from ringcentral_sim.consents import OPTED_OUT_CODE, Consents, keyword_status, permission_denied
from ringcentral_sim.errors import ApiError
from ringcentral_sim.faults import Fault, FaultPlan
from ringcentral_sim.messages import (
    E164,
    MessageStore,
    StoredMessage,
    StoreQuery,
    iso,
    paging_of,
    render,
)
from ringcentral_sim.oauth import (
    JWT_GRANT,
    Session,
    TokenStore,
    extension_unknown,
    find_user,
    user_key,
)
from ringcentral_sim.ratelimit import RateDecision, RateLimiter
from ringcentral_sim.sync import SyncTokens, sync
from ringcentral_sim.webhooks import Subscription, Webhooks

GRANT_NAMES = {"password": "password", JWT_GRANT: "jwt", "refresh_token": "refresh_token"}
# Retry-After of an injected 429 that names none: the default penalty window.
DEFAULT_FAULT_RETRY_AFTER = 60
EXTENSION_PATH = r"^/restapi/v1\.0/account/(?P<account>[^/]+)/extension/(?P<extension>[^/]+)"
SUBSCRIPTION_PATH = r"^/restapi/v1\.0/subscription"
CONSENTS_PATH = r"^/restapi/v2/accounts/(?P<account>[^/]+)/sms/consents"
A2P_PATH = r"^/restapi/v1\.0/account/(?P<account>[^/]+)/a2p-sms"
# The inbox's reply forms post here: the one control path that takes a form body.
INBOX_REPLY_PATH = "/_sim/inbox/reply"
# How many times one inbound text may be notified to each subscription (/_sim/inbound).
MAX_DELIVERIES = 10


@dataclass
class Request:
    method: str
    path: str
    # One value per name (the first, when a name repeats), for parameters that take one.
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str = ""
    # Every (name, value) in order, repeats kept: RingCentral's multi-value filters
    # (direction=Inbound&direction=Outbound) need them. Derived from `query` when not given.
    query_items: list[tuple[str, str]] | None = None

    def __post_init__(self) -> None:
        if self.query_items is None:
            self.query_items = list(self.query.items())

    @classmethod
    def with_query_string(cls, query_string: str, **fields: Any) -> Request:
        items = parse_qsl(query_string)
        first: dict[str, str] = {}
        for name, value in items:
            first.setdefault(name, value)
        return cls(query=first, query_items=items, **fields)

    def values(self, name: str) -> list[str]:
        """Every value the query gave `name`, in order."""
        return [value for key, value in self.query_items or [] if key == name]

    def uri_with(self, **changes: str) -> str:
        """This request's absolute URL with some parameters set to one new value each (the
        first occurrence keeps its place; a parameter not there yet goes last)."""
        items: list[tuple[str, str]] = []
        for name, value in self.query_items or []:
            if name not in changes:
                items.append((name, value))
            elif all(name != done for done, _ in items):
                items.append((name, changes[name]))
        items += [(n, v) for n, v in changes.items() if all(n != done for done, _ in items)]
        return f"{self.base_url}{self.path}?{urlencode(items)}"

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace")))

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # What the HTTP layer should do around the answer (faults).
    delay_before: float = 0.0
    delay_after: float = 0.0
    drop: bool = False

    @classmethod
    def of_json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(data).encode(), headers=dict(headers or {}))


@dataclass
class Counters:
    token_requests: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rate_limited: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    api_unauthorized: int = 0
    faults: dict[str, int] = field(default_factory=lambda: defaultdict(int))


Handler = Callable[[Request, dict[str, str]], Response]


class Simulator:
    """Thread-safe: every state change happens under one lock; sleeps happen outside it."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self._initial = config or SimConfig()
        self._lock = threading.Lock()
        self._clock_offset = 0.0
        self._reset_state(self._initial)
        self._routes: list[tuple[str, re.Pattern[str], str | None, Handler]] = [
            ("POST", re.compile(r"^/restapi/oauth/token$"), "Auth", self._token),
            ("POST", re.compile(r"^/restapi/oauth/revoke$"), "Auth", self._revoke),
            ("POST", re.compile(EXTENSION_PATH + r"/sms$"), "Medium", self._send_sms),
            ("GET", re.compile(EXTENSION_PATH + r"/message-store$"), "Light", self._list_messages),
            (
                "GET",
                re.compile(EXTENSION_PATH + r"/message-store/(?P<id>\d+)$"),
                "Light",
                self._get_message,
            ),
            ("GET", re.compile(EXTENSION_PATH + r"/message-sync$"), "Light", self._message_sync),
            ("GET", re.compile(EXTENSION_PATH + r"/phone-number$"), "Light", self._phone_numbers),
            ("POST", re.compile(SUBSCRIPTION_PATH + r"$"), "Medium", self._create_subscription),
            ("GET", re.compile(SUBSCRIPTION_PATH + r"$"), "Light", self._list_subscriptions),
            (
                "GET",
                re.compile(SUBSCRIPTION_PATH + r"/(?P<id>[^/]+)$"),
                "Light",
                self._get_subscription,
            ),
            (
                "POST",
                re.compile(SUBSCRIPTION_PATH + r"/(?P<id>[^/]+)/renew$"),
                "Light",
                self._renew_subscription,
            ),
            (
                "DELETE",
                re.compile(SUBSCRIPTION_PATH + r"/(?P<id>[^/]+)$"),
                "Medium",
                self._delete_subscription,
            ),
            ("PATCH", re.compile(CONSENTS_PATH + r"$"), "Light", self._patch_consents),
            ("POST", re.compile(CONSENTS_PATH + r"/search$"), "Light", self._search_consents),
            ("GET", re.compile(EXTENSION_PATH + r"$"), "Light", self._extension_info),
            # High-volume SMS: every operation is Light (the reference's rate-limit group).
            ("POST", re.compile(A2P_PATH + r"/batches$"), "Light", self._create_a2p_batch),
            ("GET", re.compile(A2P_PATH + r"/batches$"), "Light", self._list_a2p_batches),
            (
                "GET",
                re.compile(A2P_PATH + r"/batches/(?P<id>[^/]+)$"),
                "Light",
                self._get_a2p_batch,
            ),
            ("GET", re.compile(A2P_PATH + r"/messages$"), "Light", self._list_a2p_messages),
            (
                "GET",
                re.compile(A2P_PATH + r"/messages/(?P<id>[^/]+)$"),
                "Light",
                self._get_a2p_message,
            ),
            ("GET", re.compile(r"^/restapi/v1\.0/?$"), None, self._api_version),
            ("GET", re.compile(r"^/$"), None, self._inbox_page),
            ("GET", re.compile(r"^/_sim/config$"), None, self._get_config),
            ("POST", re.compile(r"^/_sim/config$"), None, self._set_config),
            ("POST", re.compile(r"^/_sim/reset$"), None, self._reset),
            ("POST", re.compile(r"^/_sim/revoke-all$"), None, self._revoke_all),
            ("GET", re.compile(r"^/_sim/counters$"), None, self._get_counters),
            ("POST", re.compile(r"^/_sim/clock$"), None, self._advance_clock),
            ("POST", re.compile(r"^/_sim/faults$"), None, self._add_faults),
            ("DELETE", re.compile(r"^/_sim/faults$"), None, self._clear_faults),
            ("GET", re.compile(r"^/_sim/messages$"), None, self._all_messages),
            ("GET", re.compile(r"^/_sim/sessions$"), None, self._sessions),
            ("POST", re.compile(r"^/_sim/inbound$"), None, self._inbound),
            ("POST", re.compile("^" + re.escape(INBOX_REPLY_PATH) + "$"), None, self._inbox_reply),
            ("GET", re.compile(r"^/_sim/webhook-deliveries$"), None, self._webhook_deliveries),
            ("GET", re.compile(r"^/_sim/subscriptions$"), None, self._all_subscriptions),
            ("POST", re.compile(r"^/_sim/sync/reset$"), None, self._sync_reset),
            ("GET", re.compile(r"^/_sim/opt-outs$"), None, self._opt_outs),
            ("GET", re.compile(r"^/_sim/a2p/batches$"), None, self._all_a2p_batches),
            ("GET", re.compile(r"^/_sim/a2p/messages$"), None, self._all_a2p_messages),
        ]
        # Handlers that take the lock themselves: creating a subscription calls the app's
        # webhook (up to webhook_timeout_seconds), and the app may call the simulator meanwhile.
        self._self_locking: set[Handler] = {self._create_subscription}

    # -- entry point ----------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def _route(self, request: Request) -> tuple[str | None, Handler, dict[str, str]] | None:
        for method, pattern, group, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return group, handler, match.groupdict()
        return None

    def handle(self, request: Request) -> Response:
        route = self._route(request)
        if route is None:
            return Response.of_json(404, ApiError(404, "CMN-102", "Resource not found").body())
        group, handler, params = route
        if group is None:  # control API and inbox page: no auth, limits or faults
            refusal = _local_only(request)
            if refusal is not None:
                return refusal
            with self._lock:
                return self._guarded(handler, request, params)
        with self._lock:
            fault = self._faults.take(self.config, group)
            if fault:
                self._counters.faults[fault.kind] += 1
        delay = self.config.latency_ms / 1000 + (
            fault.seconds if fault and fault.kind == "delay" else 0
        )
        if fault and fault.kind == "error":
            return self._fault_error(fault, group, delay)
        if fault and fault.kind == "drop_before":
            return Response(0, drop=True)
        if delay:
            time.sleep(delay)  # outside the lock: other requests go on meanwhile
        if handler in self._self_locking:
            with self._lock:
                self._counters.requests[group] += 1
            response = self._guarded(handler, request, params)
        else:
            with self._lock:
                self._counters.requests[group] += 1
                response = self._guarded(handler, request, params)
        if fault and fault.kind == "drop":
            response.drop = True
        if fault and fault.kind == "delay_after":
            response.delay_after = fault.seconds
        return response

    def _guarded(self, handler: Handler, request: Request, params: dict[str, str]) -> Response:
        try:
            return handler(request, params)
        except ApiError as error:
            return Response.of_json(error.status, error.body(), error.headers)

    def _fault_error(self, fault: Fault, group: str, delay: float) -> Response:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
        if fault.status == 429:
            code, text = ("MSG-305" if group == "Medium" else "CMN-301"), "Request rate exceeded"
            # Shaped like a real throttle (docs/ringcentral.md#rate-limits): the group's headers
            # with nothing remaining, and a Retry-After even when the fault names none (0 asks
            # for a 429 without one).
            headers = {
                "X-Rate-Limit-Group": group,
                "X-Rate-Limit-Limit": str(self.config.rate_limits.get(group, 50)),
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Window": str(int(self.config.rate_window_seconds)),
            }
            wait = DEFAULT_FAULT_RETRY_AFTER if fault.retry_after is None else fault.retry_after
            if wait:
                headers["Retry-After"] = str(wait)
        else:
            code = "MSG-290" if group == "Medium" else "CMN-201"
            text = "Service temporarily unavailable"
        body = ApiError(fault.status, code, text).body()
        return Response(
            fault.status, json.dumps(body).encode(), headers=headers, delay_before=delay
        )

    # -- rate limits and auth ---------------------------------------------------------------

    def _limit(self, key: str, group: str) -> RateDecision:
        decision = self._limiter.check(
            key,
            group,
            now=self.now(),
            limit=self.config.rate_limits.get(group, 50),
            window=self.config.rate_window_seconds,
            penalty=self.config.penalty_seconds,
        )
        if not decision.allowed:
            self._counters.rate_limited[group] += 1
            code = "MSG-305" if group == "Medium" else "CMN-301"
            raise ApiError(
                429, code, f"Request rate exceeded for group {group}", headers=decision.headers()
            )
        return decision

    def _api_session(
        self, request: Request, params: dict[str, str], group: str
    ) -> tuple[Session, RateDecision]:
        try:
            session = self._tokens.authenticate(
                request.headers.get("authorization"), now=self.now()
            )
        except ApiError:
            self._counters.api_unauthorized += 1
            raise
        for name, own in (
            ("account", session.user["account_id"]),
            ("extension", session.user["extension_id"]),
        ):
            # Subscription paths name neither; v2 consents paths name the account only.
            if name in params and params[name] not in ("~", own):
                raise ApiError(404, "CMN-102", f"Resource for parameter [{name}Id] is not found")
        decision = self._limit(f"{session.client_id}/{session.user_key}", group)
        return session, decision

    def _client(self, request: Request) -> dict[str, Any]:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise ApiError(
                401, "OAU-123", "Client authentication is required", oauth_error="invalid_client"
            )
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ApiError(
                401, "OAU-123", "Client authentication is required", oauth_error="invalid_client"
            ) from exc
        client = self.config.client(client_id)
        if client is None:
            raise ApiError(400, "OAU-153", "Invalid client", oauth_error="invalid_client")
        if secret != client["client_secret"]:
            raise ApiError(
                400, "OAU-146", "Invalid client credentials", oauth_error="invalid_client"
            )
        if client.get("environment", "production") != self.config.environment:
            raise ApiError(
                400,
                "OAU-165",
                f"Client application is not available in {self.config.environment}",
                oauth_error="unauthorized_client",
            )
        return client

    # -- OAuth ----------------------------------------------------------------------------

    def _token(self, request: Request, params: dict[str, str]) -> Response:
        form = request.form()
        grant = GRANT_NAMES.get(form.get("grant_type", ""), "unknown")
        try:
            answer, decision = self._grant(request, form, grant)
        except ApiError as error:
            outcome = "429" if error.status == 429 else error.code
            self._counters.token_requests[grant][outcome] += 1
            raise
        self._counters.token_requests[grant]["ok"] += 1
        return Response.of_json(200, answer, decision.headers())

    def _grant(
        self, request: Request, form: dict[str, str], grant: str
    ) -> tuple[dict[str, Any], RateDecision]:
        client = self._client(request)
        now = self.now()
        ttls = (
            _int_or_none(form.get("access_token_ttl")),
            _int_or_none(form.get("refresh_token_ttl")),
        )
        if grant == "refresh_token":
            session = self._tokens.session_for_refresh_token(form.get("refresh_token", ""))
            who = session.user_key if session else "?"
        elif grant == "password":
            who = f"{form.get('username', '')}*{form.get('extension', '')}"
        else:
            user = self._jwt_user(form.get("assertion", ""))
            who = user_key(user) if user else "?"
        decision = self._limit(f"{client['client_id']}/{who}", "Auth")
        if grant == "unknown":
            raise ApiError(
                400, "OAU-250", "Unsupported grant type", oauth_error="unsupported_grant_type"
            )
        refused_password = grant == "password" and not self.config.password_grant_allowed
        if grant not in client["grants"] or refused_password:
            raise ApiError(
                400,
                "OAU-251",
                "Unauthorized for this grant type",
                oauth_error="unauthorized_client",
            )
        if grant == "refresh_token":
            answer = self._tokens.refresh(
                self.config, client, form.get("refresh_token", ""), now=now, requested_ttls=ttls
            )
            return answer, decision
        if grant == "password":
            username, extension = form.get("username", ""), form.get("extension", "")
            user = find_user(self.config, username, extension)
            if user is None and extension_unknown(self.config, username, extension):
                # The user is known but not that extension: nothing to check a password on.
                raise ApiError(400, "OAU-136", "Extension not found", oauth_error="invalid_grant")
            if user is None or form.get("password") != user["password"]:
                raise ApiError(
                    400,
                    "OAU-140",
                    "Invalid resource owner credentials",
                    oauth_error="invalid_grant",
                )
        else:
            user = self._jwt_user(form.get("assertion", ""))
            if user is None:
                raise ApiError(
                    400,
                    "OAU-140",
                    "Invalid resource owner credentials: bad JWT",
                    oauth_error="invalid_grant",
                )
        answer = self._tokens.login(
            self.config, client, user, now=now, grant=grant, requested_ttls=ttls
        )
        return answer, decision

    def _jwt_user(self, assertion: str) -> dict[str, Any] | None:
        if not assertion:
            return None
        return next((u for u in self.config.users if u.get("jwt") == assertion), None)

    def _revoke(self, request: Request, params: dict[str, str]) -> Response:
        client = self._client(request)
        token = request.form().get("token", "")
        session = self._tokens.session_for_refresh_token(token)
        who = session.user_key if session else "?"
        decision = self._limit(f"{client['client_id']}/{who}", "Auth")
        self._tokens.revoke(token)
        return Response(200, b"", headers=decision.headers())

    # -- REST API -------------------------------------------------------------------------

    def _send_sms(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._api_session(request, params, "Medium")
        try:
            message = self._messages.accept(
                self.config, session.user, request.json(), now=self.now()
            )
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        account = session.user["account_id"]
        if any(
            self._consents.blocking(account, message.from_number, n) for n in message.to_numbers
        ):
            # Accepted all the same, then SendingFailed (docs/ringcentral.md#opt-out).
            message.blocked_code = OPTED_OUT_CODE
        record = render(self.config, message, base_url=request.base_url, now=self.now())
        return Response.of_json(200, record, decision.headers())

    def _get_message(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._api_session(request, params, "Light")
        message = self._messages.get(session.user, int(params["id"]))
        record = render(self.config, message, base_url=request.base_url, now=self.now())
        return Response.of_json(200, record, decision.headers())

    def _list_messages(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._api_session(request, params, "Light")
        now = self.now()
        try:
            query = StoreQuery.parse(
                request.values, now=now, strict_dates=self.config.strict_store_dates
            )
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        found = self._messages.search(
            session.user, query, now=now, lag=self.config.store_list_lag_seconds
        )
        start = (query.page - 1) * query.per_page
        records = [
            render(self.config, m, base_url=request.base_url, now=now)
            for m in found[start : start + query.per_page]
        ]
        paging, navigation = paging_of(
            len(found), query.page, query.per_page, lambda n: request.uri_with(page=str(n))
        )
        answer = {
            "uri": request.uri_with(page=str(query.page)),
            "records": records,
            "paging": paging,
            "navigation": navigation,
        }
        return Response.of_json(200, answer, decision.headers())

    def _phone_numbers(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._api_session(request, params, "Light")
        path = f"{request.base_url}/restapi/v1.0/account/~/extension/~/phone-number"
        records = [{"uri": f"{path}/{n['id']}", **n} for n in session.user["phone_numbers"]]
        # One page holds them all: the simulator's users have a handful of numbers.
        paging, navigation = paging_of(len(records), 1, 100, lambda n: request.uri_with(page="1"))
        answer = {"records": records, "paging": paging, "navigation": navigation}
        return Response.of_json(200, answer, decision.headers())

    def _extension_info(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._api_session(request, params, "Light")
        user = session.user
        info = {
            "id": int(user["extension_id"]),
            "extensionNumber": user["extension"],
            "status": user["state"],
            "type": "User",
            "account": {"id": user["account_id"]},
        }
        return Response.of_json(200, info, decision.headers())

    def _message_sync(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._api_session(request, params, "Light")
        try:
            answer = sync(
                self.config,
                self._messages,
                self._sync_tokens,
                session.user,
                request.values,
                now=self.now(),
                base_url=request.base_url,
            )
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        return Response.of_json(200, answer, decision.headers())

    # -- subscriptions (WebHook) ------------------------------------------------------------

    def _create_subscription(self, request: Request, params: dict[str, str]) -> Response:
        """Self-locking (see _self_locking): checks under the lock, the validation request
        to the webhook outside it, then the new subscription under it again."""
        with self._lock:
            session, decision = self._api_session(request, params, "Medium")
            try:
                filters, address, token, expires_in = webhooks.parse_create(
                    request.json(), session.user
                )
                self._webhooks.check_room(session.client_id, session.user_key, self.now())
            except ApiError as error:
                error.headers.update(decision.headers())
                raise
            hooks, timeout = self._webhooks, self.config.webhook_timeout_seconds
        # The guide: before answering, RingCentral POSTs an empty body with a Validation-Token
        # header, and the webhook must answer 200 within 3 s with the same header.
        validation = webhooks.new_validation_token()
        answer = webhooks.post(address, b"", {"Validation-Token": validation}, timeout=timeout)
        problem = webhooks.handshake_problem(answer, validation)
        with self._lock:
            hooks.log(
                {
                    "kind": "validation",
                    "subscriptionId": None,
                    "address": address,
                    "uuid": None,
                    "messageId": None,
                    "attempt": 1,
                    "status": answer.status,
                    "ok": problem is None,
                    "error": problem,
                    "at": iso(self.now()),
                }
            )
            if problem is not None:
                raise ApiError(400, "SUB-525", problem, headers=decision.headers())
            now = self.now()
            subscription = Subscription(
                id=webhooks.new_subscription_id(),
                client_id=session.client_id,
                user_key=session.user_key,
                account_id=session.user["account_id"],
                extension_id=session.user["extension_id"],
                event_filters=filters,
                address=address,
                verification_token=token,
                created_at=now,
                expires_in=expires_in,
                expires_at=now + expires_in,
            )
            hooks.check_room(session.client_id, session.user_key, now)
            hooks.add(subscription)
            info = subscription.info(request.base_url, now)
        return Response.of_json(200, info, decision.headers())

    def _list_subscriptions(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._api_session(request, params, "Light")
        now = self.now()
        records = [
            s.info(request.base_url, now)
            for s in self._webhooks.owned(session.client_id, session.user_key, now)
        ]
        answer = {"uri": f"{request.base_url}/restapi/v1.0/subscription", "records": records}
        return Response.of_json(200, answer, decision.headers())

    def _subscription(
        self, request: Request, params: dict[str, str], group: str
    ) -> tuple[Session, RateDecision, Subscription]:
        session, decision = self._api_session(request, params, group)
        try:
            found = self._webhooks.find(params["id"], session.client_id, session.user_key)
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        return session, decision, found

    def _get_subscription(self, request: Request, params: dict[str, str]) -> Response:
        _, decision, found = self._subscription(request, params, "Light")
        now = self.now()
        if not found.alive(now):
            # An expired subscription is gone (our reading: it is not listed or found again).
            raise _subscription_not_found(decision)
        return Response.of_json(200, found.info(request.base_url, now), decision.headers())

    def _renew_subscription(self, request: Request, params: dict[str, str]) -> Response:
        _, decision, found = self._subscription(request, params, "Light")
        now = self.now()
        if not found.alive(now):
            # Too late to renew: create a new one (SUB-507, docs/ringcentral.md#inbound-texts).
            raise ApiError(400, "SUB-507", "Subscription is expired", headers=decision.headers())
        # A new lifetime of the same length, from now. A Blacklisted subscription stays
        # Blacklisted (our reading): delete it and create a new one.
        found.expires_at = now + found.expires_in
        return Response.of_json(200, found.info(request.base_url, now), decision.headers())

    def _delete_subscription(self, request: Request, params: dict[str, str]) -> Response:
        _, decision, found = self._subscription(request, params, "Medium")
        if not found.alive(self.now()):
            raise _subscription_not_found(decision)
        found.deleted = True
        return Response(204, b"", headers=decision.headers())

    # -- SMS consents (v2) ------------------------------------------------------------------

    def _consents_session(
        self, request: Request, params: dict[str, str]
    ) -> tuple[Session, RateDecision]:
        session, decision = self._api_session(request, params, "Light")
        if not self.config.consents_allowed:
            error = permission_denied(self.config.consents_denied_code)
            error.headers.update(decision.headers())
            raise error
        return session, decision

    def _patch_consents(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._consents_session(request, params)
        account = session.user["account_id"]
        numbers = {
            n["phoneNumber"]
            for u in self.config.users
            if u["account_id"] == account
            for n in u["phone_numbers"]
        }
        try:
            answer = self._consents.patch(account, numbers, request.json(), now=self.now())
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        return Response.of_json(200, answer, decision.headers())

    def _search_consents(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._consents_session(request, params)
        try:
            answer = self._consents.search(session.user["account_id"], request.json())
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        return Response.of_json(200, answer, decision.headers())

    # -- high-volume (A2P) SMS --------------------------------------------------------------

    def _a2p_session(
        self, request: Request, params: dict[str, str]
    ) -> tuple[Session, RateDecision]:
        session, decision = self._api_session(request, params, "Light")
        if not self.config.a2p_allowed:
            raise ApiError(
                403,
                "CMN-401",
                "In order to call this API endpoint, application needs to have [A2PSMS] permission",
                permission="A2PSMS",
                headers=decision.headers(),
            )
        return session, decision

    def _create_a2p_batch(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._a2p_session(request, params)
        account = session.user["account_id"]

        def blocked(from_number: str, to_number: str) -> str | None:
            # Decided at acceptance, as for POST /sms (docs/ringcentral.md#opt-out).
            opted_out = self._consents.blocking(account, from_number, to_number)
            return OPTED_OUT_CODE if opted_out else None

        now = self.now()
        try:
            batch, rejected = self._a2p.create(
                self.config, session.user, request.json(), now=now, blocked=blocked
            )
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        # MessageBatchResponse with `rejected`: only this answer carries it.
        answer = a2p.render_batch(self.config, batch, now) | {"rejected": rejected}
        return Response.of_json(201, answer, decision.headers())

    def _get_a2p_batch(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._a2p_session(request, params)
        try:
            batch = self._a2p.batch(session.user["account_id"], params["id"])
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        return Response.of_json(
            200, a2p.render_batch(self.config, batch, self.now()), decision.headers()
        )

    def _list_a2p_batches(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._a2p_session(request, params)
        try:
            answer = self._a2p.list_batches(
                self.config, session.user["account_id"], request.values, now=self.now()
            )
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        return Response.of_json(200, answer, decision.headers())

    def _list_a2p_messages(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._a2p_session(request, params)
        try:
            answer = self._a2p.list_messages(
                self.config, session.user["account_id"], request.values, now=self.now()
            )
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        return Response.of_json(200, answer, decision.headers())

    def _get_a2p_message(self, request: Request, params: dict[str, str]) -> Response:
        session, decision = self._a2p_session(request, params)
        try:
            message = self._a2p.message(session.user["account_id"], params["id"])
        except ApiError as error:
            error.headers.update(decision.headers())
            raise
        # MessageDetailsResponse: a string id and the text, whatever the view.
        record = a2p.render_message(
            self.config, message, self.now(), detailed=True, id_as_string=True
        )
        return Response.of_json(200, record, decision.headers())

    # -- inbound texts ----------------------------------------------------------------------

    def _receive(
        self, from_number: Any, text: Any, *, to: Any = None, deliveries: Any = 1
    ) -> StoredMessage:
        """Someone texts one of a user's numbers: store it, apply a STOP/START keyword, and
        notify the user's webhooks in the background. ValueError says what was wrong."""
        if not isinstance(from_number, str) or not E164.match(from_number):
            raise ValueError("from must be an E.164 number such as +15551230001")
        if to is None:
            to = _default_number(self.config)
        if not isinstance(to, str) or not E164.match(to):
            raise ValueError("to must be an E.164 number of one of the simulator's users")
        user = next(
            (
                u
                for u in self.config.users
                if any(n["phoneNumber"] == to for n in u["phone_numbers"])
            ),
            None,
        )
        if user is None:
            raise ValueError(f"no user of the simulator has the number {to}")
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty string")
        valid_count = isinstance(deliveries, int) and not isinstance(deliveries, bool)
        if not valid_count or not 0 <= deliveries <= MAX_DELIVERIES:
            raise ValueError(f"deliveries must be a whole number from 0 to {MAX_DELIVERIES}")
        now = self.now()
        message = self._messages.receive(user, from_number, to, text, now=now)
        status = keyword_status(text)
        if status is not None:
            # The opt-out is per (our number, their number) and shared with the consents API.
            self._consents.set(user["account_id"], to, from_number, status, "Recipient", now=now)
        self._webhooks.notify(message, copies=deliveries)
        return message

    # -- inbox page and control API ---------------------------------------------------------

    def _api_version(self, request: Request, params: dict[str, str]) -> Response:
        # Unauthenticated on the real platform too: what a reachability check can ask.
        info = {
            "uri": f"{request.base_url}/restapi/v1.0",
            "uriString": "v1.0",
            "versionString": "1.0.0-simulator",
        }
        return Response.of_json(200, info)

    def _inbox_page(self, request: Request, params: dict[str, str]) -> Response:
        now = self.now()
        records = [
            render(self.config, m, base_url="", now=now, canonical=True)
            for m in reversed(self._messages.messages)
        ] + [
            inbox.a2p_record(self._a2p_control_record(m, now))
            for m in reversed(self._a2p.messages())
        ]
        # Newest first across both stores (a stable sort: ties keep newest-first order); ISO
        # times in one form sort as strings.
        records.sort(key=lambda r: r["creationTime"], reverse=True)
        try:
            refresh = min(max(int(request.query.get("refresh", "0")), 0), 3600)
        except ValueError:
            refresh = 0
        page = inbox.page(
            records,
            refresh_seconds=refresh,
            default_to=_default_number(self.config),
            error=request.query.get("error", "")[:300],
        )
        return Response(200, page.encode(), "text/html; charset=utf-8")

    def _inbox_reply(self, request: Request, params: dict[str, str]) -> Response:
        """The inbox's forms: a text to the app from a number (a reply to one of its texts,
        or any number), then back to the inbox (303: the browser GETs it)."""
        form = request.form()
        try:
            self._receive(
                form.get("from", "").strip(),
                form.get("text", ""),
                to=form.get("to", "").strip() or None,
            )
        except ValueError as exc:
            return Response(303, b"", "text/plain", {"Location": "/?error=" + quote(str(exc))})
        return Response(303, b"", "text/plain", {"Location": "/"})

    def _inbound(self, request: Request, params: dict[str, str]) -> Response:
        data = request.json()
        if not isinstance(data, dict):
            return _control_error('send {"from": "+1...", "text": "..."}')
        try:
            message = self._receive(
                data.get("from"),
                data.get("text"),
                to=data.get("to"),
                deliveries=data.get("deliveries", 1),
            )
        except ValueError as exc:
            return _control_error(str(exc))
        record = render(self.config, message, base_url=request.base_url, now=self.now())
        return Response.of_json(201, record)

    def _webhook_deliveries(self, request: Request, params: dict[str, str]) -> Response:
        return Response.of_json(200, {"deliveries": list(self._webhooks.deliveries)})

    def _all_subscriptions(self, request: Request, params: dict[str, str]) -> Response:
        now = self.now()
        records = [
            s.info(request.base_url, now) | {"alive": s.alive(now)}
            for s in self._webhooks.subscriptions.values()
            if not s.deleted
        ]
        return Response.of_json(200, {"records": records})

    def _sync_reset(self, request: Request, params: dict[str, str]) -> Response:
        # Every syncToken answers MSG-333 from now on: the app has to start with an FSync.
        return Response.of_json(200, {"invalidated": self._sync_tokens.clear()})

    def _opt_outs(self, request: Request, params: dict[str, str]) -> Response:
        return Response.of_json(200, {"records": self._consents.opted_out()})

    def _all_a2p_batches(self, request: Request, params: dict[str, str]) -> Response:
        now = self.now()
        records = [
            a2p.render_batch(self.config, b, now) | {"messageCount": len(b.messages)}
            for b in reversed(self._a2p.batches)
        ]
        return Response.of_json(200, {"records": records})

    def _all_a2p_messages(self, request: Request, params: dict[str, str]) -> Response:
        now = self.now()
        records = [self._a2p_control_record(m, now) for m in reversed(self._a2p.messages())]
        return Response.of_json(200, {"records": records})

    def _a2p_control_record(self, message: a2p.A2PMessage, now: float) -> dict[str, Any]:
        status, changed, code = a2p.message_state(self.config, message, now)
        return {
            "id": message.id,
            "batchId": message.batch_id,
            "from": message.from_number,
            "to": list(message.to_numbers),
            "text": message.text,
            "status": status,
            "errorCode": code,
            "creationTime": iso(message.created_at),
            "lastModifiedTime": iso(changed),
        }

    def _get_config(self, request: Request, params: dict[str, str]) -> Response:
        return Response.of_json(200, self.config.to_dict())

    def _set_config(self, request: Request, params: dict[str, str]) -> Response:
        changes = request.json()
        if not isinstance(changes, dict):
            return _control_error("send a JSON object of settings to change")
        try:
            self.config = self.config.updated(changes)
        except (TypeError, ValueError) as exc:
            return _control_error(str(exc))
        if "seed" in changes:
            self._faults.reseed(self.config.seed)
        return Response.of_json(200, self.config.to_dict())

    def _reset(self, request: Request, params: dict[str, str]) -> Response:
        self._reset_state(self._initial)
        return Response.of_json(200, {"reset": True})

    def _revoke_all(self, request: Request, params: dict[str, str]) -> Response:
        return Response.of_json(200, {"revoked": self._tokens.revoke_all()})

    def _get_counters(self, request: Request, params: dict[str, str]) -> Response:
        return Response.of_json(200, self.counters())

    def _advance_clock(self, request: Request, params: dict[str, str]) -> Response:
        data = request.json()
        seconds = data.get("advance") if isinstance(data, dict) else None
        if not isinstance(seconds, int | float) or seconds < 0:
            return _control_error('send {"advance": SECONDS}, SECONDS >= 0')
        self._clock_offset += seconds
        return Response.of_json(200, {"now": self.now(), "offset": self._clock_offset})

    def _add_faults(self, request: Request, params: dict[str, str]) -> Response:
        data = request.json()
        try:
            fault, count = Fault.from_json(data if isinstance(data, dict) else {})
        except (TypeError, ValueError) as exc:
            return _control_error(str(exc))
        self._faults.add(fault, count)
        return Response.of_json(200, {"pending": self._faults.pending()})

    def _clear_faults(self, request: Request, params: dict[str, str]) -> Response:
        self._faults.clear()
        return Response.of_json(200, {"pending": 0})

    def _all_messages(self, request: Request, params: dict[str, str]) -> Response:
        now = self.now()
        direction = request.query.get("direction")
        records = [
            render(self.config, m, base_url=request.base_url, now=now, canonical=True)
            for m in reversed(self._messages.messages)
            if direction is None or m.direction == direction
        ]
        return Response.of_json(200, {"records": records})

    def _sessions(self, request: Request, params: dict[str, str]) -> Response:
        # Token values are never listed, only whose session it is and whether it is alive.
        sessions = [
            {
                "id": s.id,
                "client_id": s.client_id,
                "user": s.user_key,
                "revoked": s.revoked,
                "access_expires_at": s.access_expires_at,
                "refresh_expires_at": s.refresh_expires_at,
            }
            for s in self._tokens.sessions.values()
        ]
        return Response.of_json(200, {"sessions": sessions})

    # -- state ----------------------------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        c = self._counters
        return {
            "token_requests": {g: dict(o) for g, o in c.token_requests.items()},
            "refresh_token_reuse": self._tokens.refresh_reuse_attempts,
            "requests": dict(c.requests),
            "rate_limited": dict(c.rate_limited),
            "api_unauthorized": c.api_unauthorized,
            "sessions_killed": self._tokens.sessions_killed,
            "live_sessions": len(self._tokens.live_sessions()),
            "sms_accepted": len(self._messages.outbound()),
            "sms_duplicates": self._messages.duplicates(),
            "faults": dict(c.faults),
            "inbound_received": len(self._messages.messages) - len(self._messages.outbound()),
            "webhook_notifications": {
                "attempted": self._webhooks.attempted,
                "delivered": self._webhooks.delivered,
                "failed": self._webhooks.failed,
            },
            "subscriptions_alive": sum(
                1 for s in self._webhooks.subscriptions.values() if s.alive(self.now())
            ),
            "opt_outs": len(self._consents.opted_out()),
            "a2p_batches": len(self._a2p.batches),
            "a2p_messages": len(self._a2p.messages()),
            "a2p_duplicates": self._a2p.duplicates(),
        }

    def _reset_state(self, config: SimConfig) -> None:
        self.config = config
        self._clock_offset = 0.0
        self._tokens = TokenStore()
        self._messages = MessageStore()
        self._sync_tokens = SyncTokens()
        self._consents = Consents()
        self._a2p = a2p.A2PStore()
        # A fresh object: deliveries still running for the old one report to it, not here.
        self._webhooks = Webhooks(self._lock, self.now, lambda: self.config)
        self._limiter = RateLimiter()
        self._faults = FaultPlan(config.seed)
        self._counters = Counters()


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# Names that can only mean this machine. A browser sends the name it resolved in Host, so a
# page on a rebinding domain (evil.example -> 127.0.0.1) still says "evil.example".
_LOOPBACK_NAMES = re.compile(r"^(localhost|[\w-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$")


def _local_only(request: Request) -> Response | None:
    """The control API and the inbox answer only this machine's own requests: loopback Host
    (and Origin, when a browser sends one), and JSON bodies for changes. A web page open in a
    developer's browser can send "simple" cross-site POSTs (form or text/plain bodies, any
    Host through DNS rebinding); with these rules it can neither reconfigure nor read it."""
    if not (request.path.startswith("/_sim/") or request.path == "/"):
        return None  # the API's own unauthenticated version endpoint stays open
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if not _LOOPBACK_NAMES.match(host):
        return Response.of_json(403, {"error": "the control API answers only loopback hosts"})
    if origin is not None:
        origin_host = origin.split("://", 1)[-1]
        if not origin.startswith(("http://", "https://")) or not _LOOPBACK_NAMES.match(origin_host):
            return Response.of_json(403, {"error": "cross-origin requests are refused"})
    if request.method in ("POST", "PUT", "DELETE", "PATCH"):
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.path == INBOX_REPLY_PATH:
            # The inbox's own forms: a form body, so the Origin check above (browsers send
            # Origin with every form POST) and Sec-Fetch-Site keep other sites out.
            site = request.headers.get("sec-fetch-site", "same-origin")
            if content_type != "application/x-www-form-urlencoded" or site not in (
                "same-origin",
                "none",
            ):
                return Response.of_json(403, {"error": "only the inbox page may post here"})
            return None
        if content_type != "application/json":
            return Response.of_json(415, {"error": "send application/json"})
    return None


def _control_error(message: str) -> Response:
    return Response.of_json(400, {"error": message})


def _subscription_not_found(decision: RateDecision) -> ApiError:
    return ApiError(
        404,
        "CMN-102",
        "Resource for parameter [subscriptionId] is not found",
        headers=decision.headers(),
    )


def _default_number(config: SimConfig) -> str:
    """Where a text to "the app" goes: the first user's first SmsSender number."""
    numbers = config.users[0]["phone_numbers"] if config.users else []
    sms = [n["phoneNumber"] for n in numbers if "SmsSender" in n["features"]]
    return (sms or [n["phoneNumber"] for n in numbers] or [""])[0]
