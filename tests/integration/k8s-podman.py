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
    or token there root:10001 0440, what the Secret volume gives); an
    emptyDir stays one (where a pod makes its own key), named after its
    pod (podman shares emptyDirs of one name between pods); init containers
    that are not native sidecars are of podman's "always" type;
  - in ConfigMap data and probe commands, each FROM=TO given is replaced
    (ports, addresses, identifiers of this machine).
  - with --suffix=S, S is appended to the name of every Deployment, Pod
    and ConfigMap (and the references to them): podman names the pod,
    its containers and the ConfigMaps' volumes after them, globally, so
    runs of the test in several build trees at once would otherwise take
    each other's pods and overwrite each other's configs.
Usage: k8s-podman.py [--suffix=S] MANIFEST IMAGE KEYDIR OUT-PODS OUT-CONFIGMAPS [FROM=TO...]
"""
import sys

import yaml

args = sys.argv[1:]
suffix = ""
if args and args[0].startswith("--suffix="):
    suffix = args.pop(0)[len("--suffix="):]
src, image, keydir, out_pods, out_cms = args[:5]
subs = [a.split("=", 1) for a in args[5:]]


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
    if kind in ("ConfigMap", "Deployment", "Pod"):
        doc["metadata"]["name"] += suffix
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
        # podman 4.3 removes a "once" init container after it ran and
        # sometimes fails that ("cannot remove container ... as it is
        # running"); an "always" one is kept (and runs again on a pod
        # restart, which the init containers here allow).
        # (kube play 4.3 reads it from the Deployment's own metadata).
        doc["metadata"].setdefault("annotations", {})[
            "io.podman.annotations.init.container.type"] = "always"
    spec["containers"] = [fix_container(c) if c["image"] != image else c
                          for c in spec["containers"]]
    renamed = {}
    for v in spec.get("volumes", []):
        if "emptyDir" in v:
            # podman 4.3 gives emptyDirs of one name one store across
            # pods: name each after its pod, or pods share a key.
            renamed[v["name"]] = v["name"] = "%s-%s" % (v["name"], doc["metadata"]["name"])
        if "configMap" in v:
            v["configMap"]["name"] += suffix
        if "secret" in v:
            del v["secret"]
            v["hostPath"] = {"path": keydir, "type": "Directory"}
    for c in spec.get("initContainers", []) + spec["containers"]:
        for m in c.get("volumeMounts", []):
            m["name"] = renamed.get(m["name"], m["name"])
    pods.append(doc)

yaml.safe_dump_all(pods, open(out_pods, "w"), sort_keys=False)
yaml.safe_dump_all(cms, open(out_cms, "w"), sort_keys=False)
