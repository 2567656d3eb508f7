"""The Helm chart (helm/source-aws-billing) rendered by helm itself, and every rendered object
checked against the Kubernetes API schemas, offline (no cluster):

- `helm lint --strict` and `helm template` with each value set of VALUE_SETS: the defaults, the
  chart's own Secret, aws.existingSecret, an EKS IRSA role, persistence (new and existing claim),
  the ServiceMonitor, proxy variables through extraEnv and through the proxy values (URL or
  Secret), a custom config, and all of them at once;
- every rendered object of every value set, and helm/manifest.yaml, validated by
  tests/package/validate.mjs (the npm package kubernetes-models, plus
  @kubernetes-models/prometheus-operator for the ServiceMonitor; unknown fields are errors too);
- the rendered objects read back: config mount = the path the image reads, 1 replica + Recreate,
  checksum/config follows the config, probes on the container port, the container's security
  context, the Secret's keys reaching the env, and bad values failing the render by name.

helm and the validator's packages come from .ci/setup-helm.sh (`bash .ci/setup-package.sh` runs
it). Run: `cd build && CI=true ctest -L package -R chart --output-on-failure`.
"""
import base64
import copy
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import yaml

from support import ship
from support.env import BINARY, main, require
from support.ship import read, source_path

CHART = ("helm", "source-aws-billing")
VALIDATOR = ("tests", "package")
RELEASE = "billing"
STATE_DIR = "/var/lib/source-aws-billing"
IMAGE_UID = 65532
ROLE_ARN = "arn:aws:iam::123456789012:role/billing-reader"

CUSTOM_CONFIG = {
    "target": "https://events.example.com/billing",
    "listen": "0.0.0.0:9090",
    "pull_hour": 6,
    "pull_zone": "Europe/Berlin",
    "granularity": "MONTHLY",
    "group_by": [{"type": "DIMENSION", "key": "LINKED_ACCOUNT"}, {"type": "TAG", "key": "team"}],
    "metrics": ["UnblendedCost", "UsageQuantity"],
    "catch_up_days": 31,
    "restate_days": 3,
    "delivery": {"mode": "structured", "timeout": "30s", "concurrency": 2},
    "log": {"level": "debug", "format": "text"},
}
PROXY_ENV = [
    {"name": "HTTPS_PROXY", "value": "http://proxy.corp.example:3128"},
    {"name": "NO_PROXY", "value": ".svc,.cluster.local,169.254.169.254"},
]

# Each value set is written to a values file and passed with -f (merged into values.yaml).
VALUE_SETS = {
    "defaults": {},
    "chart-secret": {"aws": {"accessKeyId": "AKIAIOSFODNN7EXAMPLE",
                             "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                             "sessionToken": "FwoGZXIvYXdzEXAMPLETOKEN"}},
    "existing-secret": {"aws": {"existingSecret": "aws-billing-keys"}},
    "irsa": {"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": ROLE_ARN}}},
    "persistence": {"persistence": {"enabled": True, "storageClass": "gp3", "size": "1Gi"}},
    "persistence-existing-claim": {"persistence": {"enabled": True, "existingClaim": "billing-state"}},
    "service-monitor": {"serviceMonitor": {"enabled": True, "interval": "1m", "labels": {"release": "prometheus"}}},
    "proxy": {"extraEnv": PROXY_ENV},
    "proxy-values": {"proxy": {"url": "http://proxy.corp.example:3128", "noProxy": ".svc,10.0.0.0/8"}},
    "proxy-secret": {"proxy": {"existingSecret": "corp-proxy", "noProxy": ".svc"}},
    "custom-config": {"config": CUSTOM_CONFIG, "service": {"port": 9090}},
    "combined": {"aws": {"existingSecret": "aws-billing-keys"},
                 "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": ROLE_ARN}},
                 "persistence": {"enabled": True}, "serviceMonitor": {"enabled": True},
                 "extraEnv": PROXY_ENV, "config": CUSTOM_CONFIG, "service": {"port": 9090},
                 "podAnnotations": {"example.com/team": "finops"}},
}

# Kinds each value set renders.
BASE_KINDS = {"ServiceAccount", "ConfigMap", "Service", "Deployment"}
EXPECTED_KINDS = {
    "defaults": BASE_KINDS,
    "chart-secret": BASE_KINDS | {"Secret"},
    "existing-secret": BASE_KINDS,
    "irsa": BASE_KINDS,
    "persistence": BASE_KINDS | {"PersistentVolumeClaim"},
    "persistence-existing-claim": BASE_KINDS,
    "service-monitor": BASE_KINDS | {"ServiceMonitor"},
    "proxy": BASE_KINDS,
    "proxy-values": BASE_KINDS,
    "proxy-secret": BASE_KINDS,
    "custom-config": BASE_KINDS,
    "combined": BASE_KINDS | {"PersistentVolumeClaim", "ServiceMonitor"},
}


def merged(base, override):
    """values.yaml with a value set over it, as helm merges them (maps deep, anything else replaced)."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def helm_binary():
    """helm: $SAB_HELM, else the one .ci/setup-helm.sh puts into .cache/helm/bin, else PATH."""
    for candidate in (os.environ.get("SAB_HELM"), source_path(".cache", "helm", "bin", "helm"),
                      shutil.which("helm")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    require(False, "helm (installed by .ci/setup-helm.sh into .cache/helm/bin)")


def service_binary():
    """The built service: $SAB_BINARY (ctest sets it), else build/source-aws-billing."""
    for candidate in (BINARY, source_path("build", "source-aws-billing")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    require(False, "the built binary (SAB_BINARY, or build/source-aws-billing)")


class Helm:
    """Runs helm with cache, config and data directories of its own: nothing of the user's is read
    or written, and no cluster is contacted."""

    def __init__(self, home):
        self.binary = helm_binary()
        self.chart = source_path(*CHART)
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
        self.env.update(HELM_CACHE_HOME=os.path.join(home, "cache"), HELM_CONFIG_HOME=os.path.join(home, "config"),
                        HELM_DATA_HOME=os.path.join(home, "data"), KUBECONFIG=os.path.join(home, "kubeconfig"))

    def run(self, *args):
        return subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=120, env=self.env)

    def values_file(self, name, values):
        path = os.path.join(self.home, f"values-{name}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(values, f, sort_keys=False)
        return path

    def template(self, *args):
        """(completed process, rendered objects)"""
        r = self.run("template", RELEASE, self.chart, *args)
        return r, [d for d in yaml.safe_load_all(r.stdout) if d] if r.returncode == 0 else []

    def render(self, name, values):
        r, docs = self.template("-f", self.values_file(name, values))
        assert r.returncode == 0, f"helm template ({name}) failed: {r.stderr}"
        return r.stdout, docs


def validate(text):
    """tests/package/validate.mjs on a YAML text: its JSON report (one entry per object)."""
    node = shutil.which("node")
    require(node, "node (.ci/setup.sh installs nodejs)")
    directory = source_path(*VALIDATOR)
    require(os.path.isfile(os.path.join(directory, "node_modules", "kubernetes-models", "package.json")),
            "the validator's packages (`bash .ci/setup-helm.sh` runs npm ci in tests/package)")
    r = subprocess.run([node, os.path.join(directory, "validate.mjs"), "--json"], input=text, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode in (0, 1), f"validate.mjs failed ({r.returncode}): {r.stderr}"
    report = json.loads(r.stdout)
    assert (r.returncode == 1) == any(entry["errors"] for entry in report), r.stdout
    return report


def by_kind(docs):
    result = {}
    for d in docs:
        assert d["kind"] not in result, f"two objects of kind {d['kind']}"
        result[d["kind"]] = d
    return result


def pod_spec(docs):
    return by_kind(docs)["Deployment"]["spec"]["template"]["spec"]


def container(docs):
    containers = pod_spec(docs)["containers"]
    assert len(containers) == 1, containers
    return containers[0]


def env_of(docs):
    return {e["name"]: e for e in container(docs).get("env", [])}


HELM = None
HOME = None
DEFAULT_VALUES = None
RENDERED = {}  # value set name -> (helm's output text, rendered objects)


def setUpModule():
    global HELM, HOME, DEFAULT_VALUES
    HOME = tempfile.mkdtemp(prefix="sab-helm-")
    HELM = Helm(HOME)
    DEFAULT_VALUES = yaml.safe_load(read(*CHART, "values.yaml"))
    for name, values in VALUE_SETS.items():
        RENDERED[name] = HELM.render(name, values)


def tearDownModule():
    if HOME:
        shutil.rmtree(HOME, ignore_errors=True)


class Render(unittest.TestCase):
    """helm itself: lint and render each value set."""

    def test_lint_strict_with_every_value_set(self):
        for name, values in VALUE_SETS.items():
            with self.subTest(values=name):
                r = HELM.run("lint", "--strict", HELM.chart, "-f", HELM.values_file(name, values))
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("0 chart(s) failed", r.stdout)

    def test_every_value_set_renders_its_kinds(self):
        for name, (_, docs) in RENDERED.items():
            with self.subTest(values=name):
                kinds = [d["kind"] for d in docs]
                self.assertEqual(sorted(kinds), sorted(EXPECTED_KINDS[name]))
                fullname = f"{RELEASE}-source-aws-billing"
                for d in docs:
                    self.assertEqual(d["metadata"]["name"], fullname, d["kind"])
                    self.assertEqual(d["metadata"]["labels"]["app.kubernetes.io/instance"], RELEASE)

    def test_template_with_the_defaults(self):
        docs = by_kind(RENDERED["defaults"][1])
        c = container(RENDERED["defaults"][1])
        port = int(DEFAULT_VALUES["config"]["listen"].rsplit(":", 1)[1])
        self.assertEqual(c["ports"], [{"name": "http", "containerPort": port, "protocol": "TCP"}])
        self.assertEqual(docs["Service"]["spec"]["ports"][0]["port"], DEFAULT_VALUES["service"]["port"])
        self.assertEqual(c["resources"], DEFAULT_VALUES["resources"])
        self.assertEqual(c["image"], f"source-aws-billing:{yaml.safe_load(read(*CHART, 'Chart.yaml'))['appVersion']}")
        self.assertEqual(yaml.safe_load(docs["ConfigMap"]["data"]["config.yml"]), DEFAULT_VALUES["config"])
        # No keys configured: no AWS variables (the pod uses its role, or /readyz says what is missing).
        self.assertFalse([n for n in env_of(RENDERED["defaults"][1]) if n.startswith("AWS_")])

    def test_a_fixed_ipv6_listen_port_renders(self):
        r, docs = HELM.template("--set", "config.listen=[::]:9090")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(container(docs)["ports"][0]["containerPort"], 9090)

    def test_bad_values_fail_naming_the_value(self):
        cases = [
            # (--set argument, text the error must contain)
            ("config.listen=:0", 'config.listen ":0": port 0 is not allowed'),
            ("config.listen=0.0.0.0:0", 'config.listen "0.0.0.0:0": port 0 is not allowed'),
            ("config.listen=0.0.0.0:-1", 'config.listen "0.0.0.0:-1": the port must be a number 1-65535'),
            ("config.listen=0.0.0.0:http", 'config.listen "0.0.0.0:http": the port must be a number 1-65535'),
            ("config.listen=0.0.0.0:70000", 'config.listen "0.0.0.0:70000": port 70000 is not allowed'),
            ("service.port=-1", 'service.port "-1": must be a number 1-65535'),
            ("service.port=http", 'service.port "http": must be a number 1-65535'),
            ("service.port=0", "service.port 0: must be a number 1-65535"),
            ("service.port=65536", "service.port 65536: must be a number 1-65535"),
            ("aws.accessKeyId=AKIAIOSFODNN7EXAMPLE", "aws.secretAccessKey is required with aws.accessKeyId"),
        ]
        for argument, message in cases:
            with self.subTest(set=argument):
                r, _ = HELM.template("--set", argument)
                self.assertNotEqual(r.returncode, 0, r.stdout[:2000])
                self.assertIn(message, r.stderr)
        r, _ = HELM.template("--set", "config.listen=:0")
        self.assertIn("probes and its Service", r.stderr)


class Schemas(unittest.TestCase):
    """Every rendered object, and the plain manifest, against the Kubernetes API schemas."""

    def assert_valid(self, text, docs):
        report = validate(text)
        self.assertEqual([(e["kind"], e["name"]) for e in report],
                         [(d["kind"], d["metadata"]["name"]) for d in docs], "every object validated")
        problems = [f"{e['kind']}/{e['name']}: {err}" for e in report for err in e["errors"]]
        self.assertEqual(problems, [])

    def test_every_rendered_object_of_every_value_set(self):
        # One validator run for all value sets (loading the schemas is most of its time).
        report = validate("\n---\n".join(text for text, _ in RENDERED.values()))
        self.assertEqual(len(report), sum(len(docs) for _, docs in RENDERED.values()), "every object validated")
        start = 0
        for name, (_, docs) in RENDERED.items():
            with self.subTest(values=name):
                entries = report[start:start + len(docs)]
                start += len(docs)
                self.assertEqual([(e["kind"], e["name"]) for e in entries],
                                 [(d["kind"], d["metadata"]["name"]) for d in docs])
                self.assertEqual([f"{e['kind']}/{e['name']}: {err}" for e in entries for err in e["errors"]], [])

    def test_the_plain_manifest(self):
        text = read("helm", "manifest.yaml")
        docs = [d for d in yaml.safe_load_all(text) if d]
        self.assertEqual(sorted(d["kind"] for d in docs),
                         ["ConfigMap", "Deployment", "PersistentVolumeClaim", "Secret", "Service"])
        self.assert_valid(text, docs)

    def test_the_validator_rejects_what_a_cluster_would(self):
        # A validator that passes everything would pass the chart too: each broken copy of the
        # rendered Deployment (and a ServiceMonitor, and a kind without a schema) must fail.
        docs = RENDERED["service-monitor"][1]
        deployment, monitor = by_kind(docs)["Deployment"], by_kind(docs)["ServiceMonitor"]

        def broken(doc, change):
            d = copy.deepcopy(doc)
            change(d)
            return d

        def c(d):
            return d["spec"]["template"]["spec"]["containers"][0]

        cases = {
            "replicas as a string": broken(deployment, lambda d: d["spec"].__setitem__("replicas", "1")),
            "strategy not an enum value": broken(deployment, lambda d: d["spec"]["strategy"].__setitem__("type", "Sideways")),
            "memory not a quantity": broken(deployment, lambda d: c(d)["resources"]["limits"].__setitem__("memory", "384 MB")),
            "unknown securityContext field": broken(deployment, lambda d: c(d)["securityContext"].__setitem__("runAsUsr", 1)),
            "unknown secretKeyRef field": broken(deployment, lambda d: c(d)["env"].append(
                {"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optinal": True}}})),
            "container without a name": broken(deployment, lambda d: c(d).pop("name")),
            "probe port not a string or number": broken(
                deployment, lambda d: c(d)["livenessProbe"]["httpGet"].__setitem__("port", [8080])),
            "ServiceMonitor unknown endpoint field": broken(
                monitor, lambda d: d["spec"]["endpoints"][0].__setitem__("pth", "/metrics")),
            "ServiceMonitor bad interval": broken(
                monitor, lambda d: d["spec"]["endpoints"][0].__setitem__("interval", "thirty seconds")),
            "a kind without a schema": {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
        }
        report = validate(yaml.safe_dump_all(cases.values()))
        self.assertEqual(len(report), len(cases))
        for (name, _), entry in zip(cases.items(), report):
            with self.subTest(case=name):
                self.assertTrue(entry["errors"], f"{name}: not rejected")
        # And an unchanged copy passes (the JSON form too).
        self.assertEqual(validate(json.dumps(deployment))[0]["errors"], [])


class RenderedObjects(unittest.TestCase):
    """What the pod gets, read from the rendered objects of every value set."""

    def test_config_is_mounted_where_the_image_reads_it(self):
        config_path = ship.default_config_path()  # the binary's default
        image_env = ship.env_of(ship.dockerfile_stages(read("docker", "Dockerfile"))[-1])
        self.assertEqual(image_env["CONNECTOR_CONFIG"], config_path)
        self.assertEqual(config_path, "/vanus-connect/config/config.yml")
        config_dir, config_file = os.path.split(config_path)
        for name, (_, docs) in RENDERED.items():
            with self.subTest(values=name):
                kinds, spec, c = by_kind(docs), pod_spec(docs), container(docs)
                mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
                volumes = {v["name"]: v for v in spec["volumes"]}
                mount = mounts[config_dir]
                self.assertTrue(mount["readOnly"])
                self.assertNotIn("subPath", mount)
                volume = volumes[mount["name"]]["configMap"]
                self.assertEqual(volume["name"], kinds["ConfigMap"]["metadata"]["name"])
                self.assertNotIn("items", volume)  # each key is a file of its own name
                self.assertEqual(list(kinds["ConfigMap"]["data"]), [config_file])
                self.assertEqual(env_of(docs)["CONNECTOR_CONFIG"]["value"], config_path)
                config = yaml.safe_load(kinds["ConfigMap"]["data"][config_file])
                self.assertEqual(config, merged(DEFAULT_VALUES, VALUE_SETS[name])["config"])
                self.assertEqual(mounts[config["state_dir"]]["name"], "state")

    def test_one_replica_and_recreate(self):
        for name, (_, docs) in RENDERED.items():
            with self.subTest(values=name):
                spec = by_kind(docs)["Deployment"]["spec"]
                self.assertEqual(spec["replicas"], 1)
                self.assertEqual(spec["strategy"], {"type": "Recreate"})

    def test_checksum_config_follows_the_config(self):
        def checksum(*args):
            r, docs = HELM.template(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
            return by_kind(docs)["Deployment"]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

        default = checksum()
        self.assertRegex(default, r"^[0-9a-f]{64}$")
        self.assertEqual(checksum(), default, "the same config, the same checksum")
        self.assertEqual(checksum("--set", "image.tag=0.2.0", "--set", "service.type=NodePort"), default,
                         "values outside the config leave it alone")
        changed = {checksum("--set", "config.log.level=debug"), checksum("--set", "config.pull_hour=3"),
                   checksum("--set", "config.target=http://other.example/")}
        self.assertEqual(len(changed), 3)
        self.assertNotIn(default, changed)
        annotations = by_kind(RENDERED["custom-config"][1])["Deployment"]["spec"]["template"]["metadata"]["annotations"]
        self.assertNotEqual(annotations["checksum/config"], default)
        combined = by_kind(RENDERED["combined"][1])["Deployment"]["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(combined["example.com/team"], "finops")

    def test_probes_address_the_container_port(self):
        for name, (_, docs) in RENDERED.items():
            with self.subTest(values=name):
                c = container(docs)
                values = merged(DEFAULT_VALUES, VALUE_SETS[name])
                listen_port = int(values["config"]["listen"].rsplit(":", 1)[1])
                ports = {p["name"]: p["containerPort"] for p in c["ports"]}
                self.assertEqual(list(ports.values()), [listen_port])
                for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                    get = c[probe]["httpGet"]
                    self.assertEqual(get["path"], path)
                    port = get["port"]
                    self.assertEqual(ports[port] if isinstance(port, str) else port, listen_port, probe)
                service = by_kind(docs)["Service"]["spec"]
                self.assertEqual(service["ports"][0]["port"], values["service"]["port"])
                self.assertEqual(ports[service["ports"][0]["targetPort"]], listen_port)
                self.assertTrue(service["publishNotReadyAddresses"])
                labels = by_kind(docs)["Deployment"]["spec"]["template"]["metadata"]["labels"]
                self.assertLessEqual(service["selector"].items(), labels.items())

    def test_container_security_context(self):
        user = [rest for w, rest in ship.dockerfile_stages(read("docker", "Dockerfile"))[-1]["instructions"]
                if w == "USER"][-1]
        self.assertEqual(int(user.split(":")[0]), IMAGE_UID)
        for name, (_, docs) in RENDERED.items():
            with self.subTest(values=name):
                spec, sc = pod_spec(docs), container(docs)["securityContext"]
                self.assertIs(sc["runAsNonRoot"], True)
                self.assertEqual(sc["runAsUser"], IMAGE_UID)
                self.assertIs(sc["readOnlyRootFilesystem"], True)
                self.assertIs(sc["allowPrivilegeEscalation"], False)
                self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
                self.assertNotIn("privileged", sc)
                self.assertIs(spec["securityContext"]["runAsNonRoot"], True)
                self.assertEqual(spec["securityContext"]["runAsUser"], IMAGE_UID)
                self.assertEqual(spec["securityContext"]["fsGroup"], IMAGE_UID)
                self.assertEqual(spec["securityContext"]["seccompProfile"], {"type": "RuntimeDefault"})
                self.assertIs(spec["automountServiceAccountToken"], False)

    def assert_keys_from_secret(self, docs, secret_name):
        env = env_of(docs)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            ref = env[key]["valueFrom"]["secretKeyRef"]
            self.assertEqual(ref, {"name": secret_name, "key": key}, key)  # required, not optional
            self.assertNotIn("value", env[key])
        token = env["AWS_SESSION_TOKEN"]["valueFrom"]["secretKeyRef"]
        self.assertEqual(token, {"name": secret_name, "key": "AWS_SESSION_TOKEN", "optional": True})

    def test_the_chart_made_secret_reaches_the_env(self):
        docs = RENDERED["chart-secret"][1]
        aws = VALUE_SETS["chart-secret"]["aws"]
        secret = by_kind(docs)["Secret"]
        decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        self.assertEqual(decoded, {"AWS_ACCESS_KEY_ID": aws["accessKeyId"],
                                   "AWS_SECRET_ACCESS_KEY": aws["secretAccessKey"],
                                   "AWS_SESSION_TOKEN": aws["sessionToken"]})
        self.assert_keys_from_secret(docs, secret["metadata"]["name"])
        # The keys are nowhere else: not in the ConfigMap, not in the Deployment.
        text = yaml.safe_dump([d for d in docs if d["kind"] != "Secret"])
        for value in aws.values():
            self.assertNotIn(value, text)
        # A new key rolls the pod.
        annotations = by_kind(docs)["Deployment"]["spec"]["template"]["metadata"]["annotations"]
        other = merged(VALUE_SETS["chart-secret"], {"aws": {"secretAccessKey": "another"}})
        _, other_docs = HELM.render("chart-secret-other", other)
        self.assertNotEqual(by_kind(other_docs)["Deployment"]["spec"]["template"]["metadata"]["annotations"]
                            ["checksum/secret"], annotations["checksum/secret"])

    def test_an_existing_secret_reaches_the_env(self):
        for name in ("existing-secret", "combined"):
            with self.subTest(values=name):
                docs = RENDERED[name][1]
                self.assertNotIn("Secret", by_kind(docs))
                self.assert_keys_from_secret(docs, "aws-billing-keys")

    def test_irsa_role_on_the_service_account(self):
        for name in ("irsa", "combined"):
            with self.subTest(values=name):
                docs = RENDERED[name][1]
                account = by_kind(docs)["ServiceAccount"]
                self.assertEqual(account["metadata"]["annotations"], {"eks.amazonaws.com/role-arn": ROLE_ARN})
                self.assertEqual(pod_spec(docs)["serviceAccountName"], account["metadata"]["name"])
        docs = RENDERED["irsa"][1]
        self.assertFalse([n for n in env_of(docs) if n.startswith("AWS_")], "the role, not keys")

    def test_persistence(self):
        state = {name: {v["name"]: v for v in pod_spec(docs)["volumes"]}["state"]
                 for name, (_, docs) in RENDERED.items()}
        self.assertEqual(state["defaults"], {"name": "state", "emptyDir": {}})
        claim = by_kind(RENDERED["persistence"][1])["PersistentVolumeClaim"]
        self.assertEqual(state["persistence"]["persistentVolumeClaim"], {"claimName": claim["metadata"]["name"]})
        self.assertEqual(claim["spec"], {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                                         "resources": {"requests": {"storage": "1Gi"}}})
        self.assertEqual(claim["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")
        self.assertEqual(state["persistence-existing-claim"]["persistentVolumeClaim"], {"claimName": "billing-state"})
        for name, (_, docs) in RENDERED.items():
            with self.subTest(values=name):
                mounts = {m["name"]: m["mountPath"] for m in container(docs)["volumeMounts"]}
                self.assertEqual(mounts["state"], STATE_DIR)

    def test_service_monitor_scrapes_the_service(self):
        for name in ("service-monitor", "combined"):
            with self.subTest(values=name):
                kinds = by_kind(RENDERED[name][1])
                monitor, service = kinds["ServiceMonitor"], kinds["Service"]
                self.assertEqual(monitor["apiVersion"], "monitoring.coreos.com/v1")
                self.assertLessEqual(monitor["spec"]["selector"]["matchLabels"].items(),
                                     service["metadata"]["labels"].items())
                endpoint = monitor["spec"]["endpoints"][0]
                self.assertEqual(endpoint["port"], service["spec"]["ports"][0]["name"])
                self.assertEqual(endpoint["path"], "/metrics")
        monitor = by_kind(RENDERED["service-monitor"][1])["ServiceMonitor"]
        self.assertEqual(monitor["metadata"]["labels"]["release"], "prometheus")
        self.assertEqual(monitor["spec"]["endpoints"][0]["interval"], "1m")

    def test_proxy_variables_reach_the_env(self):
        for name in ("proxy", "combined"):
            with self.subTest(values=name):
                env = container(RENDERED[name][1])["env"]
                names = [e["name"] for e in env]
                self.assertEqual(len(names), len(set(names)), "each variable once")
                self.assertEqual(names[0], "CONNECTOR_CONFIG")
                self.assertEqual(env[-len(PROXY_ENV):], PROXY_ENV)

    def test_proxy_values_reach_the_env(self):
        env = {e["name"]: e for e in container(RENDERED["proxy-values"][1])["env"]}
        for name in ("HTTPS_PROXY", "HTTP_PROXY"):
            self.assertEqual(env[name]["value"], "http://proxy.corp.example:3128")
        self.assertEqual(env["NO_PROXY"]["value"], ".svc,10.0.0.0/8")
        # A proxy password stays in its Secret: both variables read the one key.
        env = {e["name"]: e for e in container(RENDERED["proxy-secret"][1])["env"]}
        for name in ("HTTPS_PROXY", "HTTP_PROXY"):
            self.assertEqual(env[name]["valueFrom"]["secretKeyRef"], {"name": "corp-proxy", "key": "HTTPS_PROXY"})
        self.assertEqual(env["NO_PROXY"]["value"], ".svc")
        self.assertNotIn("HTTPS_PROXY", [e["name"] for e in container(RENDERED["defaults"][1])["env"]])

    def test_custom_config_reaches_the_pod_and_passes_check_config(self):
        binary = service_binary()
        for name in ("defaults", "custom-config", "combined"):
            with self.subTest(values=name):
                text = by_kind(RENDERED[name][1])["ConfigMap"]["data"]["config.yml"]
                with tempfile.TemporaryDirectory() as tmp:
                    path = os.path.join(tmp, "config.yml")
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(text)
                    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTOR_"))}
                    r = subprocess.run([binary, "--config", path, "--check-config"], capture_output=True,
                                       text=True, timeout=30, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
        docs = RENDERED["custom-config"][1]
        self.assertEqual(container(docs)["ports"][0]["containerPort"], 9090)
        self.assertEqual(by_kind(docs)["Service"]["spec"]["ports"][0]["port"], 9090)


if __name__ == "__main__":
    main()
