"""The HTTP server: real REST paths answered from the fixture, writes for `/remediate`, 403/404/405 as the API."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.k8s_api import nodestats, rollout, secrets
from tests.support.k8s_api.base import FORBIDDEN_NAMESPACE, NAMESPACE, PRESSURE_NODE, SERVICE_ACCOUNT
from tests.support.k8s_api.pods import make_pods
from tests.support.k8s_api.signals import make_events, make_logs, make_node, make_pod_metrics
from tests.support.k8s_api.workloads import make_deployments, make_replica_sets


# ------------------------------------------------------------------------------------------ server
def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details or {},
        "code": code,
    }


def _matches_selector(labels: dict[str, str], selector: str | None) -> bool:
    """Equality-based and `in` label selectors, as the adapter sends them."""
    if not selector:
        return True
    for term in re.split(r",(?![^(]*\))", selector):
        term = term.strip()
        if match := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if (labels.get(key) in values) != (op == "in"):
                return False
        elif match := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", term):
            key, op, value = match.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif match := re.fullmatch(r"(!?)([\w./-]+)", term):
            if (match.group(2) in labels) == bool(match.group(1)):
                return False
        else:
            raise ValueError(term)
    return True


def _merge(target: dict, patch: dict) -> None:
    """JSON merge patch (RFC 7386): what strategic merge also does for the maps a restart or scale touches."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = json.loads(json.dumps(value))


class Reply:
    def __init__(self, code: int, body: dict | str) -> None:
        self.code, self.body = code, body


class FakeKubeAPI:
    """The server. Use as a context manager; `url`, `served`, `hang_paths` and `metrics` are public."""

    def __init__(self) -> None:
        self.reset()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-kube-api", daemon=True)

    def reset(self) -> None:
        """The cluster as first seen, and nothing recorded: each test owns its state, whichever ran before."""
        self.now = datetime.now(UTC)
        self.pods = make_pods(self.now)
        self.deployments = make_deployments(self.now)
        self.replica_sets = make_replica_sets(self.now)
        self.events = make_events(self.now)
        self.nodes = [
            make_node(self.now, "ip-10-0-1-11", False, "i-0a1b2c3d4e5f60011"),
            make_node(self.now, PRESSURE_NODE, True, "i-0a1b2c3d4e5f60012"),
        ]
        self.pod_metrics = make_pod_metrics(self.now)
        self.logs = make_logs(self.now)
        self.metrics = (
            True  # False: metrics.k8s.io is not installed (404, like a cluster without metrics-server)
        )
        self.hang_paths: set[str] = set()  # requests to these paths block until the server stops
        self.served: list[tuple[str, str]] = []
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        self.writes: list[tuple[str, str, str, Any]] = []  # (verb, path, content type, JSON body)

    # -- lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeKubeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def write_kubeconfig(self, path: Path, context: str = "test") -> Path:
        """A kubeconfig pointing at this server over plain http, loaded by the client like any other."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "warroom", "user": {"token": "fake-service-account-token"}}],
            "contexts": [
                {"name": context, "context": {"cluster": "fake", "user": "warroom", "namespace": NAMESPACE}}
            ],
            "current-context": context,
        }
        path.write_text(json.dumps(config, indent=2))  # JSON is YAML: the loader reads it unchanged
        return path

    def served_set(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self.served)

    # -- routing
    def _routes(self) -> list[tuple[re.Pattern[str], Callable[..., Reply]]]:
        ns = r"(?P<ns>[^/]+)"
        name = r"(?P<name>[^/]+)"
        table: list[tuple[str, Callable[..., Reply]]] = [
            (rf"/api/v1/namespaces/{ns}/pods", self._list_pods),
            (rf"/api/v1/namespaces/{ns}/pods/{name}", self._get_pod),
            (rf"/api/v1/namespaces/{ns}/pods/{name}/log", self._pod_log),
            (rf"/api/v1/namespaces/{ns}/events", self._list_events),
            (r"/api/v1/nodes", self._list_nodes),
            (rf"/api/v1/nodes/{name}/proxy/stats/summary", self._node_summary),
            (rf"/apis/apps/v1/namespaces/{ns}/deployments", self._list_deployments),
            (rf"/apis/apps/v1/namespaces/{ns}/deployments/{name}", self._get_deployment),
            (rf"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", self._get_scale),
            (rf"/apis/apps/v1/namespaces/{ns}/replicasets", self._list_replica_sets),
            (rf"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods", self._get_pod_metrics),
        ]
        return [(re.compile(f"^{pattern}$"), handler) for pattern, handler in table]

    def handle(self, method: str, raw_path: str, body: bytes = b"", content_type: str = "") -> Reply:
        parts = urlsplit(raw_path)
        # Decoded as the API server's router sees it (the client sends a proxy path as stats%2Fsummary).
        path, query = unquote(parts.path), parse_qs(parts.query)
        with self._lock:
            self.served.append((method, path))
            self.queries.append((path, query))
        if path in self.hang_paths:
            self._stopping.wait(30)
            return Reply(504, _status(504, "Timeout", "the fake server was stopped"))
        if secrets.handles(path):  # Secrets for `rotate-secret` (see secrets.py)
            with self._lock:
                return Reply(*secrets.handle(self, method, path, body, content_type.split(";")[0].strip()))
        if method in ("PATCH", "PUT"):
            return self._write(method, path, body, content_type.split(";")[0].strip())
        if method != "GET":
            return Reply(
                405, _status(405, "MethodNotAllowed", f"the fake server only reads; {method} refused")
            )
        for pattern, handler in self._routes():
            match = pattern.match(path)
            if match:
                groups = match.groupdict()
                if groups.get("ns") == FORBIDDEN_NAMESPACE:
                    return self._forbidden(path, groups)
                return handler(query=query, **groups)
        return Reply(404, _status(404, "NotFound", "the server could not find the requested resource"))

    # -- writes (PATCH / PUT of deployments and their scale subresource)
    _DEPLOYMENT_PATH = re.compile(
        r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/deployments/(?P<name>[^/]+)(?P<scale>/scale)?$"
    )
    _MERGE_TYPES = (
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        rollout.JSON_PATCH,
    )

    def _write(self, method: str, path: str, raw: bytes, content_type: str) -> Reply:
        match = self._DEPLOYMENT_PATH.match(path)
        if match is None:
            return Reply(
                405, _status(405, "MethodNotAllowed", f"the fake server does not take {method} on {path}")
            )
        ns, name, scale = match.group("ns"), match.group("name"), bool(match.group("scale"))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return Reply(400, _status(400, "BadRequest", "the body of the request was not valid JSON"))
        with self._lock:
            self.writes.append((method, path, content_type, body))
        if ns == FORBIDDEN_NAMESPACE:
            resource = "deployments/scale" if scale else "deployments"
            message = (
                f'{resource} "{name}" is forbidden: User "{SERVICE_ACCOUNT}" cannot {method.lower()} resource '
                f'"{resource}" in API group "apps" in the namespace "{ns}"'
            )
            return Reply(403, _status(403, "Forbidden", message, {"name": name, "kind": resource}))
        if method == "PATCH" and content_type not in self._MERGE_TYPES:
            return Reply(
                415,
                _status(
                    415,
                    "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: {', '.join(self._MERGE_TYPES)}",
                ),
            )
        json_patch = method == "PATCH" and content_type == rollout.JSON_PATCH
        if not isinstance(body, dict) and not (json_patch and isinstance(body, list)):
            return Reply(400, _status(400, "BadRequest", "the body must be a JSON object"))
        with self._lock:
            deployment = self._find(self.deployments, ns, name)
            if deployment is None:
                return self._not_found("deployments.apps", name)
            if scale:
                return self._write_scale(deployment, method, body)
            before = json.dumps(deployment["spec"]["template"], sort_keys=True)
            if json_patch:
                try:
                    deployment.update(rollout.apply_json_patch(deployment, body))
                except rollout.PatchFailed as exc:
                    return Reply(422, _status(422, "Invalid", str(exc)))
            else:
                _merge(deployment, body)
            meta = deployment["metadata"]
            meta["generation"] = int(meta.get("generation", 1)) + 1
            meta["resourceVersion"] = str(int(meta.get("resourceVersion", "1")) + 1)
            if json.dumps(deployment["spec"]["template"], sort_keys=True) != before:
                annotations = meta.setdefault("annotations", {})
                revision = int(annotations.get("deployment.kubernetes.io/revision", "1")) + 1
                annotations["deployment.kubernetes.io/revision"] = str(revision)
                rollout.settle(self.replica_sets, deployment, revision)
                secrets.after_template_change(self, deployment)
            return Reply(200, json.loads(json.dumps(deployment)))

    @staticmethod
    def _scale_of(deployment: dict) -> dict:
        meta = deployment["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            },
            "spec": {"replicas": deployment["spec"].get("replicas", 1)},
            "status": {
                "replicas": deployment["status"].get("replicas", 0),
                "selector": ",".join(
                    f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items()
                ),
            },
        }

    def _write_scale(self, deployment: dict, method: str, body: dict) -> Reply:
        replicas = (body.get("spec") or {}).get("replicas")
        if method == "PUT" and body.get("kind") not in (None, "Scale"):
            return Reply(400, _status(400, "BadRequest", f"expected kind Scale, got {body.get('kind')}"))
        if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
            message = f'Scale.autoscaling "{deployment["metadata"]["name"]}" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0'
            return Reply(422, _status(422, "Invalid", message))
        if replicas is not None:
            deployment["spec"]["replicas"] = replicas
            meta = deployment["metadata"]
            meta["generation"] = int(meta.get("generation", 1)) + 1
            meta["resourceVersion"] = str(int(meta.get("resourceVersion", "1")) + 1)
        return Reply(200, self._scale_of(deployment))

    def _forbidden(self, path: str, groups: dict[str, str]) -> Reply:
        resource = path.rstrip("/").split("/")[-1 if "name" not in groups else -2]
        group = "metrics.k8s.io" if "metrics.k8s.io" in path else ("apps" if "/apis/apps/" in path else "")
        verb = "get" if "name" in groups else "list"
        message = (
            f'{resource} is forbidden: User "{SERVICE_ACCOUNT}" cannot {verb} resource "{resource}" '
            f'in API group "{group}" in the namespace "{groups["ns"]}"'
        )
        return Reply(403, _status(403, "Forbidden", message, {"kind": resource}))

    @staticmethod
    def _list(kind: str, api_version: str, items: list[dict]) -> Reply:
        return Reply(
            200,
            {
                "kind": kind,
                "apiVersion": api_version,
                "metadata": {"resourceVersion": "48151623"},
                "items": items,
            },
        )

    @staticmethod
    def _not_found(resource: str, name: str) -> Reply:
        return Reply(
            404, _status(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource})
        )

    def _in_ns(self, objects: list[dict], ns: str, query: dict[str, list[str]]) -> list[dict]:
        selector = query.get("labelSelector", [None])[0]
        return [
            o for o in objects
            if o["metadata"].get("namespace") == ns and _matches_selector(o["metadata"].get("labels", {}), selector)
        ]  # fmt: skip

    def _list_pods(self, query: dict, ns: str) -> Reply:
        return self._list("PodList", "v1", self._in_ns(self.pods, ns, query))

    def _find(self, objects: list[dict], ns: str, name: str) -> dict | None:
        return next(
            (o for o in objects if o["metadata"]["name"] == name and o["metadata"].get("namespace") == ns),
            None,
        )

    def _get_pod(self, query: dict, ns: str, name: str) -> Reply:
        pod = self._find(self.pods, ns, name)
        return Reply(200, pod) if pod else self._not_found("pods", name)

    def _pod_log(self, query: dict, ns: str, name: str) -> Reply:
        pod = self._find(self.pods, ns, name)
        if pod is None:
            return self._not_found("pods", name)
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container", [None])[0]
        if container is None and len(containers) > 1:
            message = (
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
            )
            return Reply(400, _status(400, "BadRequest", message))
        container = container or containers[0]
        if container not in containers:
            return Reply(
                400, _status(400, "BadRequest", f"container {container} is not valid for pod {name}")
            )
        if pod["status"]["phase"] == "Pending":
            message = f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            return Reply(400, _status(400, "BadRequest", message))
        previous = query.get("previous", ["false"])[0] == "true"
        lines = self.logs.get((name, container, previous))
        if lines is None:
            if previous:
                message = f'previous terminated container "{container}" in pod "{name}" not found'
                return Reply(400, _status(400, "BadRequest", message))
            lines = []
        if "sinceSeconds" in query:
            since = int(query["sinceSeconds"][0])
            lines = [line for line in lines if line[0] <= since]
        texts = [text for _, text in lines]
        if "tailLines" in query:
            tail = int(query["tailLines"][0])
            texts = texts[-tail:] if tail else []
        return Reply(200, "".join(f"{text}\n" for text in texts))

    def _list_events(self, query: dict, ns: str) -> Reply:
        events = self._in_ns(self.events, ns, query)
        for term in query.get("fieldSelector", [""])[0].split(","):
            if term.startswith("type="):
                events = [e for e in events if e["type"] == term.split("=", 1)[1]]
        return self._list("EventList", "v1", events)

    def _list_nodes(self, query: dict) -> Reply:
        return self._list("NodeList", "v1", self.nodes)

    def _node_summary(self, query: dict, name: str) -> Reply:
        if not any(n["metadata"]["name"] == name for n in self.nodes):
            return self._not_found("nodes", name)
        return Reply(200, nodestats.make_summary(name))

    def _list_deployments(self, query: dict, ns: str) -> Reply:
        return self._list("DeploymentList", "apps/v1", self._in_ns(self.deployments, ns, query))

    def _get_deployment(self, query: dict, ns: str, name: str) -> Reply:
        deployment = self._find(self.deployments, ns, name)
        return Reply(200, deployment) if deployment else self._not_found("deployments.apps", name)

    def _get_scale(self, query: dict, ns: str, name: str) -> Reply:
        deployment = self._find(self.deployments, ns, name)
        return (
            Reply(200, self._scale_of(deployment))
            if deployment
            else self._not_found("deployments.apps", name)
        )

    def _list_replica_sets(self, query: dict, ns: str) -> Reply:
        return self._list("ReplicaSetList", "apps/v1", self._in_ns(self.replica_sets, ns, query))

    def _get_pod_metrics(self, query: dict, ns: str) -> Reply:
        if not self.metrics:
            return Reply(404, _status(404, "NotFound", "the server could not find the requested resource"))
        items = [m for m in self.pod_metrics if m["metadata"]["namespace"] == ns]
        return self._list("PodMetricsList", "metrics.k8s.io/v1beta1", items)

    # -- HTTP plumbing
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY each reply waits ~40 ms on
            # the client's delayed ACK, which would make the adapter look slow in the timings.
            disable_nagle_algorithm = True

            def _answer(self, body: bytes = b"") -> None:
                reply = api.handle(self.command, self.path, body, self.headers.get("Content-Type") or "")
                if isinstance(reply.body, str):
                    payload, content_type = reply.body.encode(), "text/plain"
                else:
                    payload, content_type = json.dumps(reply.body).encode(), "application/json"
                try:
                    self.send_response(reply.code)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Audit-Id", f"fake-{time.monotonic_ns()}")
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to tell it

            def _body(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length) if length else b"")

            do_GET = _answer
            do_POST = do_PUT = do_PATCH = do_DELETE = _body

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest output clean

        return Handler


@contextmanager
def kube_api() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as api:
        yield api
