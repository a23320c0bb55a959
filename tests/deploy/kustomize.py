"""Just enough of `kustomize build` to read deploy/k8s in tests without a kustomize binary.

Handles what deploy/k8s uses — resources, components, configMapGenerator (files) and images — and
fails loudly on any other key, so a kustomization that grows is not silently misread. When kubectl
is installed, test_k8s_manifests.py checks that this reading agrees with `kubectl kustomize`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KNOWN_KEYS = {"apiVersion", "kind", "resources", "components", "configMapGenerator", "images"}

Doc = dict[str, Any]


def kustomization(folder: Path) -> Doc:
    data = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(data) - KNOWN_KEYS
    assert not unknown, f"{folder}/kustomization.yaml uses {unknown}: teach tests/deploy/kustomize.py"
    return data


def build(folder: Path = K8S, *, components: bool = True) -> list[Doc]:
    """The objects `kubectl apply -k folder` would create (generated names without their hash)."""
    spec = kustomization(folder)
    docs: list[Doc] = []
    for resource in spec.get("resources", []):
        path = folder / resource
        if path.is_dir():
            docs += build(path, components=components)
        else:
            docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    if components:
        for component in spec.get("components", []):
            docs += build(folder / component, components=components)
    for generator in spec.get("configMapGenerator", []):
        data = {Path(file).name: (folder / file).read_text() for file in generator.get("files", [])}
        metadata = {"name": generator["name"]}
        if "namespace" in generator:
            metadata["namespace"] = generator["namespace"]
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
    for image in spec.get("images", []):
        for doc in docs:
            for container in containers(doc):
                name, _, _ = container["image"].partition(":")
                if name == image["name"]:
                    new = image.get("newName", name)
                    container["image"] = f"{new}:{image['newTag']}" if "newTag" in image else new
    return docs


def containers(doc: Doc) -> list[Doc]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return list(spec.get("containers", [])) + list(spec.get("initContainers", []))


def find(docs: list[Doc], kind: str, name: str | None = None) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]
