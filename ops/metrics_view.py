"""`/metrics`: Prometheus text format, for a bearer token (`METRICS_TOKEN`) or an internal address
(`METRICS_ALLOWED_NETWORKS`); everyone else gets a 403 in the one error shape.

Served: the HTTP metrics (rate, latency, errors by route: `loship.observability`) and database
metrics (query time: django-prometheus) of this process, the application metrics of every process
(see `loship/metrics_fleet.py`), and the figures read at scrape time (`ops/collectors.py`).
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from loship.errors import CommonErrors, error_body
from ops.collectors import OpsCollector

OPS_REGISTRY = CollectorRegistry(auto_describe=False)
OPS_REGISTRY.register(OpsCollector())


def may_scrape(request: HttpRequest) -> bool:
    token: str = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_scrape(request):
        return JsonResponse(error_body(CommonErrors.PERMISSION_DENIED()), status=403)
    body = generate_latest(REGISTRY) + generate_latest(OPS_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
