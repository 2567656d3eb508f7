"""Debian's nginx as a peer, from a folder of its own (no system files), in the foreground, on a
port of 127.0.0.1: `start` with a whole configuration (the benchmarks' tuned one), `start_server`
with the tests' configuration around one server block."""
import os
import shutil
import subprocess

from .procs import wait_for_port

NGINX_CONF = """daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
  log_format lines '{log_format}';
  access_log {prefix}/access.log lines;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
{server}
  }}
}}
"""


def start(procs, prefix, conf, port, error_log="stderr", as_nobody=False, stderr=subprocess.DEVNULL,
          timeout=15.0):
    """nginx with the configuration text `conf` (written to <prefix>/nginx.conf; `daemon off;` in
    it) as a child of `procs`, once it listens on `port`. With as_nobody and when we are root, it
    runs unprivileged (uid/gid 65534); the folders above `prefix` must be searchable then."""
    os.makedirs(prefix, exist_ok=True)
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    cmd = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", prefix, "-c", path, "-e", error_log]
    if as_nobody and os.geteuid() == 0:
        os.chmod(prefix, 0o755)
        os.chown(prefix, 65534, 65534)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    proc = procs.start(cmd, stdout=subprocess.DEVNULL, stderr=stderr)
    wait_for_port(port, timeout=timeout, proc=proc)
    return proc


def start_server(procs, prefix, port, log_format, server):
    """nginx on 127.0.0.1:`port` in a new folder `prefix`: `server` is the body of its one server
    block (listen line included), `log_format` its access log line. Returns the path of the access
    log."""
    os.makedirs(prefix)
    conf = NGINX_CONF.format(prefix=prefix, log_format=log_format, server=server)
    start(procs, prefix, conf, port, error_log=os.path.join(prefix, "error.log"))
    return os.path.join(prefix, "access.log")
