#!/usr/bin/env python3
"""k8s-podman.py: make a contrib/kubernetes manifest runnable by
`podman kube play --network host` on one machine (46-container.sh).

podman runs Pods and Deployments; it has no Services, NetworkPolicies,
PodDisruptionBudgets or StatefulSets, and (4.3) no native sidecars: it
would wait for an init container with restartPolicy: Always to exit.  So:
  - kinds other than ConfigMap, Deployment and Pod are dropped (a
    StatefulSet is an error: contrib/kubernetes/README.md says how those
    are checked instead);
  - one replica, the host's network (no port mappings); each native sidecar becomes a container of the same pod
    (same network namespace: what the application sees is unchanged);
  - images: sallyport:* becomes IMAGE, any other (the application) IMAGE
    running `sleep infinity`;
  - a Secret volume becomes a hostPath of KEYDIR (the test makes the key
    there root:10001 0440, what the Secret volume gives);
  - in ConfigMap data and probe commands, each FROM=TO given is replaced
    (ports, addresses, identifiers of this machine).
Usage: k8s-podman.py MANIFEST IMAGE KEYDIR OUT-PODS OUT-CONFIGMAPS [FROM=TO...]
"""
import sys

import yaml

src, image, keydir, out_pods, out_cms = sys.argv[1:6]
subs = [a.split("=", 1) for a in sys.argv[6:]]


def sub(text):
    for old, new in subs:
        text = text.replace(old, new)
    return text


def fix_container(c):
    if c.get("image", "").startswith("sallyport:"):
        c["image"] = image
    else:
        c["image"] = image
        c["command"] = ["sleep", "infinity"]
        c.pop("args", None)
    c.pop("restartPolicy", None)
    # Host network: nothing to publish (podman refuses port mappings).
    c.pop("ports", None)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        p = c.get(probe)
        if p and "exec" in p:
            p["exec"]["command"] = [sub(a) for a in p["exec"]["command"]]
    return c


pods, cms = [], []
for doc in yaml.safe_load_all(open(src)):
    if not doc:
        continue
    kind = doc["kind"]
    if kind == "ConfigMap":
        doc["data"] = {k: sub(v) for k, v in doc["data"].items()}
        cms.append(doc)
        continue
    if kind == "StatefulSet":
        sys.exit("%s: StatefulSet: podman kube play cannot run it" % src)
    if kind not in ("Deployment", "Pod"):
        continue
    spec = doc["spec"]["template"]["spec"] if kind == "Deployment" else doc["spec"]
    if kind == "Deployment":
        doc["spec"]["replicas"] = 1
    init = spec.pop("initContainers", [])
    keep_init = []
    for c in init:
        if c.get("restartPolicy") == "Always":
            spec["containers"].insert(0, fix_container(c))
        else:
            keep_init.append(fix_container(c))
    if keep_init:
        spec["initContainers"] = keep_init
    spec["containers"] = [fix_container(c) if c["image"] != image else c
                          for c in spec["containers"]]
    for v in spec.get("volumes", []):
        if "secret" in v:
            del v["secret"]
            v["hostPath"] = {"path": keydir, "type": "Directory"}
    pods.append(doc)

yaml.safe_dump_all(pods, open(out_pods, "w"), sort_keys=False)
yaml.safe_dump_all(cms, open(out_cms, "w"), sort_keys=False)
