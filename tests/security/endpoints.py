"""Every endpoint of the HTTP API, read from the URL configuration, with the methods each
one answers: so that a new endpoint is in the security tests the day it is added.
"""

import re
from dataclasses import dataclass
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

API_PREFIX = "api/v1/"
METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Endpoint:
    name: str  # the URL name, e.g. "appointment-cancel"
    route: str  # e.g. "api/v1/^appointments/(?P<pk>[^/.]+)/cancel/$"
    methods: frozenset[str]  # those it routes to a handler, e.g. {"POST", "OPTIONS"}
    view: type  # the DRF view class
    is_viewset: bool

    def __str__(self) -> str:
        return self.name


def api_endpoints() -> list[Endpoint]:
    """The endpoints under /api/v1/, by URL name."""
    endpoints = [
        Endpoint(
            pattern.name,
            route,
            _routed_methods(pattern.callback),
            pattern.callback.cls,
            hasattr(pattern.callback, "actions"),
        )
        for route, pattern in _walk(get_resolver().url_patterns, "")
        if route.startswith(API_PREFIX)
    ]
    names = [endpoint.name for endpoint in endpoints]
    duplicated = {name for name in names if names.count(name) > 1 or name is None}
    assert not duplicated, f"API endpoints need one URL name each: {duplicated}"
    return sorted(endpoints, key=lambda endpoint: endpoint.name)


def _walk(patterns, prefix: str):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def _routed_methods(callback) -> frozenset[str]:
    """What the view does something with: for a ViewSet the methods its route maps to an
    action, for any other view the handlers it defines; GET brings HEAD (Django answers
    HEAD with GET), and DRF views all answer OPTIONS."""
    view = callback.cls
    allowed = {method.upper() for method in view.http_method_names}
    actions = getattr(callback, "actions", None)
    if actions is not None:
        handled = {method.upper() for method in actions}
    else:
        handled = {method for method in allowed if hasattr(view, method.lower())}
    if "GET" in handled:
        handled.add("HEAD")
    handled.add("OPTIONS")
    return frozenset(handled & allowed)


# --- the OpenAPI contract: which fields a request may set --------------------------------


@cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def writable_fields(path: str, method: str) -> set[str]:
    """The request body's fields that the OpenAPI schema documents for the operation at
    `path` (a concrete path, e.g. /api/v1/appointments/12/cancel/)."""
    schema = _schema()
    operation = schema["paths"][_template_of(path, schema["paths"])].get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    return set(body.get("properties", {}))


def _template_of(path: str, templates) -> str:
    """The schema path that `path` is an instance of; a literal segment (patients/me/)
    wins over a parameter (patients/{id}/)."""
    matches = [
        template
        for template in templates
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path)
    ]
    assert matches, f"{path} is not in the OpenAPI schema"
    return min(matches, key=lambda template: template.count("{"))
