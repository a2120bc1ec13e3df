"""The machinery of the isolation test: walk every URL pattern, decide how each is tenant-scoped, request it.

Each app keeps its own registry in `tests/<app>/isolation.py`, so engineers working in parallel never
edit the same file. A registry module may define:

    FOREIGN_PARAMS: dict[str, Callable[[Workspace], object]]
        URL kwarg name -> a function that creates a row in the given (foreign) workspace and returns
        the value to put in the URL (usually the row's pk). A key may also be "<url name>.<kwarg>"
        (e.g. "api:get_partner.id") when a kwarg name means different rows on different routes.
    PUBLIC_ROUTES: dict[str, str]
        url name ("login", "api:openapi-json") or route prefix ending in "/" -> why it is not
        tenant-scoped.
    REQUEST_DATA: dict[str, dict]
        url name -> what a request must carry to get past input validation to the tenant lookup
        (the query string of a GET, the JSON body of an API POST, the form of a page POST).

How a route is checked follows from its prefix: `w/<slug>/` staff pages, `portal/<slug>/` partner
portal pages, `api/` the JSON API, `admin/` the operators' admin. Anything else must be public.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from inspect import getclosurevars
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize
from ninja.openapi.views import default_home as ninja_default_home

from accounts.models import Workspace

REGISTRY_APPS = ("accounts", "partners", "referrals", "attribution", "reporting")

ForeignFactory = Callable[[Workspace], object]


# --- Walking the resolver ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One leaf of the URL tree."""

    route: str  # e.g. "w/<slug:slug>/settings/domains/<int:domain_id>/remove/"
    params: tuple[str, ...]
    name: str | None  # with its namespaces, e.g. "admin:index"
    callback: Callable[..., Any]
    patterns: tuple[RoutePattern | RegexPattern, ...]  # the chain from the root, to build URLs

    @property
    def label(self) -> str:
        return f"'{self.route}' ({self.name or 'unnamed'})"

    @property
    def app(self) -> str:
        """The app whose registry should cover this route, from the module of its view."""
        operations = getattr(_path_view(self.callback), "operations", None)
        view = operations[0].view_func if operations else self.callback
        top = (getattr(view, "__module__", None) or "").split(".")[0]
        return top if top in REGISTRY_APPS else "accounts"

    def url(self, values: dict[str, object]) -> str:
        return "/" + "".join(_fill(pattern, values) for pattern in self.patterns)


def walk_urls(urlconf: str | None = None) -> list[Route]:
    """Every URL pattern reachable from the root urlconf, in resolution order."""
    return list(_walk(get_resolver(urlconf), (), ()))


def _walk(resolver: URLResolver, chain: tuple[Any, ...], namespaces: tuple[str, ...]) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        pattern_chain = (*chain, entry.pattern)
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, pattern_chain, inner)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else None
            yield Route(
                route="".join(str(p) for p in pattern_chain),
                params=tuple(name for p in pattern_chain for name in _param_names(p)),
                name=name,
                callback=entry.callback,
                patterns=pattern_chain,
            )


def _param_names(pattern: Any) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    return list(pattern.regex.groupindex)


_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


def _fill(pattern: Any, values: dict[str, object]) -> str:
    if isinstance(pattern, RoutePattern):
        # str() first: the default str converter's to_url expects a string, and registries return pks.
        return _ROUTE_PARAM.sub(
            lambda m: str(pattern.converters[m["parameter"]].to_url(str(values[m["parameter"]]))), str(pattern)
        )
    # A regex piece (admin's app list and catch-all): format its first form and check it matches.
    template, names = normalize(pattern.regex.pattern)[0]
    piece = template % {name: values[name] for name in names}
    if not pattern.regex.search(piece):
        raise ValueError(f"cannot build a URL for {pattern.regex.pattern!r} from {values}")
    return piece


def sample_value(route: Route, parameter: str) -> str:
    """A value for a parameter that needs no registry (admin's app labels and object ids)."""
    for pattern in route.patterns:
        if isinstance(pattern, RegexPattern):
            group = re.search(rf"\(\?P<{parameter}>([^)]*)\)", pattern.regex.pattern)
            if group and re.fullmatch(r"[\w|]+", group[1]):
                return group[1].split("|")[0]  # the first of a list of choices, e.g. an app label
    return "1"


# --- The registries ------------------------------------------------------------------------


@dataclass
class Registry:
    foreign_params: dict[str, ForeignFactory] = field(default_factory=dict)
    public_routes: dict[str, str] = field(default_factory=dict)
    request_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def is_public(self, route: Route) -> bool:
        return any(
            key == route.name or key == route.route or (key.endswith("/") and route.route.startswith(key))
            for key in self.public_routes
        )

    def foreign_key_for(self, route: Route, parameter: str) -> str | None:
        """The FOREIGN_PARAMS key that fills `parameter` on `route`, most specific first."""
        for key in (f"{route.name}.{parameter}", parameter):
            if key in self.foreign_params:
                return key
        return None


def load_registry(apps: tuple[str, ...] = REGISTRY_APPS) -> Registry:
    registry = Registry()
    owners: dict[tuple[str, str], str] = {}
    # Each app may split its registry: tests/<app>/isolation.py and tests/<app>/isolation_<part>.py.
    tests_dir = Path(__file__).resolve().parent
    module_names = [
        f"tests.{app}.{path.stem}" for app in apps for path in sorted((tests_dir / app).glob("isolation*.py"))
    ]
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for attribute, target in (
            ("FOREIGN_PARAMS", registry.foreign_params),
            ("PUBLIC_ROUTES", registry.public_routes),
            ("REQUEST_DATA", registry.request_data),
        ):
            for key, value in getattr(module, attribute, {}).items():
                # Two apps calling a route public is harmless; two ways to fill one parameter are not.
                if (attribute, key) in owners and attribute != "PUBLIC_ROUTES":
                    registry.problems.append(
                        f"{attribute}[{key!r}] is defined in both {owners[attribute, key]} and {module_name}; "
                        "keep one (or use a '<url name>.<kwarg>' key for the route that differs)."
                    )
                    continue
                owners[attribute, key] = module_name
                target[key] = value
    return registry


# --- Deciding how each route is checked ----------------------------------------------------------


class Kind(StrEnum):
    STAFF = "staff"
    PORTAL = "portal"
    API = "api"
    ADMIN = "admin"
    PUBLIC = "public"


_TENANT_PREFIX = re.compile(r"^(?P<space>w|portal)/<(?:slug:)?(?P<slug>\w+)>/")


@dataclass(frozen=True)
class Plan:
    route: Route
    kind: Kind
    slug_param: str | None = None
    foreign: dict[str, str] = field(default_factory=dict)  # URL kwarg -> FOREIGN_PARAMS key


def plan_routes(routes: list[Route], registry: Registry) -> tuple[list[Plan], list[str]]:
    """How to check each reachable route, and the routes nothing covers (as messages for the engineer)."""
    plans: list[Plan] = []
    uncovered: list[str] = []
    seen: set[str] = set()
    for route in routes:
        if route.route in seen:
            continue  # Django serves the first pattern of a route; later ones are unreachable (ninja's per-method names)
        seen.add(route.route)
        result = _plan(route, registry)
        if isinstance(result, Plan):
            plans.append(result)
        else:
            uncovered.append(result)
    return plans, uncovered


def _plan(route: Route, registry: Registry) -> Plan | str:
    if registry.is_public(route) or getattr(route.callback, "func", None) is ninja_default_home:
        # (ninja adds a root to every API that only answers 404, naming the docs)
        return Plan(route, Kind.PUBLIC)
    if (route.name or "").startswith("admin:") or route.route.startswith("admin/"):
        return Plan(route, Kind.ADMIN)
    tenant = _TENANT_PREFIX.match(route.route)
    if tenant:
        kind, slug_param = (Kind.STAFF if tenant["space"] == "w" else Kind.PORTAL), tenant["slug"]
    elif route.route.startswith("api/"):
        kind, slug_param = Kind.API, None
    else:
        return (
            f"{route.label} is neither under /w/<slug>/, /portal/<slug>/ nor /api/, and no PUBLIC_ROUTES entry "
            f"says why it is public: add it to PUBLIC_ROUTES in tests/{route.app}/isolation.py with the reason, "
            "or move it under a workspace URL."
        )
    foreign: dict[str, str] = {}
    for parameter in route.params:
        if parameter == slug_param:
            continue
        key = registry.foreign_key_for(route, parameter)
        if key is None:
            return (
                f"{route.label} has the parameter '{parameter}', which no registry can fill with another "
                f"workspace's row: add FOREIGN_PARAMS['{parameter}'] (or '{route.name}.{parameter}') to "
                f"tests/{route.app}/isolation.py (or to the registry of the app that owns the row), a function "
                "that creates the row in the workspace it is given and returns the value for the URL."
            )
        foreign[parameter] = key
    return Plan(route, kind, slug_param, foreign)


# --- Making the requests ---------------------------------------------------------------------


@dataclass(repr=False)
class World:
    """Workspace A with its people and API key; workspace B whose rows every foreign URL names."""

    home: Workspace
    foreign: Workspace
    staff: dict[str, Client]  # role -> signed-in client of A
    partner: Client  # a partner login of A (portal only)
    anonymous: Client
    api_key: str  # a key of A
    values: dict[str, object] = field(default_factory=dict)  # FOREIGN_PARAMS key -> value in B


@dataclass
class Outcome:
    requests: int = 0
    failures: list[str] = field(default_factory=list)


def check(plans: list[Plan], world: World, registry: Registry) -> Outcome:
    outcome = Outcome()
    with _quiet_request_log():
        for plan in plans:
            checker = _CHECKERS.get(plan.kind)
            if checker is not None:
                checker(plan, world, registry, outcome)
    return outcome


def _send(client: Client, method: str, url: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    data = data or {}
    if method == "GET":
        return client.get(url, data, **extra)
    return client.generic(
        method, url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded", **extra
    )


def _send_json(client: Client, method: str, url: str, data: dict[str, Any] | None, **extra: Any) -> Any:
    if method in ("GET", "DELETE"):
        return client.generic(method, url + ("?" + urlencode(data, doseq=True) if data else ""), **extra)
    return client.generic(method, url, json.dumps(data or {}), content_type="application/json", **extra)


def _describe(response: Any) -> str:
    status = str(response.status_code)
    if response.status_code in (301, 302, 303, 307, 308):
        status += f" to {response.headers.get('Location')}"
    if getattr(response, "exc_info", None):
        status += f" ({response.exc_info[1]!r})"
    return status


def _foreign_url(plan: Plan, world: World, slug: str) -> str:
    values: dict[str, object] = {name: world.values[key] for name, key in plan.foreign.items()}
    if plan.slug_param:
        values[plan.slug_param] = slug
    return plan.route.url(values)


def _reaches(plan: Plan, url: str, outcome: Outcome) -> bool:
    """Whether `url` is served by the plan's route; a URL that lands elsewhere would check the wrong view."""
    try:
        if resolve(url).func is plan.route.callback:
            return True
    except Resolver404:
        pass
    outcome.failures.append(f"{plan.route.label}: the URL built for it, {url}, is served by another pattern (or none)")
    return False


def _check_staff(plan: Plan, world: World, registry: Registry, outcome: Outcome) -> None:
    roles = getattr(plan.route.callback, "allowed_roles", None)
    data = registry.request_data.get(plan.route.name or "", {})

    def expect(who: str, client: Client, url: str, allowed: set[int]) -> None:
        for method in ("GET", "POST"):
            response = _send(client, method, url, data)
            outcome.requests += 1
            if response.status_code not in allowed:
                wanted = " or ".join(str(s) for s in sorted(allowed))
                outcome.failures.append(
                    f"{plan.route.label}: {method} {url} as {who} answered {_describe(response)}, expected {wanted}"
                )

    # Another workspace's URL, exactly as its own staff would use it.
    in_foreign = _foreign_url(plan, world, world.foreign.slug)
    if not _reaches(plan, in_foreign, outcome):
        return
    for role, client in world.staff.items():
        expect(f"{role} of {world.home.slug}", client, in_foreign, {404})
    expect(f"a partner login of {world.home.slug}", world.partner, in_foreign, {404})

    # The own workspace's URL with another workspace's rows in it; a partner login never reaches staff pages.
    in_home = _foreign_url(plan, world, world.home.slug)
    if plan.foreign:
        for role, client in world.staff.items():
            if roles is None:
                expected = {403, 404}  # not @workspace_member: at least neither an answer nor a redirect
            else:
                expected = {404} if role in roles else {403}
            expect(role, client, in_home, expected)
    expect(f"a partner login of {world.home.slug}", world.partner, in_home, {404})

    response = world.anonymous.get(in_foreign)
    outcome.requests += 1
    if response.status_code != 302 or not response.headers.get("Location", "").startswith(reverse("login")):
        outcome.failures.append(
            f"{plan.route.label}: GET {in_foreign} signed out answered {_describe(response)}, expected 302 to the login page"
        )


def _check_portal(plan: Plan, world: World, registry: Registry, outcome: Outcome) -> None:
    data = registry.request_data.get(plan.route.name or "", {})

    def expect_404(who: str, client: Client, url: str) -> None:
        for method in ("GET", "POST"):
            response = _send(client, method, url, data)
            outcome.requests += 1
            if response.status_code != 404:
                outcome.failures.append(
                    f"{plan.route.label}: {method} {url} as {who} answered {_describe(response)}, expected 404"
                )

    in_foreign = _foreign_url(plan, world, world.foreign.slug)
    if not _reaches(plan, in_foreign, outcome):
        return
    in_home = _foreign_url(plan, world, world.home.slug)
    expect_404(f"a partner login of {world.home.slug}", world.partner, in_foreign)
    if plan.foreign:
        expect_404(f"a partner login of {world.home.slug}", world.partner, in_home)
    # Staff of a workspace are not its partners: the portal does not exist for them.
    for role, client in world.staff.items():
        expect_404(f"{role} of {world.home.slug} (staff, no partner login)", client, in_home)

    response = world.anonymous.get(in_foreign)
    outcome.requests += 1
    if response.status_code not in (302, 404):
        outcome.failures.append(
            f"{plan.route.label}: GET {in_foreign} signed out answered {_describe(response)}, expected a redirect to sign in or 404"
        )


def _path_view(callback: Callable[..., Any]) -> Any:
    """Ninja's PathView behind a URL pattern (it sits in the view's closure), or None."""
    try:
        return getclosurevars(callback).nonlocals.get("self")
    except TypeError:
        return None


def _api_methods(callback: Callable[..., Any]) -> list[str]:
    """The methods ninja serves on this path."""
    operations = getattr(_path_view(callback), "operations", None)
    if not operations:
        return ["GET", "POST"]
    return sorted({method for operation in operations for method in operation.methods})


def _is_error_body(response: Any, code: str | None = None) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and "message" in error and (code is None or error.get("code") == code)


def _check_api(plan: Plan, world: World, registry: Registry, outcome: Outcome) -> None:
    url = _foreign_url(plan, world, world.foreign.slug)
    if not _reaches(plan, url, outcome):
        return
    data = registry.request_data.get(plan.route.name or "")
    for method in _api_methods(plan.route.callback):
        response = _send_json(world.anonymous, method, url, data)
        outcome.requests += 1
        if response.status_code != 401 or not _is_error_body(response):
            outcome.failures.append(
                f"{plan.route.label}: {method} {url} without a key answered {_describe(response)}, expected 401 with an error body"
            )
        if not plan.foreign:
            continue  # the key alone decides the workspace; its lists are checked in each app's tests
        response = _send_json(world.anonymous, method, url, data, HTTP_AUTHORIZATION=f"Bearer {world.api_key}")
        outcome.requests += 1
        if response.status_code == 422:
            outcome.failures.append(
                f"{plan.route.label}: {method} {url} answered 422 before looking the row up ({response.content[:200]!r}): "
                f"add REQUEST_DATA['{plan.route.name}'] with a valid body/query to tests/{plan.route.app}/isolation.py"
            )
        elif response.status_code != 404 or not _is_error_body(response):
            outcome.failures.append(
                f"{plan.route.label}: {method} {url} with {world.home.slug}'s key answered {_describe(response)}, expected 404 with an error body"
            )


def _check_admin(plan: Plan, world: World, registry: Registry, outcome: Outcome) -> None:
    # Admin is for operators (is_staff); a workspace owner is not one and must be sent to the admin's login.
    try:
        url = plan.route.url({name: sample_value(plan.route, name) for name in plan.route.params})
    except ValueError as exc:
        outcome.failures.append(f"{plan.route.label}: {exc}")
        return
    if not _reaches(plan, url, outcome):
        return
    login = reverse("admin:login")
    for who, client in (("a workspace owner", world.staff["owner"]), ("signed out", world.anonymous)):
        response = client.get(url)
        outcome.requests += 1
        if response.status_code != 302 or not response.headers.get("Location", "").startswith(login):
            outcome.failures.append(
                f"{plan.route.label}: GET {url} as {who} answered {_describe(response)}, expected 302 to {login}"
            )


_CHECKERS: dict[Kind, Callable[[Plan, World, Registry, Outcome], None]] = {
    Kind.STAFF: _check_staff,
    Kind.PORTAL: _check_portal,
    Kind.API: _check_api,
    Kind.ADMIN: _check_admin,
}


@contextmanager
def _quiet_request_log() -> Iterator[None]:
    # Hundreds of expected 404s and 403s would each log a warning.
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
