"""The peers of the benchmarks, started from the integration tests' support package: Debian's
nginx answering 202 (the sink) and the Cost Explorer fake with pre-rendered pages."""
import contextlib
import os
import subprocess
import tempfile

import harness  # first: tests/integration on sys.path
from support import ce_fake, nginx
from support.procs import free_port, stop

HERE = os.path.dirname(os.path.abspath(__file__))


class Nginx:
    """Debian's nginx from a temp prefix on a free port, in the foreground, unprivileged (as
    nobody when we are root), answering 202 to every POST."""

    # bench/nginx.conf, not the tests' config: tuned for throughput (no access log, endless keep-alive; see its comments).

    def __init__(self, procs, tmp):
        self.prefix = os.path.join(tmp, "nginx")
        self.port = free_port()
        with open(os.path.join(HERE, "nginx.conf")) as f:
            conf = f.read().replace("@PREFIX@", self.prefix).replace("@PORT@", str(self.port))
        if os.geteuid() == 0:
            os.chmod(tmp, 0o755)
        self.proc = nginx.start(procs, self.prefix, conf, self.port, error_log="stderr", as_nobody=True,
                                stderr=subprocess.PIPE, timeout=60)
        self.url = f"http://127.0.0.1:{self.port}/"


@contextlib.contextmanager
def nginx_sink(h):
    """A fresh nginx for one benchmark of the run `h` (a harness.Harness), stopped after it."""
    n = Nginx(h.procs, tempfile.mkdtemp(dir=h.tmp))
    try:
        yield n
    finally:
        stop(n.proc)


class CeFake:
    """support/ce_fake.py --prerendered in a process of its own, with the periods of `days_list`
    days from harness.START rendered in memory before it listens."""

    # Pre-rendered, not computed: computed answers cost ~4 s of Python per 30-day catch-up (measured), 10x our 0.37 s.

    def __init__(self, h, days_list):
        size = h.size
        self.proc, self.url, self.info = ce_fake.start(
            h.procs, "--prerendered", "--services", str(size["services"]), "--accounts", str(size["accounts"]),
            "--start", harness.START.isoformat(), "--days", ",".join(map(str, days_list)),
            "--page-size", str(size["page_size"]), log=os.path.join(h.tmp, "ce_fake.log"))
        self.port = self.info["port"]

    def stats(self):
        return ce_fake.stats(self.url)


@contextlib.contextmanager
def cost_explorer(h, days_list):
    """The Cost Explorer fake for the run `h`, stopped after the block."""
    fake = CeFake(h, days_list)
    try:
        yield fake
    finally:
        stop(fake.proc)
