#!/usr/bin/env python3
"""Checks that the controller's view of the worker-light pods matches the StatefulSet.

Workspace placement hashes over the pod names worker-light-0..N-1, so the controller's
WORKERPAIR_LIGHT_REPLICAS must equal the StatefulSet's replicas in every overlay, and its
WORKERPAIR_LIGHT_SERVICE must be the StatefulSet's headless Service. A mismatch would send
calls for some workspaces to pods that do not hold them.

  check_light_placement.py deploy/k8s   # renders base and every overlay with kubectl kustomize
"""
import os
import subprocess
import sys

import yaml


def render(path):
    out = subprocess.run(["kubectl", "kustomize", path], check=True, capture_output=True,
                         text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def check(path):
    docs = render(path)
    sets = [d for d in docs if d.get("kind") == "StatefulSet"
            and d["metadata"]["name"] == "worker-light"]
    config = [d for d in docs if d.get("kind") == "ConfigMap"
              and d["metadata"]["name"].startswith("controller-config")]
    if not sets or not config:
        return [f"{path}: no worker-light StatefulSet or controller-config ConfigMap"]
    statefulset, data = sets[0], config[0].get("data", {})
    namespace = statefulset["metadata"].get("namespace", "default")
    errors = []
    replicas = str(statefulset["spec"].get("replicas", 1))
    if data.get("WORKERPAIR_LIGHT_STATEFULSET") != "worker-light":
        errors.append(f"{path}: WORKERPAIR_LIGHT_STATEFULSET is "
                      f"{data.get('WORKERPAIR_LIGHT_STATEFULSET')!r}, not 'worker-light'")
    if data.get("WORKERPAIR_LIGHT_REPLICAS") != replicas:
        errors.append(f"{path}: WORKERPAIR_LIGHT_REPLICAS is "
                      f"{data.get('WORKERPAIR_LIGHT_REPLICAS')!r} but the StatefulSet has "
                      f"{replicas} replicas")
    service = data.get("WORKERPAIR_LIGHT_SERVICE", "")
    wanted = f"{statefulset['spec']['serviceName']}.{namespace}.svc"
    if not service.startswith(wanted) or ":" not in service:
        errors.append(f"{path}: WORKERPAIR_LIGHT_SERVICE is {service!r}, not {wanted}...:PORT")
    if "WORKERPAIR_LIGHT" in data:
        errors.append(f"{path}: WORKERPAIR_LIGHT is set too; give the pods one way")
    return errors


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "deploy/k8s"
    paths = [os.path.join(root, "base")]
    overlays = os.path.join(root, "overlays")
    paths += [os.path.join(overlays, o) for o in sorted(os.listdir(overlays))]
    errors = []
    for path in paths:
        errors += check(path)
    for error in errors:
        print("FAIL:", error, file=sys.stderr)
    if not errors:
        print(f"ok: {len(paths)} kustomizations agree on the worker-light pods")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
