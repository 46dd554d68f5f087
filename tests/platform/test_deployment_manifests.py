"""The deployments run what production runs: every Procfile process has a compose service and a
Kubernetes workload with the same command, the probes reach the health views, one beat, /ws/ reaches the
ws process, and stopping drains (docker-compose.yml, deploy/nginx.conf, deploy/k8s)."""

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.urls import resolve

from loship import health
from loship.celery import QUEUES
from realtime.routing import websocket_urlpatterns

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s" / "base"


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def _base_resources() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs.extend(doc for doc in yaml.safe_load_all((BASE / name).read_text()) if doc)
    return docs


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in _base_resources() if doc["kind"] == kind}


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return list(workload["spec"]["template"]["spec"]["containers"])


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container.get("env", [])}


def _commands_of(workloads: Iterator[dict[str, Any]]) -> set[str]:
    return {
        c["command"][-1]
        for w in workloads
        for c in _containers(w)
        if c["command"][0] == "/app/deploy/procfile"
    }


def test_every_procfile_process_is_a_compose_service_and_a_kubernetes_workload_running_its_line() -> None:
    processes = set(_procfile())
    compose_commands = {
        service["command"][-1]
        for service in _compose().values()
        if isinstance(service.get("command"), list) and service["command"][:1] == ["/app/deploy/procfile"]
    }
    workloads = [*_of_kind("Deployment").values(), *_of_kind("Job").values()]

    assert processes <= compose_commands
    assert _commands_of(iter(workloads)) == processes
    # Nothing spells a command of its own: every container runs a Procfile line by name.
    for workload in workloads:
        for container in _containers(workload):
            assert container["command"][:1] == ["/app/deploy/procfile"], workload["metadata"]["name"]
    migrate = _of_kind("Job")["migrate"]
    assert [c["command"] for c in _containers(migrate)] == [["/app/deploy/procfile", "release"]]


def test_worker_groups_take_every_queue_once_in_compose_scale_and_in_kubernetes() -> None:
    assert "${WORKER_QUEUES:-" + ",".join(QUEUES) + "}" in _procfile()["worker"]
    scale_env = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy" / "scale.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    services = _compose()
    compose_groups = [scale_env["WORKER_QUEUES"]] + [
        s["environment"]["WORKER_QUEUES"]
        for s in services.values()
        if "scale" in s.get("profiles", []) and s.get("command") == ["/app/deploy/procfile", "worker"]
    ]
    workers = {
        n: d for n, d in _of_kind("Deployment").items() if _containers(d)[0]["command"][-1] == "worker"
    }
    k8s_groups = [_env(_containers(d)[0])["WORKER_QUEUES"] for d in workers.values()]

    for groups in (compose_groups, k8s_groups):
        taken = [queue for group in groups for queue in group.split(",")]
        assert sorted(taken) == sorted(QUEUES)

    # Each group scales on its own queue's Redis list, named as kombu names it in the broker.
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    scaled = _of_kind("ScaledObject")
    assert set(scaled) == set(workers)
    for name, scaled_object in scaled.items():
        assert scaled_object["spec"]["scaleTargetRef"]["name"] == name
        (trigger,) = scaled_object["spec"]["triggers"]
        assert trigger["type"] == "redis"
        assert (
            trigger["metadata"]["listName"] == prefix + _env(_containers(workers[name])[0])["WORKER_QUEUES"]
        )
        assert trigger["metadata"]["addressFromEnv"] in _of_kind("ConfigMap")["loship-config"]["data"]


def test_the_scale_profile_points_the_app_at_its_own_servers() -> None:
    services = _compose()
    scale_env = (ROOT / "deploy" / "scale.env").read_text()
    for name in (
        "DATABASE_REPLICA_URL",
        "CELERY_BROKER_URL",
        "CHANNEL_REDIS_URLS",
        "WEB_REPLICAS",
        "WS_REPLICAS",
    ):
        assert re.search(rf"^{name}=", scale_env, re.MULTILINE), name
    hosts = re.findall(r"redis://([\w-]+):", scale_env)
    assert len(set(hosts)) == 3  # the broker, two channel shards
    for host in hosts:
        assert services[host]["profiles"] == ["scale"]
    assert "@postgres-replica:5432/" in (ROOT / "deploy" / "scale.env").read_text()
    assert services["postgres-replica"]["profiles"] == ["scale"]
    for name in ("web", "ws"):
        assert services[name]["deploy"]["replicas"] == f"${{{name.upper()}_REPLICAS:-1}}"


@pytest.mark.parametrize(("name", "port"), [("web", 8000), ("ws", 8001)])
def test_probes_reach_the_health_views_and_stopping_outlasts_the_drain(name: str, port: int) -> None:
    deployment = _of_kind("Deployment")[name]
    (container,) = _containers(deployment)
    assert resolve(container["readinessProbe"]["httpGet"]["path"]).func is health.readyz
    assert resolve(container["livenessProbe"]["httpGet"]["path"]).func is health.healthz
    assert container["ports"][0]["containerPort"] == port
    assert _env(container)["PORT"] == str(port)
    assert "localhost" in _of_kind("ConfigMap")["loship-config"]["data"]["ALLOWED_HOSTS"].split(",")

    # The endpoints drop the pod during the preStop sleep; then the server drains within its limit.
    sleep = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    words = shlex.split(_procfile()[name])
    flag = "--graceful-timeout" if name == "web" else "--timeout-graceful-shutdown"
    drain = int(words[words.index(flag) + 1])
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > sleep + drain

    hpa = _of_kind("HorizontalPodAutoscaler")[name]
    assert hpa["spec"]["scaleTargetRef"]["name"] == name
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_one_beat_and_a_disruption_budget_for_every_other_deployment() -> None:
    deployments = _of_kind("Deployment")
    beat = deployments["beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert "deploy" not in _compose()["beat"]
    assert settings.CELERY_BEAT_SCHEDULER == "loship.beat:LockedDatabaseScheduler"

    budgets = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for b in _of_kind("PodDisruptionBudget").values()
    }
    assert budgets == set(deployments) - {"beat"}
    for deployment in deployments.values():
        for container in _containers(deployment):
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]


def test_no_secret_values_only_a_reference() -> None:
    assert not _of_kind("Secret")
    for workload in [*_of_kind("Deployment").values(), *_of_kind("Job").values()]:
        for container in _containers(workload):
            refs = [ref["secretRef"]["name"] for ref in container["envFrom"] if "secretRef" in ref]
            assert refs == ["loship-secrets"]


def test_ws_paths_reach_the_ws_process_in_compose_and_kubernetes() -> None:
    assert all(str(route.pattern).startswith("ws/") for route in websocket_urlpatterns)

    # The directives only, without the comments.
    nginx = re.sub(r"#.*", "", (ROOT / "deploy" / "nginx.conf").read_text())
    upstream = re.search(r"location /ws/ \{\s*proxy_pass http://(\w+);", nginx)
    assert upstream
    assert re.search(rf"upstream {upstream.group(1)} \{{\s*server ws:8001;", nginx)
    assert not re.search(r"\b(ip_hash|hash|sticky)\b", nginx)  # round-robin: no sticky sessions

    (rule,) = _of_kind("Ingress")["loship"]["spec"]["rules"]
    backends = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert backends == {"/ws/": "ws", "/": "web"}
    service = _of_kind("Service")["ws"]
    assert service["spec"]["selector"] == _of_kind("Deployment")["ws"]["spec"]["selector"]["matchLabels"]
