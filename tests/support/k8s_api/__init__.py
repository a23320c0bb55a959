"""A local stand-in for the Kubernetes API server (SPEC §9): real REST paths, real Kubernetes JSON.

No API server can be installed on the test machines, so the official `kubernetes` client is pointed
(through a kubeconfig written by `write_kubeconfig`, exactly as in production) at this stdlib HTTP
server. It answers the paths the k8s adapter uses with objects shaped as the API returns them
(kind/apiVersion/metadata/spec/status), `Status` bodies on errors, and text/plain pod logs that honour
tailLines, sinceSeconds, previous and container.

Every request is recorded in `served` as (verb, path): the deploy issue compares them against RBAC.

Writes, for `/remediate` (everything else that is not a GET answers 405):
- PATCH deployments/{name} with a strategic-merge or merge patch (what `kubectl rollout restart` sends:
  spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]); a changed pod template bumps
  the generation and the revision, as the controller would;
- GET, PATCH and PUT deployments/{name}/scale (what `kubectl scale` uses), answered with a Scale object.
Each write is recorded in `writes` as (verb, path, content type, JSON body).

The fixture is one incident in namespace `ecommerce`:
- deployment `ecommerce-app`: healthy, 2/2 ready; one replica close to its memory limit (metrics);
- deployment `payments`: a stuck rollout (ProgressDeadlineExceeded) from revision 1 to 2; the new
  pod is in CrashLoopBackOff after 7 restarts, last terminated OOMKilled (exit 137);
- deployment `ecommerce-worker`: a pod Pending on FailedScheduling;
- warning events BackOff and FailedScheduling (and Normal events the adapter must filter out);
- node `ip-10-0-1-12` with DiskPressure=True;
- logs with error lines and planted secrets (SECRETS below).
Namespace `kube-system` answers 403 Forbidden; `hang_paths` makes chosen paths never answer.
"""

from tests.support.k8s_api.base import (
    APP_POD_1,
    APP_POD_2,
    AWS_KEY,
    CRASH_POD,
    DB_PASSWORD,
    FORBIDDEN_NAMESPACE,
    JWT,
    NAMESPACE,
    OLD_PAYMENTS_POD,
    PENDING_POD,
    PRESSURE_NODE,
    SECRETS,
    SERVICE_ACCOUNT,
)
from tests.support.k8s_api.server import FakeKubeAPI, kube_api

__all__ = [
    "APP_POD_1",
    "APP_POD_2",
    "AWS_KEY",
    "CRASH_POD",
    "DB_PASSWORD",
    "FORBIDDEN_NAMESPACE",
    "JWT",
    "NAMESPACE",
    "OLD_PAYMENTS_POD",
    "PENDING_POD",
    "PRESSURE_NODE",
    "SECRETS",
    "SERVICE_ACCOUNT",
    "FakeKubeAPI",
    "kube_api",
]
