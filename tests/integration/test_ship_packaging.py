"""The shipping files checked with the tools that read them, offline (no Docker engine, no cluster):

- docker/Dockerfile: the build stage installs the packages of .ci/setup.sh and builds without
  tests, then assembles the runtime root filesystem (the shared libraries from ldd, CA
  certificates, tzdata, the 65532 directories); the runtime stage is that alone on scratch and
  runs the binary once; CONNECTOR_CONFIG is the binary's default path; numeric non-root user;
  .dockerignore keeps the context small and the build stage's own cmake command configures in a
  copy of exactly that context (no .git), where the build argument SAB_GIT_COMMIT becomes the
  commit of `--version`.
- docker/compose.yaml: Debian's docker-compose validates it (each profile) and its resolved form
  wires the display sink, the config mount and the demo emulator; the mounted configs pass
  --check-config.
- helm/source-aws-billing: yamllint on Chart.yaml and values.yaml, every .Values path of the
  templates exists, every values key has a comment, mount path = the path the image reads,
  1 replica + Recreate; the config in values.yaml passes --check-config. The memory limit holds
  base + factor x max_response_bytes (measured factor). helm itself (lint, render, the Kubernetes
  schemas) runs in test_package_chart.py, in the `package` stage.
- helm/manifest.yaml: the corrected plain manifest, same checks.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from support import ship
from support.env import BINARY, main, require
from support.ship import read, source_path

CHART = ("helm", "source-aws-billing")
STATE_DIR = "/var/lib/source-aws-billing"
YAMLLINT_CONFIG = "{extends: default, rules: {line-length: {max: 110}}}"


def project_version():
    m = re.search(r"project\(source-aws-billing VERSION (\S+)", read("CMakeLists.txt"))
    return m.group(1)


def check_config(test, text, env=None):
    """Runs the binary's --check-config on a config text; asserts exit 0."""
    require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        run_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTOR_"))}
        run_env.update(env or {})
        r = subprocess.run([BINARY, "--config", path, "--check-config"], capture_output=True,
                           timeout=30, env=run_env)
        test.assertEqual(r.returncode, 0, r.stderr.decode())
        return r.stdout.decode()


def version_header_commit(build_dir):
    """kCommit of the version header a CMake configure generated (what `--version` prints)."""
    with open(os.path.join(build_dir, "generated", "common", "version.hpp"), encoding="utf-8") as f:
        m = re.search(r'kCommit\s*=\s*"([^"]*)"', f.read())
    assert m, "kCommit not found in the generated version header"
    return m.group(1)


def yamllint(test, *paths):
    tool = shutil.which("yamllint")
    require(tool, "yamllint (Debian package yamllint)")
    r = subprocess.run([tool, "--strict", "-f", "parsable", "-d", YAMLLINT_CONFIG, *paths],
                       capture_output=True, timeout=60)
    test.assertEqual(r.returncode, 0, (r.stdout + r.stderr).decode())


class Dockerfile(unittest.TestCase):
    def setUp(self):
        self.stages = ship.dockerfile_stages(read("docker", "Dockerfile"))
        self.build, self.runtime = self.stages[0], self.stages[-1]

    def test_stages(self):
        self.assertEqual(len(self.stages), 2)
        self.assertEqual(self.build["from"], "debian:12")
        # No shell, no package manager: only what the build stage assembled in /rootfs.
        self.assertEqual(self.runtime["from"], "scratch")

    def test_build_stage_installs_the_packages_of_the_setup_script(self):
        setup = ship.setup_packages()
        # The libraries (tests off: no doctest; no fuzzing: no libFuzzer runtime) and the tools of
        # .ci/setup.sh; g++ is what setup's build-essential brings for C++.
        test_only = {"doctest-dev", "libclang-rt-14-dev"}
        wanted = {p for p in setup if p.endswith("-dev") and p not in test_only} | {"cmake", "ninja-build"}
        self.assertLessEqual(wanted, set(setup))
        installed = set(ship.apt_packages(self.build))
        self.assertEqual(wanted - installed, set())
        self.assertIn("g++", installed)
        self.assertIn("build-essential", setup)

    def test_build_without_tests(self):
        runs = " ".join(rest for word, rest in self.build["instructions"] if word == "RUN")
        self.assertIn("-DSAB_BUILD_TESTS=OFF", runs)
        self.assertIn("-DSAB_BUILD_BENCH=OFF", runs)
        # SPEC: the image's state_dir default is its volume.
        self.assertIn(f"-DSAB_DEFAULT_STATE_DIR={STATE_DIR}", runs)
        self.assertIn("-G Ninja", runs)

    def test_runtime_root_filesystem_holds_every_shared_library(self):
        # The runtime stage installs no packages: the build stage copies what `ldd` lists for the
        # built binary (loader included, paths kept) into /rootfs, the runtime stage is that
        # directory on scratch and runs the binary there, so a missing library fails the build.
        builds = " ".join(rest for w, rest in self.build["instructions"] if w == "RUN")
        self.assertIn('''if ldd "$bin" | grep 'not found'; then exit 1; fi''', builds)
        self.assertIn('''for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do cp -L --parents "$lib" /rootfs; done''',
                      builds)
        for needed in ("usr/share/zoneinfo", "etc/ssl/certs/ca-certificates.crt", "/rootfs/etc/passwd",
                       "/rootfs/etc/group"):
            self.assertIn(needed, builds)
        self.assertLessEqual({"ca-certificates", "tzdata"}, set(ship.apt_packages(self.build)))
        self.assertEqual(ship.apt_packages(self.runtime), [])
        copies = [rest.split() for w, rest in self.runtime["instructions"] if w == "COPY"]
        self.assertEqual(copies, [["--from=build", "/rootfs/", "/"]])
        runs = [rest for w, rest in self.runtime["instructions"] if w == "RUN"]
        entry = [rest for w, rest in self.runtime["instructions"] if w == "ENTRYPOINT"][-1]
        binary = json.loads(entry)[0]
        self.assertIn(json.dumps([binary, "--version"]), runs, "exec form: there is no shell")
        # Every library the release binary links belongs to a Debian package the build stage
        # installs (a dependency of its -dev packages and g++), so ldd finds it there too.
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        require(shutil.which("ldd") and shutil.which("dpkg") and shutil.which("apt-cache"), "ldd, dpkg, apt-cache")
        ldd = subprocess.run(["ldd", BINARY], capture_output=True, text=True, timeout=30)
        self.assertEqual(ldd.returncode, 0, ldd.stderr)
        self.assertNotIn("not found", ldd.stdout)
        if re.search(r"\blibasan\.so", ldd.stdout):
            # The suite's second run (ASan + UBSan, -O0) links other libraries than the image's
            # release build does, so its ldd says nothing about the image.
            self.skipTest("skipped: the libraries are checked on the release build, not the sanitizer build")
        libraries = re.findall(r"=>\s+(/\S+)", ldd.stdout)
        self.assertGreater(len(libraries), 5)
        owners = set()
        for lib in libraries:
            owner = None
            real = os.path.realpath(lib)
            for candidate in (real, lib, "/usr" + real if not real.startswith("/usr/") else real[4:]):
                r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
                if r.returncode == 0:
                    owner = r.stdout.split(":")[0].strip()
                    break
            self.assertIsNotNone(owner, f"no Debian package owns {lib}")
            owners.add(owner)
        r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                            "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                            *ship.apt_packages(self.build)], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        installed = {line.strip() for line in r.stdout.splitlines() if line and not line.startswith(" ")}
        self.assertEqual(owners - installed, set(), "libraries whose package the build stage lacks")

    def test_every_named_package_exists_in_debian_12(self):
        for package in ship.apt_packages(self.build) + ship.apt_packages(self.runtime):
            installed = subprocess.run(["dpkg-query", "-W", package], capture_output=True).returncode == 0
            known = installed or subprocess.run(["apt-cache", "show", "--no-all-versions", package],
                                                capture_output=True).returncode == 0
            self.assertTrue(known, f"{package}: not a Debian package here")

    def test_runtime_settings(self):
        instructions = self.runtime["instructions"]
        words = [w for w, _ in instructions]
        env = ship.env_of(self.runtime)
        self.assertEqual(env.get("CONNECTOR_CONFIG"), ship.default_config_path())
        user = [rest for w, rest in instructions if w == "USER"][-1]
        uid, _, gid = user.partition(":")
        self.assertTrue(uid.isdigit() and int(uid) > 0, user)
        self.assertTrue(not gid or (gid.isdigit() and int(gid) > 0), user)
        all_words = [w for s in self.stages for w, _ in s["instructions"]]
        self.assertNotIn("HEALTHCHECK", all_words)
        self.assertIn(("EXPOSE", "8080"), instructions)
        self.assertIn(("WORKDIR", STATE_DIR), instructions)
        entry = [rest for w, rest in instructions if w == "ENTRYPOINT"][-1]
        self.assertTrue(entry.startswith("["), "exec form: SIGTERM reaches the service")
        # The directories are made in the build stage's /rootfs (the runtime stage has no shell).
        builds = " ".join(rest for w, rest in self.build["instructions"] if w == "RUN")
        config_dir = os.path.dirname(ship.default_config_path())
        self.assertIn(f"chown {uid}:{gid} /rootfs{config_dir} /rootfs{STATE_DIR}", builds)
        self.assertIn(f"chmod 0750 /rootfs{config_dir} /rootfs{STATE_DIR}", builds)
        self.assertIn(("VOLUME", f'["{STATE_DIR}"]'), instructions)
        self.assertIn("RUN", words)

    def test_commit_is_a_build_argument(self):
        # The context has no .git: `--version` names the commit only when the build passes it.
        instructions = self.build["instructions"]
        args = [rest for w, rest in instructions if w == "ARG"]
        self.assertIn("SAB_GIT_COMMIT=unknown", args)
        words = [f"{w} {rest}" for w, rest in instructions]
        declared = words.index("ARG SAB_GIT_COMMIT=unknown")
        # One configure passes the commit, after the ARG; the compile before the ARG does not
        # depend on it (a new commit with the same sources recompiles only the version's users).
        using = [i for i, w in enumerate(words) if "SAB_GIT_COMMIT}" in w]
        self.assertEqual(len(using), 1, words)
        self.assertLess(declared, using[0], "the ARG must be declared before the cmake RUN")
        self.assertTrue(words[using[0]].startswith("RUN cmake -S"), words[using[0]])
        self.assertIn("-DSAB_GIT_COMMIT=${SAB_GIT_COMMIT}", words[using[0]].split())
        self.assertTrue(all("SAB_GIT_COMMIT" not in w for w in words[:declared]))
        self.assertIn("--build-arg SAB_GIT_COMMIT=$(git rev-parse --short HEAD)", read("README.md"))

    def test_context_and_the_build_stage_cmake_configure(self):
        rules = ship.dockerignore_rules(read(".dockerignore"))
        files = []
        for root, dirs, names in os.walk(ship.SOURCE_DIR):
            dirs[:] = [d for d in dirs if d != ".git" and not d.startswith("build")]
            for name in names:
                rel = os.path.relpath(os.path.join(root, name), ship.SOURCE_DIR)
                files.append(rel.replace(os.sep, "/"))
        context = [f for f in files if not ship.dockerignore_excludes(rules, f)]
        self.assertIn("CMakeLists.txt", context)
        self.assertIn("src/main.cpp", context)
        for excluded in ("README.md", "tests/CMakeLists.txt", ".git/HEAD", "build/CMakeCache.txt",
                         "tests/receiver/node_modules/x", "state/state.json"):
            self.assertTrue(ship.dockerignore_excludes(rules, excluded), excluded)
        self.assertFalse(any(f.startswith(("tests/", "docs/", "helm/")) for f in context))

        copies = [rest.split() for w, rest in self.build["instructions"] if w == "COPY"]
        require(shutil.which("cmake") and shutil.which("ninja"), "cmake and ninja")
        with tempfile.TemporaryDirectory() as tmp:
            workdir = os.path.join(tmp, "src")
            os.makedirs(workdir)
            for args in copies:
                self.assertFalse(any(a.startswith("--from") for a in args))
                *sources, dest = args
                for src in sources:
                    src = src.rstrip("/")
                    chosen = [f for f in context if f == src or f.startswith(src + "/")]
                    self.assertTrue(chosen, f"COPY {src}: not in the build context")
                    for f in chosen:
                        if f != src:  # a directory: its contents go under dest
                            target = os.path.join(workdir, dest, os.path.relpath(f, src))
                        elif dest.endswith("/"):
                            target = os.path.join(workdir, dest, os.path.basename(f))
                        else:
                            target = os.path.join(workdir, dest)
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        shutil.copy2(source_path(f), target)
            self.assertFalse(os.path.exists(os.path.join(workdir, ".git")))
            runs = [rest for w, rest in self.build["instructions"] if w == "RUN"]
            configures = [m for run in runs for m in re.finditer(r"cmake -S \. -B (\S+) (.*?)\s*&&", run)]
            self.assertTrue(configures, runs)
            self.assertEqual({m.group(1) for m in configures}, {configures[0].group(1)}, "one build directory")
            # As `docker build --build-arg SAB_GIT_COMMIT=abc1234`: the stage's ARGs, substituted;
            # each configure command in order, on the same build directory.
            build_args = ship.dockerfile_args(self.build, {"SAB_GIT_COMMIT": "abc1234"})
            # No git repository above the copy either: the commit can come only from the argument.
            env = dict(os.environ, GIT_CEILING_DIRECTORIES=tmp)
            for m in configures:
                args = ship.dockerfile_substitute(m.group(2), build_args).replace("-G Ninja", "-GNinja").split()
                r = subprocess.run(["cmake", "-S", workdir, "-B", os.path.join(tmp, "build"), *args],
                                   capture_output=True, text=True, timeout=300, env=env)
                self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
            self.assertEqual(version_header_commit(os.path.join(tmp, "build")), "abc1234")
            self.assertTrue(os.path.exists(os.path.join(tmp, "build", "build.ninja")))
            with open(os.path.join(tmp, "build", "build.ninja"), encoding="utf-8") as f:
                ninja = f.read()
            self.assertIn("source-aws-billing", ninja)
            self.assertNotIn("unit_tests", ninja)
            with open(os.path.join(tmp, "build", "generated", "config", "defaults.hpp"), encoding="utf-8") as f:
                self.assertIn(f'"{STATE_DIR}"', f.read())
            # Without the argument (and without .git) the version says "unknown", never fails.
            r = subprocess.run(["cmake", "-S", workdir, "-B", os.path.join(tmp, "plain"), "-GNinja",
                                "-DSAB_BUILD_TESTS=OFF", "-DSAB_BUILD_BENCH=OFF"],
                               capture_output=True, text=True, timeout=300, env=env)
            self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
            self.assertEqual(version_header_commit(os.path.join(tmp, "plain")), "unknown")


class Compose(unittest.TestCase):
    FILE = ("docker", "compose.yaml")

    def setUp(self):
        self.tool = shutil.which("docker-compose")
        require(self.tool, "docker-compose (Debian package docker-compose)")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COMPOSE_", "DOCKER_"))}

    def compose(self, *args):
        return subprocess.run([self.tool, "-f", source_path(*self.FILE), *args], capture_output=True,
                              text=True, timeout=120, env=self.env, cwd=source_path("docker"))

    def test_config_validates_in_each_profile(self):
        for profiles in ([], ["--profile", "demo"], ["--profile", "aws"]):
            r = self.compose(*profiles, "config", "-q")
            self.assertEqual(r.returncode, 0, f"{profiles}: {r.stdout}{r.stderr}")

    def test_profiles(self):
        r = self.compose("--profile", "demo", "--profile", "aws", "config")
        self.assertEqual(r.returncode, 0, r.stderr)
        profiles = {name: s.get("profiles", []) for name, s in yaml.safe_load(r.stdout)["services"].items()}
        self.assertEqual(profiles, {"sink-display": [], "source-aws-billing": ["aws"],
                                    "cost-explorer": ["demo"], "seed-billing": ["demo"],
                                    "source-aws-billing-demo": ["demo"]})

    def test_proxy_environment_passes_through(self):
        self.env = dict(self.env, HTTPS_PROXY="http://proxy.corp.example:3128", NO_PROXY=".corp.example")
        r = self.compose("--profile", "aws", "config")
        self.assertEqual(r.returncode, 0, r.stderr)
        env = yaml.safe_load(r.stdout)["services"]["source-aws-billing"]["environment"]
        self.assertEqual(env["HTTPS_PROXY"], "http://proxy.corp.example:3128")
        # The sink next door is never sent to the corporate proxy.
        self.assertEqual(env["NO_PROXY"], "sink-display,.corp.example")

    def test_resolved_services(self):
        r = self.compose("--profile", "demo", "--profile", "aws", "config")
        self.assertEqual(r.returncode, 0, r.stderr)
        services = yaml.safe_load(r.stdout)["services"]
        self.assertEqual(services["sink-display"]["image"], "public.ecr.aws/vanus/connector/sink-display")
        config_dir = os.path.dirname(ship.default_config_path())
        for name in ("source-aws-billing", "source-aws-billing-demo"):
            s = services[name]
            with self.subTest(name):
                self.assertEqual(s["environment"]["CONNECTOR_TARGET"], "http://sink-display:8080")
                self.assertEqual(s["image"], f"source-aws-billing:{project_version()}")
                self.assertEqual(s["build"]["dockerfile"], "docker/Dockerfile")
                self.assertTrue(os.path.exists(os.path.join(s["build"]["context"], "docker", "Dockerfile")))
                self.assertTrue(s["read_only"])
                self.assertEqual(s["cap_drop"], ["ALL"])
                uid = s["user"].split(":")[0]
                self.assertTrue(uid.isdigit() and int(uid) > 0)
                mounts = {v.split(":")[1]: v.split(":")[0] for v in s["volumes"]}
                self.assertIn(ship.default_config_path(), mounts)
                self.assertTrue(mounts[ship.default_config_path()].startswith("/") and
                                os.path.dirname(ship.default_config_path()) == config_dir)
                self.assertIn(STATE_DIR, mounts)
                with open(mounts[ship.default_config_path()], encoding="utf-8") as f:
                    text = f.read()
                self.assertNotIn("secret_access_key", text)
                out = check_config(self, text, {"CONNECTOR_TARGET": s["environment"]["CONNECTOR_TARGET"]})
                self.assertIn("target: http://sink-display:8080", out)
        demo_config = check_config(self, read("docker", "config-demo.yml"))
        self.assertIn("endpoint: http://cost-explorer:5000", demo_config)
        self.assertEqual(services["cost-explorer"]["profiles"], ["demo"])
        seed = services["seed-billing"]
        self.assertEqual(seed["depends_on"]["cost-explorer"]["condition"], "service_healthy")
        self.assertEqual(services["source-aws-billing-demo"]["depends_on"]["seed-billing"]["condition"],
                         "service_completed_successfully")
        demo_mount = [v for v in seed["volumes"] if v.split(":")[1] == "/demo"][0].split(":")[0]
        self.assertTrue(os.path.exists(os.path.join(demo_mount, "seed_moto.py")))
        self.assertEqual(seed["entrypoint"][1], "/demo/seed_moto.py")
        emulator = os.path.join(services["cost-explorer"]["build"]["context"], "Dockerfile")
        self.assertTrue(os.path.exists(emulator))


class HelmChart(unittest.TestCase):
    def setUp(self):
        self.values_text = read(*CHART, "values.yaml")
        self.values = yaml.safe_load(self.values_text)
        tdir = source_path(*CHART, "templates")
        self.templates = {}
        for name in sorted(os.listdir(tdir)):
            with open(os.path.join(tdir, name), encoding="utf-8") as f:
                self.templates[name] = f.read()

    def test_yamllint(self):
        yamllint(self, source_path(*CHART, "Chart.yaml"), source_path(*CHART, "values.yaml"))

    def test_chart_metadata(self):
        chart = yaml.safe_load(read(*CHART, "Chart.yaml"))
        self.assertEqual(chart["apiVersion"], "v2")
        self.assertEqual(chart["name"], "source-aws-billing")
        self.assertEqual(chart["appVersion"], project_version())
        self.assertIn("NOTES.txt", self.templates)
        for kind in ("Deployment", "ConfigMap", "Secret", "ServiceAccount", "Service", "ServiceMonitor",
                     "PersistentVolumeClaim"):
            self.assertTrue(any(f"kind: {kind}\n" in t for t in self.templates.values()), kind)

    def test_every_values_path_used_exists(self):
        known = set(ship.yaml_key_paths(self.values))
        used = set()
        for name, text in self.templates.items():
            for path in re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text):
                used.add((name, path[1:]))
        self.assertGreater(len(used), 20)
        missing = sorted(f"{name}: .Values.{path}" for name, path in used if path not in known)
        self.assertEqual(missing, [])

    def test_every_values_key_has_a_comment(self):
        self.assertEqual(ship.uncommented_keys(self.values_text), [])

    def test_template_blocks_are_balanced(self):
        for name, text in self.templates.items():
            actions = re.findall(r"{{-?\s*(.*?)\s*-?}}", text, re.S)
            self.assertEqual(text.count("{{"), text.count("}}"), name)
            opened = sum(1 for a in actions if re.match(r"(if|with|range|define)\b", a))
            closed = sum(1 for a in actions if re.fullmatch(r"end", a))
            self.assertEqual(opened, closed, name)

    def test_deployment(self):
        d = self.templates["deployment.yaml"]
        self.assertRegex(d, r"\n  replicas: 1\n")
        self.assertRegex(d, r"\n  strategy:\n    type: Recreate\n")
        mounts = dict(re.findall(r"- name: (\S+)\n\s+mountPath: (\S+)", d))
        config_dir = os.path.dirname(ship.default_config_path())
        dockerfile_config = ship.env_of(ship.dockerfile_stages(read("docker", "Dockerfile"))[-1])
        self.assertEqual(mounts["config"], config_dir)
        self.assertEqual(os.path.dirname(dockerfile_config["CONNECTOR_CONFIG"]), config_dir)
        self.assertRegex(d, r"name: CONNECTOR_CONFIG\n\s+value: " + re.escape(ship.default_config_path()))
        self.assertIn("configMap:", d.split("- name: config\n", 2)[-1])
        self.assertEqual(mounts["state"], STATE_DIR)
        self.assertEqual(self.values["config"]["state_dir"], STATE_DIR)
        self.assertIn("checksum/config:", d)
        self.assertRegex(d, r"livenessProbe:\n\s+httpGet:\n\s+path: /healthz")
        self.assertRegex(d, r"readinessProbe:\n\s+httpGet:\n\s+path: /readyz")
        self.assertIn("{{- toYaml .Values.securityContext", d)
        self.assertIn("{{- toYaml .Values.podSecurityContext", d)
        self.assertIn("{{- toYaml .Values.resources", d)
        self.assertIn("configmap.yaml", d)
        self.assertIn("config.yml: |", self.templates["configmap.yaml"])

    def test_security_defaults(self):
        pod, container = self.values["podSecurityContext"], self.values["securityContext"]
        self.assertTrue(pod["runAsNonRoot"])
        self.assertGreater(pod["runAsUser"], 0)
        self.assertFalse(container["allowPrivilegeEscalation"])
        self.assertTrue(container["readOnlyRootFilesystem"])
        self.assertEqual(container["capabilities"]["drop"], ["ALL"])
        self.assertIn("memory", self.values["resources"]["limits"])

    def test_values_config_passes_check_config(self):
        text = yaml.safe_dump(self.values["config"], sort_keys=False)
        out = check_config(self, text)
        self.assertIn(f"state_dir: {self.values['config']['state_dir']}", out)
        port = self.values["config"]["listen"].rsplit(":", 1)[1]
        self.assertEqual(int(port), self.values["service"]["port"])


class MemoryBudget(unittest.TestCase):
    """The chart's memory limit holds a maximum-size Cost Explorer page with margin:
    limit >= base + factor x max_response_bytes (constants measured, see support/ship.py)."""

    def setUp(self):
        self.values = yaml.safe_load(read(*CHART, "values.yaml"))
        configured = self.values["config"].get("max_response_bytes")
        self.max_bytes = (ship.parse_size(configured) if configured is not None
                          else ship.default_max_response_bytes())

    def test_limit_covers_base_plus_factor_times_max_response_bytes(self):
        limit = ship.parse_quantity(self.values["resources"]["limits"]["memory"])
        need = ship.MEMORY_BASE_BYTES + ship.MEMORY_BYTES_PER_RESPONSE_BYTE * self.max_bytes
        self.assertGreaterEqual(limit, ship.MEMORY_HEADROOM * need,
                                f"limit {limit >> 20} MiB < {ship.MEMORY_HEADROOM} x {need / 2**20:.0f} MiB "
                                f"needed for max_response_bytes {self.max_bytes >> 20} MiB")

    def test_the_relation_is_documented_with_the_measured_constants(self):
        base, factor = ship.MEMORY_BASE_BYTES >> 20, ship.MEMORY_BYTES_PER_RESPONSE_BYTE
        relation = f"{base} MiB + {factor} x max_response_bytes"
        self.assertIn(relation, read(*CHART, "values.yaml"))
        self.assertIn(relation, read("README.md"))

    def test_request_equals_the_limit(self):
        # A request below the limit makes the pod an early victim of the node's OOM killer and of
        # eviction while it holds a large page: the memory it may need is reserved.
        request = ship.parse_quantity(self.values["resources"]["requests"]["memory"])
        limit = ship.parse_quantity(self.values["resources"]["limits"]["memory"])
        self.assertEqual(request, limit)

    def test_the_chart_and_the_binary_agree_on_max_response_bytes(self):
        # The chart passes max_response_bytes into the config: the same value as the binary's
        # default, so the limit documented for the default is the one that applies.
        self.assertEqual(ship.parse_size(self.values["config"]["max_response_bytes"]),
                         ship.default_max_response_bytes())

    def test_readme_config_table_shows_the_default(self):
        m = re.search(r"^\| `max_response_bytes` \| `([^`]+)` \|", read("README.md"), re.M)
        self.assertIsNotNone(m)
        self.assertEqual(ship.parse_size(m.group(1)), ship.default_max_response_bytes())


class PlainManifest(unittest.TestCase):
    def setUp(self):
        self.docs = {d["kind"]: d for d in yaml.safe_load_all(read("helm", "manifest.yaml")) if d}

    def test_yamllint(self):
        yamllint(self, source_path("helm", "manifest.yaml"))

    def test_corrected_deployment(self):
        d = self.docs["Deployment"]
        self.assertEqual(d["spec"]["replicas"], 1)
        self.assertEqual(d["spec"]["strategy"]["type"], "Recreate")
        pod = d["spec"]["template"]["spec"]
        container = pod["containers"][0]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        config_dir = os.path.dirname(ship.default_config_path())
        self.assertIn(config_dir, mounts)
        self.assertEqual(volumes[mounts[config_dir]]["configMap"]["name"], self.docs["ConfigMap"]["metadata"]["name"])
        self.assertIn(STATE_DIR, mounts)
        self.assertIn("persistentVolumeClaim", volumes[mounts[STATE_DIR]])
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertFalse(container["securityContext"]["allowPrivilegeEscalation"])
        self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
        self.assertEqual(container["securityContext"]["capabilities"]["drop"], ["ALL"])
        self.assertEqual(container["envFrom"][0]["secretRef"]["name"], self.docs["Secret"]["metadata"]["name"])
        self.assertEqual(set(self.docs["Secret"]["stringData"]), {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"})

    def test_memory_limit_covers_the_default_max_response_bytes(self):
        container = self.docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
        limit = ship.parse_quantity(container["resources"]["limits"]["memory"])
        config = yaml.safe_load(self.docs["ConfigMap"]["data"]["config.yml"])
        max_bytes = ship.parse_size(config.get("max_response_bytes", ship.default_max_response_bytes()))
        need = ship.MEMORY_BASE_BYTES + ship.MEMORY_BYTES_PER_RESPONSE_BYTE * max_bytes
        self.assertGreaterEqual(limit, ship.MEMORY_HEADROOM * need)

    def test_config_has_no_secrets_and_passes_check_config(self):
        text = self.docs["ConfigMap"]["data"]["config.yml"]
        self.assertNotIn("secret", text)
        out = check_config(self, text)
        self.assertIn(f"state_dir: {STATE_DIR}\n", out)


if __name__ == "__main__":
    main()
