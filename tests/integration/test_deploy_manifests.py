#!/usr/bin/env python3
"""Offline checks of everything under deploy/ that cannot run here.

- deploy/k8s/*.yaml and deploy/kserve/*.yaml parse, and every Kubernetes object
  (and the KServe predictor's pod spec) passes the Kubernetes OpenAPI schema
  with unknown fields refused (deploy/validate-manifests.mjs, npm
  kubernetes-models); the validator is first shown to reject broken copies.
- The objects agree with each other and with the image: selectors match the
  pod labels, probes ask the v2 health routes on the container's port, the
  Service, HPA and PDB point at the Deployment, the KServe predictor is a v2
  custom container on 8080, the UID is the image's USER, and every
  environment variable is one `detectd serve` reads.
- deploy/Dockerfile and deploy/Dockerfile.cuda: a structural lint (stages,
  USER, HEALTHCHECK, EXPOSE, ENTRYPOINT, apt hygiene, COPY sources present and
  not excluded by .dockerignore) and, for the CPU image, that its runtime
  package list covers every shared library build/detectd needs (readelf +
  dpkg, the binary's own answer).
Exit 0 pass, 1 fail, 77 skip (python3-yaml or kubernetes-models missing).
"""
import copy
import fnmatch
import glob
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.environ.get("ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DETECTD = os.environ.get("DETECTD") or os.path.join(ROOT, "build", "detectd")
os.chdir(ROOT)

try:
    import yaml
except ImportError:
    print("python3-yaml missing (tools/install-deps.sh installs it)")
    sys.exit(77)

failures = []


def check(cond, what):
    if cond:
        print("ok  ", what)
    else:
        print("FAIL", what)
        failures.append(what)
    return cond


# ---------------------------------------------------------------- Dockerfiles
INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def parse_dockerfile(path):
    """[(lineno, INSTRUCTION, args)] with continuations joined, comments dropped."""
    out, buf, start = [], "", 0
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        s = line.rstrip("\n")
        if not buf and (not s.strip() or s.lstrip().startswith("#")):
            continue
        if buf and s.lstrip().startswith("#"):  # comment inside a continuation
            continue
        if not buf:
            start = n
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        word, _, rest = buf.strip().partition(" ")
        out.append((start, word.upper(), rest.strip()))
        buf = ""
    return out


def stages_of(instrs):
    """Global ARG defaults and [{'name','image','instrs'}] per FROM."""
    args, stages = {}, []
    for n, ins, rest in instrs:
        if ins == "FROM":
            m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            stages.append({"line": n, "image": m.group(1) if m else rest, "name": (m.group(2) if m else None),
                           "instrs": []})
        elif stages:
            stages[-1]["instrs"].append((n, ins, rest))
        elif ins == "ARG":
            k, _, v = rest.partition("=")
            args[k.strip()] = v.strip().strip('"')
    return args, stages


def expand(s, args):
    for _ in range(5):
        s = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), s)
    return s


def apt_packages(run):
    """Packages named by the apt-get install commands of one RUN."""
    pkgs = []
    for cmd in re.split(r"&&|;|\|\|", run):
        words = cmd.split()
        if "apt-get" in words and "install" in words:
            for w in words[words.index("install") + 1:]:
                if not w.startswith("-") and "$" not in w:
                    pkgs.append(w)
    return pkgs


def dockerignore_excluded(path, patterns):
    """Docker's rule: the last pattern matching the path or a parent wins."""
    parts = path.strip("/").split("/")
    excluded = False
    for pat in patterns:
        neg = pat.startswith("!")
        p = pat[1:] if neg else pat
        p = p.strip("/")
        for i in range(1, len(parts) + 1):
            if fnmatch.fnmatchcase("/".join(parts[:i]), p) or fnmatch.fnmatchcase("/".join(parts[:i]), p.replace("**/", "")):
                excluded = not neg
                break
    return excluded


def lint_dockerfile(path, cuda):
    name = os.path.relpath(path, ROOT)
    instrs = parse_dockerfile(path)
    unknown = [f"{n}:{i}" for n, i, _ in instrs if i not in INSTRUCTIONS]
    check(not unknown, f"{name}: only known instructions {unknown or ''}")
    args, stages = stages_of(instrs)
    check(len(stages) >= 2, f"{name}: multi-stage ({len(stages)} stages)")
    if len(stages) < 2:
        return {}
    builder, final = stages[0], stages[-1]
    check(builder["name"] == "builder", f"{name}: first stage is 'builder'")
    check(final["name"] in (None, "runtime"), f"{name}: last stage is the runtime")
    for st in stages:
        img = expand(st["image"], args)
        check(":" in img and not img.endswith(":latest") and "$" not in img,
              f"{name}: FROM {img} is pinned to a tag")
    b_img, r_img = expand(builder["image"], args), expand(final["image"], args)
    if cuda:
        check("cudnn" in b_img and "devel" in b_img, f"{name}: builder on a CUDA cuDNN -devel image ({b_img})")
        check("cudnn" in r_img and "runtime" in r_img, f"{name}: runtime on a CUDA cuDNN runtime image ({r_img})")
    else:
        check(b_img.endswith("bookworm"), f"{name}: builder on Debian 12 ({b_img})")
        check(r_img.endswith("bookworm-slim"), f"{name}: runtime on bookworm-slim ({r_img})")

    def last(stage, ins):
        found = [rest for _, i, rest in stage["instrs"] if i == ins]
        return found[-1] if found else None

    user = last(final, "USER")
    uid = user.split(":")[0] if user else None
    check(uid is not None and uid.isdigit() and uid != "0",
          f"{name}: runtime USER is a numeric non-root UID ({user}; k8s runAsNonRoot needs a number)")
    hc = last(final, "HEALTHCHECK") or ""
    check("/v2/health/ready" in hc and re.search(r"\bCMD\s+\[", hc) is not None,
          f"{name}: HEALTHCHECK (exec form) asks /v2/health/ready")
    check("curl" not in hc and "wget" not in hc, f"{name}: HEALTHCHECK needs no curl or wget")
    expose = last(final, "EXPOSE") or ""
    check("8080" in expose.split(), f"{name}: EXPOSE 8080")
    ep = last(final, "ENTRYPOINT") or ""
    try:
        ep_list = json.loads(ep)
    except ValueError:
        ep_list = []
    check(len(ep_list) >= 2 and ep_list[0].endswith("detectd") and ep_list[1] == "serve",
          f"{name}: ENTRYPOINT is exec-form detectd serve (PID 1 gets SIGTERM)")
    env = " ".join(rest for _, i, rest in final["instrs"] if i == "ENV")
    check("DETECTD_MODELS_DIR=/usr/share/detectd/models" in env, f"{name}: ENV DETECTD_MODELS_DIR points at the baked-in models")
    if cuda:
        check("MODEL_CONTEXT_GPU=true" in env, f"{name}: MODEL_CONTEXT_GPU=true selects the GPU")
    # Settings with an article equivalent must not be set by the image, or
    # they would shadow the user's REST_*/PROBABILITY_MORE/MODEL_PREFIX.
    shadow = [v for v in ("DETECTD_HOST", "DETECTD_PORT", "DETECTD_THRESHOLD", "DETECTD_MODEL=", "DETECTD_DEVICE")
              if v in env]
    check(not shadow, f"{name}: the image sets no DETECTD_* that would hide the article's variables {shadow or ''}")
    names = [s["name"] for s in stages if s["name"]]
    froms = [re.search(r"--from=(\S+)", rest).group(1) for st in stages for _, i, rest in st["instrs"]
             if i == "COPY" and "--from=" in rest]
    check(froms and all(f in names for f in froms), f"{name}: COPY --from names earlier stages {sorted(set(froms))}")
    check(any("/usr/share/detectd/models" in rest for _, i, rest in final["instrs"] if i == "COPY"),
          f"{name}: the default models are baked into /usr/share/detectd/models")
    runs = [rest for st in stages for _, i, rest in st["instrs"] if i == "RUN"]
    for run in runs:
        if "apt-get install" in run:
            check("--no-install-recommends" in run and "rm -rf /var/lib/apt/lists/*" in run
                  if "apt-get update" in run.split("&&")[0] else "--no-install-recommends" in run,
                  f"{name}: apt-get install without recommends, lists removed in the same layer ({run[:50]}...)")
    check(any(i == "RUN" and "ldd" in rest and "not found" in rest for _, i, rest in final["instrs"]),
          f"{name}: the runtime stage fails its build on a missing shared library")
    # COPY sources exist and survive .dockerignore.
    patterns = [l.strip() for l in open(os.path.join(ROOT, ".dockerignore")) if l.strip() and not l.startswith("#")]
    srcs = []
    for st in stages:
        for _, i, rest in st["instrs"]:
            if i == "COPY" and "--from=" not in rest:
                srcs += shlex.split(rest)[:-1]
    missing = [s for s in srcs if not os.path.exists(os.path.join(ROOT, s))]
    ignored = [s for s in srcs if dockerignore_excluded(s, patterns)]
    check(not missing, f"{name}: COPY sources exist {missing or ''}")
    check(not ignored, f"{name}: COPY sources are in the build context (.dockerignore) {ignored or ''}")
    return {"uid": uid, "builder_pkgs": [p for r in builder["instrs"] if r[1] == "RUN" for p in apt_packages(r[2])],
            "runtime_pkgs": [p for r in final["instrs"] if r[1] == "RUN" for p in apt_packages(r[2])]}


def cpu_link_packages():
    """Debian packages owning the libraries a CUDA=0 build links (the CPU
    image's build), from the Makefile's own LDLIBS: -lX -> libX.so -> the
    shared object it points at -> dpkg's owner.  glibc's parts are skipped."""
    r = subprocess.run(["make", "-s", "--no-print-directory", "CUDA=0", "--eval=print-ldlibs: ; @echo $(LDLIBS)",
                        "print-ldlibs"], capture_output=True, text=True, cwd=ROOT)
    libs = ["lib%s.so" % w[2:] for w in r.stdout.split() if w.startswith("-l")
            and w[2:] not in ("m", "pthread", "dl", "rt", "c")]
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    pkgs = {}
    for lib in libs:
        m = re.search(r"^\s*" + re.escape(lib) + r" \(libc6,x86-64\) => (\S+)", cache, re.M)
        if not m:
            pkgs[lib] = None
            continue
        path = os.path.realpath(m.group(1))
        cands = [path]
        cands += ["/usr" + c for c in cands if not c.startswith("/usr/")] + [c[4:] for c in cands if c.startswith("/usr/")]
        owner = None
        for c in cands:
            r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
            if r.returncode == 0:
                owner = r.stdout.split(":")[0]
                break
        pkgs[lib] = owner
    return pkgs


print("# Dockerfiles")
cpu = lint_dockerfile(os.path.join(ROOT, "deploy/Dockerfile"), cuda=False)
gpu = lint_dockerfile(os.path.join(ROOT, "deploy/Dockerfile.cuda"), cuda=True)
check(cpu.get("uid") == gpu.get("uid"), "both images run as the same UID")
m = re.search(r'^PKGS="(.*?)"', open(os.path.join(ROOT, "tools/install-deps.sh")).read(), re.S | re.M)
host_pkgs = set(m.group(1).split()) if m else set()
stray = [p for p in cpu.get("builder_pkgs", []) if p not in host_pkgs | {"ca-certificates"}]  # npm needs TLS roots
check(not stray, f"deploy/Dockerfile: the builder installs only tools/install-deps.sh packages {stray or ''}")
dev_missing = [p for p in host_pkgs if p.endswith("-dev") and p.startswith("lib") and "clang" not in p
               and p not in cpu.get("builder_pkgs", [])]
check(not dev_missing, f"deploy/Dockerfile: the builder has every -dev package of install-deps.sh {dev_missing or ''}")
dockerignore = [l.strip() for l in open(os.path.join(ROOT, ".dockerignore")) if l.strip() and not l.startswith("#")]
check(all(dockerignore_excluded(p, dockerignore) for p in ("build/detectd", "build-san/x", "node_modules/x", ".git/HEAD")),
      ".dockerignore keeps build/, build-san/, node_modules/ and .git/ out of the context")
if subprocess.run(["sh", "-c", "command -v make dpkg ldconfig"], capture_output=True).returncode == 0:
    owners = cpu_link_packages()
    unknown = [lib for lib, p in owners.items() if p is None]
    check(owners and not unknown, f"every library a CUDA=0 build links belongs to a Debian package {unknown or ''}")
    uncovered = sorted({p for p in owners.values() if p and p not in cpu.get("runtime_pkgs", [])})
    check(not uncovered, f"deploy/Dockerfile's runtime installs what a CUDA=0 build links "
          f"({', '.join(sorted(set(p for p in owners.values() if p)))}) {uncovered or ''}")
else:
    print("note: make, dpkg or ldconfig missing: runtime library coverage not checked")
for path, flag in (("deploy/Dockerfile", "CUDA=0"), ("deploy/Dockerfile.cuda", "CUDA=1")):
    makes = [rest for _, i, rest in parse_dockerfile(os.path.join(ROOT, path)) if i == "RUN" and "make " in rest]
    check(makes and all(f"{flag} all" in r and f"install {flag}" in r for r in makes),
          f"{path}: builds and installs with make {flag}")

# ------------------------------------------------------------------ manifests
print("# manifests")
docs = []  # (where, doc)
for path in sorted(glob.glob(os.path.join(ROOT, "deploy/k8s/*.yaml")) + glob.glob(os.path.join(ROOT, "deploy/kserve/*.yaml"))):
    rel = os.path.relpath(path, ROOT)
    try:
        loaded = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d is not None]
        check(True, f"{rel}: YAML parses ({len(loaded)} object(s))")
    except yaml.YAMLError as e:
        check(False, f"{rel}: YAML parses ({e})")
        continue
    for i, d in enumerate(loaded):
        docs.append((f"{rel}#{i}", d))


def objs(kind):
    return [(w, d) for w, d in docs if isinstance(d, dict) and d.get("kind") == kind]


def one(kind):
    found = objs(kind)
    check(len(found) == 1, f"exactly one {kind}")
    return found[0][1] if found else {}


dep, svc, hpa, pdb = one("Deployment"), one("Service"), one("HorizontalPodAutoscaler"), one("PodDisruptionBudget")
isvc, kus = one("InferenceService"), one("Kustomization")
API = {"Deployment": "apps/v1", "Service": "v1", "HorizontalPodAutoscaler": "autoscaling/v2",
       "PodDisruptionBudget": "policy/v1", "InferenceService": "serving.kserve.io/v1beta1",
       "Kustomization": "kustomize.config.k8s.io/v1beta1"}
for w, d in docs:
    check(API.get(d.get("kind")) == d.get("apiVersion"), f"{w}: {d.get('apiVersion')}/{d.get('kind')} is the pair we target")

k8s_files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "deploy/k8s/*.yaml")))
check(sorted(kus.get("resources", [])) == sorted(f for f in k8s_files if f != "kustomization.yaml"),
      "kustomization.yaml lists every manifest in deploy/k8s")


def subset(a, b):
    return bool(a) and all(b.get(k) == v for k, v in a.items())


def quantity(q):
    """Kubernetes quantity -> float (cores or bytes)."""
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(q))
    mult = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return float(m.group(1)) * mult[m.group(2)]


def serve_env_names():
    try:
        out = subprocess.run([DETECTD, "serve", "--help"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    names = set(re.findall(r"\b(?:DETECTD_[A-Z_]+|REST_[A-Z_]+|PROBABILITY_MORE|MODEL_[A-Z_]+)\b", out))
    return names or None


SERVE_ENV = serve_env_names()


def check_container(where, c, port_names, uid, pod_sc):
    ports = c.get("ports", [])
    check(len(ports) == 1 and ports[0].get("containerPort") == 8080, f"{where}: one container port, 8080")
    names = {p.get("name") for p in ports} | {p.get("containerPort") for p in ports}
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    check(env.get("REST_PORT", env.get("DETECTD_PORT", "8080")) == "8080", f"{where}: the server listens on the container port")
    if SERVE_ENV:
        extra = sorted(set(env) - SERVE_ENV - {"PROTOCOL"})
        check(not extra, f"{where}: every env variable is one `detectd serve` reads {extra or ''}")
    check(env.get("DETECTD_MODELS_DIR", "/usr/share/detectd/models") == "/usr/share/detectd/models",
          f"{where}: DETECTD_MODELS_DIR is the image's model directory")
    for probe, path in (("readinessProbe", "/v2/health/ready"), ("livenessProbe", "/v2/health/live")):
        g = c.get(probe, {}).get("httpGet", {})
        check(g.get("path") == path and g.get("port") in names, f"{where}: {probe} GET {path} on the container port")
    sp = c.get("startupProbe")
    if sp:
        check(sp.get("httpGet", {}).get("port") in names and sp["httpGet"].get("path", "").startswith("/v2/health/"),
              f"{where}: startupProbe on a v2 health route")
    res = c.get("resources", {})
    req, lim = res.get("requests", {}), res.get("limits", {})
    check(all(k in req and k in lim for k in ("cpu", "memory")), f"{where}: cpu and memory requests and limits")
    if all(k in req and k in lim for k in ("cpu", "memory")):
        check(all(quantity(req[k]) <= quantity(lim[k]) for k in ("cpu", "memory")), f"{where}: requests <= limits")
        inflight = env.get("DETECTD_MAX_INFLIGHT_BYTES")
        if inflight:
            check(quantity(inflight.replace("K", "Ki").replace("M", "Mi").replace("G", "Gi")) < quantity(lim["memory"]),
                  f"{where}: DETECTD_MAX_INFLIGHT_BYTES ({inflight}) fits in the memory limit ({lim['memory']})")
    sc = c.get("securityContext", {})
    merged = dict(pod_sc or {}, **sc)
    check(merged.get("runAsNonRoot") is True and str(merged.get("runAsUser")) == str(uid),
          f"{where}: runs as non-root UID {uid} (the image's USER)")
    check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
          and sc.get("capabilities", {}).get("drop") == ["ALL"],
          f"{where}: read-only root, no privilege escalation, all capabilities dropped")
    return names


uid = cpu.get("uid")
if dep:
    spec = dep.get("spec", {})
    tmpl = spec.get("template", {})
    labels = tmpl.get("metadata", {}).get("labels", {})
    check(subset(spec.get("selector", {}).get("matchLabels", {}), labels), "Deployment: selector matches the pod labels")
    pod = tmpl.get("spec", {})
    cs = pod.get("containers", [])
    check(len(cs) == 1, "Deployment: one container")
    names = check_container("Deployment", cs[0], None, uid, pod.get("securityContext")) if cs else set()
    env = {e["name"]: e.get("value") for e in cs[0].get("env", [])} if cs else {}
    check(pod.get("terminationGracePeriodSeconds", 30) > int(env.get("DETECTD_TIMEOUT_S", "30")),
          "Deployment: the grace period outlasts the server's drain timeout")
    mounts = {m["name"] for c in cs for m in c.get("volumeMounts", [])}
    vols = {v["name"] for v in pod.get("volumes", [])}
    check(mounts <= vols, "Deployment: every volumeMount has a volume")
    if svc:
        check(subset(svc.get("spec", {}).get("selector", {}), labels), "Service: selector matches the pod labels")
        tps = [p.get("targetPort") for p in svc.get("spec", {}).get("ports", [])]
        check(tps and all(t in names for t in tps), f"Service: targetPort {tps} is the container port")
    if hpa:
        ref = hpa.get("spec", {}).get("scaleTargetRef", {})
        check(ref.get("apiVersion") == "apps/v1" and ref.get("kind") == "Deployment"
              and ref.get("name") == dep.get("metadata", {}).get("name"), "HPA: scaleTargetRef is the Deployment")
        hs = hpa.get("spec", {})
        check(1 <= hs.get("minReplicas", 1) <= hs.get("maxReplicas", 0), "HPA: 1 <= minReplicas <= maxReplicas")
        cpu_metric = any(m.get("type") == "Resource" and m.get("resource", {}).get("name") == "cpu"
                         for m in hs.get("metrics", []))
        check(not cpu_metric or "cpu" in cs[0].get("resources", {}).get("requests", {}),
              "HPA: CPU utilisation has a CPU request to be measured against")
    if pdb:
        ps = pdb.get("spec", {})
        check(subset(ps.get("selector", {}).get("matchLabels", {}), labels), "PDB: selector matches the pod labels")
        floor = min(spec.get("replicas", 1), hpa.get("spec", {}).get("minReplicas", 1) if hpa else 1)
        check(isinstance(ps.get("minAvailable"), int) and ps["minAvailable"] < floor,
              f"PDB: minAvailable {ps.get('minAvailable')} < the fewest replicas ({floor}), so drains can proceed")

COMPONENT_EXT = {"minReplicas", "maxReplicas", "scaleTarget", "scaleMetric", "scaleMetricType", "containerConcurrency",
                 "timeout", "canaryTrafficPercent", "logger", "batcher", "labels", "annotations",
                 "deploymentStrategy", "autoScaling"}
isvc_pod = None
if isvc:
    pred = isvc.get("spec", {}).get("predictor", {})
    cs = pred.get("containers", [])
    check(len(cs) == 1 and cs[0].get("name") == "kserve-container",
          "InferenceService: a custom container predictor named kserve-container")
    if cs:
        env = {e["name"]: e.get("value") for e in cs[0].get("env", [])}
        check(env.get("PROTOCOL") == "v2", "InferenceService: PROTOCOL=v2 (KServe's protocol switch for custom containers)")
        check_container("InferenceService", cs[0], None, uid, pred.get("securityContext"))
        if dep:
            check(cs[0].get("image") == dep["spec"]["template"]["spec"]["containers"][0].get("image"),
                  "InferenceService: same image as the Deployment")
    check(1 <= pred.get("minReplicas", 1) <= pred.get("maxReplicas", 1), "InferenceService: 1 <= minReplicas <= maxReplicas")
    isvc_pod = {k: v for k, v in pred.items() if k not in COMPONENT_EXT}

# ------------------------------------------- schema validation (kubernetes-models)
print("# Kubernetes OpenAPI schema (npm kubernetes-models)")
VALIDATOR = os.path.join(ROOT, "deploy/validate-manifests.mjs")


def validate(items):
    r = subprocess.run(["node", VALIDATOR], input=json.dumps(items), capture_output=True, text=True,
                       env=dict(os.environ, ROOT=ROOT))
    return r.returncode, r.stdout + r.stderr


items = [{"where": w, "doc": d} for w, d in docs if d.get("kind") not in ("Kustomization", "InferenceService")]
if isvc_pod is not None:
    items.append({"where": "deploy/kserve/inferenceservice.yaml spec.predictor", "model": "v1/PodSpec", "doc": isvc_pod})
rc, out = validate(items)
if rc == 2:
    print(out.strip())
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("kubernetes-models not installed (npm install): schema validation skipped")
    sys.exit(77)
print(out.rstrip())
check(rc == 0, "every object passes the Kubernetes schema")

# The validator must catch mistakes, or the line above proves nothing.
broken = []
d = copy.deepcopy(dep)
d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/x"
broken.append(("unknown field deep in a probe", {"where": "typo", "doc": d}))
d = copy.deepcopy(dep)
d["spec"]["replicas"] = "two"
broken.append(("replicas as a string", {"where": "type", "doc": d}))
d = copy.deepcopy(dep)
d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "lots"
broken.append(("a malformed quantity", {"where": "quantity", "doc": d}))
d = copy.deepcopy(hpa)
d["apiVersion"] = "autoscaling/v3"
broken.append(("an unknown apiVersion", {"where": "apiversion", "doc": d}))
d = copy.deepcopy(svc)
del d["spec"]["ports"][0]["port"]
broken.append(("a Service port without port", {"where": "required", "doc": d}))
for what, item in broken:
    rc, out = validate([item])
    check(rc == 1, f"the validator rejects {what}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("pass")
