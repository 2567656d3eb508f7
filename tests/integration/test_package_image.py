"""The image, built and run for real with podman (there is no Docker engine on these machines).

setUpModule builds docker/Dockerfile from the repository root, as the README says, with
`--build-arg SAB_GIT_COMMIT=$(git rev-parse --short HEAD)` (podman's layer cache makes a rebuild
of unchanged sources take seconds). The containers then run with the security settings of the
resolved docker/compose.yaml (`docker-compose config`: read-only root filesystem, capabilities
dropped, no-new-privileges, the state volume's path), so compose and this test cannot drift:

- the image: at most 30 MB (printed), only the binary, its libraries, CA certificates, tzdata,
  passwd/group for 65532 and the two directories (no shell, no package manager); `--version`
  names the commit; the process runs as uid 65532 with no capabilities, no-new-privileges and a
  read-only root (from /proc of the host);
- `--once` (host network) against moto (SigV4 checked) and the Node CloudEvents receiver sends
  the same events (ids, subjects, data...) as the release binary for the same data;
- service mode with a named state volume: /healthz, /readyz, /metrics on a published port;
  `podman stop -t 10` while a Cost Explorer pull retries exits 0, in time; after a successful pull
  a new container on the same volume makes no Cost Explorer request (the counting fake);
- the original connector's command line, only the image name changed, under a pseudo-terminal
  (`-it`): it pulls, delivers and stops with Ctrl-C;
- a config file uid 65532 cannot read is refused with a message naming the file.

Needs .ci/setup-podman.sh (podman, runc, the local debian:12 base image and
.cache/podman/containers.conf), docker-compose, node with tests/receiver's packages, moto.
"""
import contextlib
import datetime as dt
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

import yaml

from support import ce_fake, moto, service, ship, sink
from support.env import BINARY, SOURCE_DIR, main, require
from support.procs import Processes, free_port

IMAGE = "localhost/source-aws-billing:package-test"
BASE_IMAGE = "docker.io/library/debian:12"
CONTAINERS_CONF = os.path.join(SOURCE_DIR, ".cache", "podman", "containers.conf")
CONFIG_DIR = "/vanus-connect/config"
MAX_IMAGE_BYTES = 30_000_000  # 30 MB, as `podman images` counts
BINARY_IN_IMAGE = "/usr/local/bin/source-aws-billing"

# Filled by setUpModule.
COMMIT = None
COMPOSE = None  # ship.compose_run_options of the service `source-aws-billing`
RUN_ENV = None


def podman(*args, timeout=120, check=True, **kwargs):
    r = subprocess.run(["podman", *args], env=kwargs.pop("env", RUN_ENV), capture_output=True, text=True,
                       timeout=timeout, **kwargs)
    if check and r.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {r.returncode}\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    return r


def resolved_compose():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COMPOSE_", "DOCKER_"))}
    r = subprocess.run(["docker-compose", "-f", os.path.join(SOURCE_DIR, "docker", "compose.yaml"),
                        "--profile", "aws", "--profile", "demo", "config"], capture_output=True, text=True,
                       timeout=120, env=env, cwd=os.path.join(SOURCE_DIR, "docker"))
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)["services"]


def setUpModule():
    global COMMIT, COMPOSE, RUN_ENV
    require(shutil.which("podman"), "podman (bash .ci/setup-podman.sh)")
    require(os.path.exists(CONTAINERS_CONF), "containers.conf of .ci/setup-podman.sh in .cache/podman")
    require(shutil.which("docker-compose"), "docker-compose (Debian package docker-compose)")
    require(shutil.which("git") and os.path.exists(os.path.join(SOURCE_DIR, ".git")), "git and the repository")
    require(shutil.which("script"), "script (Debian package bsdutils)")
    RUN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONTAINERS_", "CONNECTOR_"))}
    RUN_ENV["CONTAINERS_CONF"] = CONTAINERS_CONF
    require(podman("image", "exists", BASE_IMAGE, check=False).returncode == 0,
            f"the local base image {BASE_IMAGE} (bash .ci/setup-podman.sh)")

    services = resolved_compose()
    COMPOSE = ship.compose_run_options(services["source-aws-billing"])
    # The demo service runs the same image with the same settings.
    assert ship.compose_run_options(services["source-aws-billing-demo"])["options"] == COMPOSE["options"]

    COMMIT = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=SOURCE_DIR, capture_output=True,
                            text=True, check=True).stdout.strip()
    started = time.monotonic()
    with tempfile.TemporaryFile() as log:
        r = subprocess.run(["podman", "build", "-f", "docker/Dockerfile", "--build-arg",
                            f"SAB_GIT_COMMIT={COMMIT}", "-t", IMAGE, "."], cwd=SOURCE_DIR, env=RUN_ENV,
                           stdout=log, stderr=subprocess.STDOUT, timeout=1200)
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert r.returncode == 0, f"podman build failed (exit {r.returncode}):\n{output[-6000:]}"
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
    print(f"\nimage {IMAGE}: built in {time.monotonic() - started:.1f} s (commit {COMMIT}), "
          f"size {size} bytes = {size / 1e6:.1f} MB", flush=True)


def http_get(url, timeout=2.0):
    """(status, body) of a GET; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_http(url, timeout=30.0, want=None, container=None):
    """Waits until `url` answers (with status `want` when given); returns (status, body)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            last = http_get(url)
            if want is None or last[0] == want:
                return last
        time.sleep(0.2)
    logs = podman("logs", container, check=False).stderr[-3000:] if container else ""
    raise AssertionError(f"{url}: no {want or 'answer'} after {timeout}s (last: {last})\n{logs}")


def metric_sum(metrics_text, name, **labels):
    family = ship.metric_families(metrics_text).get(name, {"samples": []})
    return sum(v for sample, lbl, v in family["samples"]
               if sample == name and all(lbl.get(k) == want for k, want in labels.items()))


class Image(unittest.TestCase):
    """Containers, volumes and processes of a test, always removed."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sab-pkg-")
        self.procs = Processes()
        self.containers, self.volumes = [], []
        self.addCleanup(self.cleanup)

    def cleanup(self):
        for name in self.containers:
            podman("rm", "-f", "-v", "-t", "0", name, check=False)
        for name in self.volumes:
            podman("volume", "rm", "-f", name, check=False)
        self.procs.stop_all()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- helpers ---------------------------------------------------------------------------------
    def name(self, what):
        return f"sab-pkg-{what}-{uuid.uuid4().hex[:8]}"

    def volume(self):
        name = self.name("state")
        podman("volume", "create", name)
        self.volumes.append(name)
        return name

    def config_dir(self, text, mode=0o644):
        """A directory (0755) holding config.yml: mounted on /vanus-connect/config as the original."""
        directory = tempfile.mkdtemp(dir=self.tmp)
        os.chmod(directory, 0o755)
        os.chmod(self.tmp, 0o755)
        path = os.path.join(directory, "config.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)
        return directory

    def compose_options(self):
        return list(COMPOSE["options"])

    def start(self, config_dir, *options, args=(), env=None):
        """A detached container with compose's settings; returns its name."""
        name = self.name("svc")
        podman("run", "-d", "--name", name, *self.compose_options(), *options,
               "-v", f"{config_dir}:{CONFIG_DIR}:ro", IMAGE, *args, env=env or RUN_ENV)
        self.containers.append(name)
        return name

    def stop(self, name, grace=10):
        started = time.monotonic()
        r = podman("stop", "-t", str(grace), name, timeout=grace + 60, check=False)
        took = time.monotonic() - started
        state = json.loads(podman("inspect", "--format", "{{json .State}}", name).stdout)
        return r, took, state

    def aws_env(self, key_id, secret):
        env = dict(RUN_ENV, AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
        return env, ["-e", "AWS_ACCESS_KEY_ID", "-e", "AWS_SECRET_ACCESS_KEY"]

    def ce_fake(self):
        server = ce_fake.serve()
        self.addCleanup(server.close)
        return server.url, server.fake

    def fake_requests(self, fake):
        with fake.lock:
            return fake.stats["requests"]

    # ---- the image itself ------------------------------------------------------------------------
    def test_package_image_size_content_and_version(self):
        size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
        print(f"\nimage size: {size} bytes = {size / 1e6:.1f} MB (at most {MAX_IMAGE_BYTES / 1e6:.0f} MB)",
              flush=True)
        self.assertLessEqual(size, MAX_IMAGE_BYTES)

        r = podman("run", "--rm", "--network", "none", IMAGE, "--version")
        self.assertIn(f"({COMMIT})", r.stdout)

        config = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", IMAGE).stdout)
        self.assertEqual(config["User"], COMPOSE["user"])
        self.assertEqual(config["User"], "65532:65532")
        self.assertEqual(config["Entrypoint"], [BINARY_IN_IMAGE])
        self.assertIn("8080/tcp", config["ExposedPorts"])
        self.assertIn(f"CONNECTOR_CONFIG={ship.default_config_path()}", config["Env"])
        self.assertIn(COMPOSE["state_volume"], config["Volumes"])
        self.assertEqual(os.path.dirname(COMPOSE["config_target"]), CONFIG_DIR)

        # The files of the image (a container's filesystem, exported as tar).
        name = self.name("files")
        podman("create", "--name", name, IMAGE)
        self.containers.append(name)
        tar = subprocess.run(["podman", "export", name], env=RUN_ENV, capture_output=True, timeout=120, check=True)
        with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as t:
            members = {m.name.lstrip("./").rstrip("/"): m for m in t.getmembers()}
            passwd = t.extractfile(members["etc/passwd"]).read().decode()
            group = t.extractfile(members["etc/group"]).read().decode()
        for shell in ("bin/sh", "bin/bash", "usr/bin/sh", "usr/bin/dash", "usr/bin/apt-get", "usr/bin/dpkg"):
            self.assertNotIn(shell, members)
        self.assertFalse([n for n in members if n.startswith(("var/lib/dpkg", "var/lib/apt", "etc/apt"))])
        self.assertIn(BINARY_IN_IMAGE.lstrip("/"), members)
        self.assertIn("etc/ssl/certs/ca-certificates.crt", members)
        self.assertIn("usr/share/zoneinfo/Europe/Berlin", members)
        # Merged /usr as Debian's: the loader's path in the binary, /lib64/ld-linux-x86-64.so.2, resolves.
        self.assertEqual((members["lib64"].issym(), members["lib64"].linkname), (True, "usr/lib64"))
        self.assertIn("usr/lib64/ld-linux-x86-64.so.2", members)
        self.assertRegex(passwd, r"(?m)^nonroot:x:65532:65532:")
        self.assertRegex(group, r"(?m)^nonroot:x:65532:")
        for directory in (CONFIG_DIR, COMPOSE["state_volume"]):
            m = members[directory.lstrip("/")]
            self.assertTrue(m.isdir(), directory)
            self.assertEqual((m.uid, m.gid), (65532, 65532), directory)
            self.assertIn(stat.S_IMODE(m.mode), (0o700, 0o750), directory)
        # Every regular file: what the binary needs, nothing else.
        files = sorted(n for n, m in members.items() if m.isfile() and m.size > 0)
        unexpected = [n for n in files if not n.startswith(
            ("usr/lib/x86_64-linux-gnu/", "usr/lib64/", "usr/share/zoneinfo/", "etc/ssl/", "usr/local/bin/"))
            and n not in ("etc/passwd", "etc/group", "etc/nsswitch.conf")]
        self.assertEqual(unexpected, [])

        # tzdata is where the binary looks (pull_zone is resolved by --check-config).
        for zone, code in (("Europe/Berlin", 0), ("America/Argentina/Ushuaia", 0), ("Mars/Olympus_Mons", 2)):
            config = self.config_dir(f"target: http://127.0.0.1:9/\npull_zone: {zone}\n")
            r = podman("run", "--rm", "--network", "none", "-v", f"{config}:{CONFIG_DIR}:ro", IMAGE,
                       "--check-config", check=False)
            self.assertEqual(r.returncode, code, f"{zone}: {r.stdout}{r.stderr}")

        # No shell to run: the entrypoint can only be the binary.
        r = podman("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", IMAGE, "-c", "true",
                   check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_package_runs_as_65532_read_only_without_capabilities(self):
        # The settings come from the resolved compose file, not from this test.
        self.assertIn("--read-only", COMPOSE["options"])
        self.assertIn("ALL", COMPOSE["options"])
        self.assertTrue(any(o.startswith("no-new-privileges") for o in COMPOSE["options"]))
        config = self.config_dir("target: http://127.0.0.1:9/\nendpoint: http://127.0.0.1:9\nlisten: 127.0.0.1:0\n")
        env, env_options = self.aws_env("AKIAIMAGETEST", "image-test-secret")
        name = self.start(config, "--network", "none", *env_options, env=env)
        pid = int(podman("inspect", "--format", "{{.State.Pid}}", name).stdout.strip())
        self.assertGreater(pid, 0)
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            status = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            self.assertEqual(f.read().split(b"\0")[0].decode(), BINARY_IN_IMAGE)
        self.assertEqual(status["Uid"].split(), ["65532"] * 4)
        self.assertEqual(status["Gid"].split(), ["65532"] * 4)
        for caps in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(int(status[caps], 16), 0, caps)
        self.assertEqual(status["NoNewPrivs"].strip(), "1")
        with open(f"/proc/{pid}/mountinfo", encoding="utf-8") as f:
            root = [line.split() for line in f if line.split()[4] == "/"]
        self.assertEqual(len(root), 1)
        self.assertIn("ro", root[0][5].split(","), "the root filesystem is mounted read-only")
        r, took, state = self.stop(name)
        self.assertEqual((r.returncode, state["ExitCode"]), (0, 0), podman("logs", name).stderr[-2000:])

    # ---- the same events as the release binary ---------------------------------------------------
    def test_package_once_sends_the_events_the_release_binary_sends(self):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        url, key_id, secret = moto.start_with_user(self.procs, self.tmp)
        receiver = sink.Receiver(self.procs).start()
        today = service.utc_today()
        first, last = today - dt.timedelta(days=3), today - dt.timedelta(days=1)
        pages = moto.seed_moto.pages(moto.seed_moto.load_sample(), first, last, 7, today)
        moto.seed(url, pages)
        groups = sum(len(r["Groups"]) for p in pages for r in p["ResultsByTime"])
        self.assertGreater(len(pages), 2)
        once = ["--once", "--from", first.isoformat(), "--to", last.isoformat()]

        def events():
            got = receiver.received()
            self.assertEqual(got["errors"], [])
            return sorted(({k: v for k, v in e.items() if k not in ("time", "sdkTime")} for e in got["events"]),
                          key=lambda e: e["id"])

        # The release binary on the host.
        cfg = service.service_config(self.tmp, receiver.url, url)
        r = service.run_once(["--config", cfg, *once], service.aws_env(key_id, secret))
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-3000:])
        expected = events()
        self.assertEqual(len(expected), groups)
        receiver.control(reset=True)

        # The image, host network (moto and the receiver listen on the host's loopback); moto
        # answers the same request body with the same pages.
        config = self.config_dir(f"target: {receiver.url}\nendpoint: {url}\nlisten: 127.0.0.1:0\n")
        env, env_options = self.aws_env(key_id, secret)
        r = podman("run", "--rm", "--network", "host", *self.compose_options(), *env_options,
                   "-v", f"{config}:{CONFIG_DIR}:ro", IMAGE, *once, env=env, timeout=180, check=False)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        got = events()
        self.assertEqual(len(got), groups)
        self.assertEqual(got, expected)
        self.assertEqual(len({e["id"] for e in got}), groups)

    # ---- service mode ----------------------------------------------------------------------------
    def test_package_service_on_a_published_port_stops_in_time_while_a_pull_retries(self):
        port = free_port()
        # Cost Explorer unreachable: the start-up pull retries until the stop.
        config = self.config_dir("target: http://127.0.0.1:9/\nendpoint: http://127.0.0.1:9\n"
                                 "listen: 0.0.0.0:8080\nlog: {format: json, level: debug}\n")
        env, env_options = self.aws_env("AKIAIMAGETEST", "image-test-secret")
        volume = self.volume()
        name = self.start(config, "-p", f"127.0.0.1:{port}:8080", *env_options,
                          "-v", f"{volume}:{COMPOSE['state_volume']}", env=env)
        base = f"http://127.0.0.1:{port}"
        self.assertEqual(wait_http(f"{base}/healthz", want=200, container=name)[0], 200)
        status, body = http_get(f"{base}/readyz")
        self.assertIn(status, (200, 503), body)
        deadline = time.monotonic() + 30
        while True:
            status, metrics = http_get(f"{base}/metrics")
            self.assertEqual(status, 200)
            if metric_sum(metrics, "aws_billing_source_cost_explorer_requests_total") >= 2:
                break  # a request failed and was retried
            self.assertLess(time.monotonic(), deadline, metrics[-2000:])
            time.sleep(0.3)
        self.assertTrue(all(n.startswith("aws_billing_source_") for n in ship.metric_families(metrics)))
        self.assertIn("retrying", podman("logs", name).stderr)
        r, took, state = self.stop(name, grace=10)
        print(f"\npodman stop -t 10 during a retrying pull: {took:.2f} s, exit code {state['ExitCode']}", flush=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(state["ExitCode"], 0, podman("logs", name).stderr[-3000:])
        self.assertLess(took, 10, "stopped by SIGKILL after the grace period, not by SIGTERM")

    def test_package_restart_on_the_same_volume_makes_no_cost_explorer_request(self):
        ce_url, fake = self.ce_fake()
        receiver = sink.Receiver(self.procs).start()
        port = free_port()
        config = self.config_dir(f"target: {receiver.url}\nendpoint: {ce_url}\nlisten: 127.0.0.1:{port}\n")
        env, env_options = self.aws_env("AKIAIMAGETEST", "image-test-secret")
        volume = self.volume()
        options = ["--network", "host", *env_options, "-v", f"{volume}:{COMPOSE['state_volume']}"]
        base = f"http://127.0.0.1:{port}"

        first = self.start(config, *options, env=env)
        receiver.wait_for(len(fake.services), timeout=60)
        deadline = time.monotonic() + 30
        while metric_sum(http_get(f"{base}/metrics")[1], "aws_billing_source_pulls_total", result="success") < 1:
            self.assertLess(time.monotonic(), deadline, podman("logs", first).stderr[-3000:])
            time.sleep(0.2)
        self.assertEqual(wait_http(f"{base}/readyz", want=200, container=first)[0], 200)
        requests = self.fake_requests(fake)
        self.assertGreater(requests, 0)
        r, _, state = self.stop(first)
        self.assertEqual((r.returncode, state["ExitCode"]), (0, 0), podman("logs", first).stderr[-3000:])

        # The checkpoint is in the named volume, written by 65532.
        mountpoint = podman("volume", "inspect", "--format", "{{.Mountpoint}}", volume).stdout.strip()
        st = os.stat(mountpoint)
        self.assertEqual((st.st_uid, st.st_gid), (65532, 65532))
        with open(os.path.join(mountpoint, "state.json"), encoding="utf-8") as f:
            yesterday = (service.utc_today() - dt.timedelta(days=1)).isoformat()
            self.assertEqual(json.load(f)["checkpoint"], yesterday)

        second = self.start(config, *options, env=env)
        self.assertEqual(wait_http(f"{base}/readyz", want=200, container=second)[0], 200)
        time.sleep(2)
        metrics = http_get(f"{base}/metrics")[1]
        self.assertEqual(metric_sum(metrics, "aws_billing_source_cost_explorer_requests_total"), 0)
        self.assertEqual(self.fake_requests(fake), requests, "the restart asked Cost Explorer again")
        self.assertEqual(len(receiver.received()["events"]), len(fake.services))
        r, _, state = self.stop(second)
        self.assertEqual((r.returncode, state["ExitCode"]), (0, 0), podman("logs", second).stderr[-3000:])

    # ---- the original connector's command line -----------------------------------------------------
    def test_package_the_original_command_line(self):
        ce_url, fake = self.ce_fake()
        receiver = sink.Receiver(self.procs).start()
        port = free_port()
        # As the original: the keys in config.yml in the current directory (a world-readable
        # config with secrets is warned about, not refused).
        workdir = self.config_dir(f"target: {receiver.url}\nendpoint: {ce_url}\nsecret:\n"
                                  f"  access_key_id: AKIAIMAGETEST\n  secret_access_key: image-test-secret\n"
                                  f"listen: 127.0.0.1:{port}\nlog: {{format: text}}\n")
        image_id = podman("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()

        def ours():
            return set(podman("ps", "-aq", "--no-trunc", "--filter", f"ancestor={image_id}").stdout.split())

        before = ours()
        self.addCleanup(lambda: [podman("rm", "-f", "-v", "-t", "0", c, check=False) for c in ours() - before])
        # The README's command, verbatim but for the engine and the image name. `-it` needs a
        # terminal: `script` gives it one (its stdin is where Ctrl-C is typed).
        command = f"podman run -it --rm --network=host -v ${{PWD}}:/vanus-connect/config {IMAGE}"
        self.assertIn(command.replace("podman", "docker", 1).replace(IMAGE, "source-aws-billing:0.1.0"),
                      ship.read("README.md"))
        proc = self.procs.start(["script", "-qec", command, "/dev/null"], cwd=workdir, env=RUN_ENV,
                                stdin=subprocess.PIPE, stderr=subprocess.STDOUT)
        receiver.wait_for(len(fake.services), timeout=60)
        self.assertEqual(wait_http(f"http://127.0.0.1:{port}/healthz", want=200)[0], 200)
        self.assertEqual(len(ours() - before), 1)
        proc.stdin.write(b"\x03")  # Ctrl-C at the terminal
        proc.stdin.flush()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("the container did not stop on Ctrl-C")
        text = out.decode(errors="replace")
        self.assertEqual(proc.returncode, 0, text[-3000:])
        self.assertIn(f"commit={COMMIT}", text)
        self.assertIn("reason=SIGINT", text)
        self.assertEqual(ours() - before, set(), "--rm removes the container")

    # ---- a config uid 65532 cannot read ----------------------------------------------------------
    def unreadable_config_run(self):
        config = self.config_dir("target: http://127.0.0.1:9/\nendpoint: http://127.0.0.1:9\n", mode=0o600)
        self.assertEqual(os.stat(os.path.join(config, "config.yml")).st_uid, 0)
        r = podman("run", "--rm", "--network", "none", *self.compose_options(),
                   "-v", f"{config}:{CONFIG_DIR}", IMAGE, check=False, timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        return r.stderr

    def test_package_unreadable_config_is_refused_naming_the_file(self):
        message = self.unreadable_config_run()
        self.assertIn(f"config file '{ship.default_config_path()}': cannot be read", message)

    def test_package_unreadable_config_message_says_how_to_fix_it(self):
        # Why (permission denied) and what to do (the uid to make it readable for).
        message = self.unreadable_config_run()
        self.assertRegex(message, r"(?i)permission denied")
        self.assertIn("65532", message)


if __name__ == "__main__":
    main()
