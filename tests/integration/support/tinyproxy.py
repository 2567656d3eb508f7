"""Debian's tinyproxy as the HTTP proxy peer: started on a free port with its own config (Basic
auth optional, every port allowed for CONNECT), its log read back to see what went through it."""
import os
import shutil
import subprocess

from .env import require
from .procs import free_port, wait_for_port


class Tinyproxy:
    def __init__(self, procs, directory, user=None, password=None):
        require(shutil.which("tinyproxy"), "tinyproxy (Debian package tinyproxy)")
        self.port = free_port()
        self.log_path = os.path.join(directory, "tinyproxy-%d.log" % self.port)
        conf = os.path.join(directory, "tinyproxy-%d.conf" % self.port)
        with open(conf, "w", encoding="utf-8") as f:
            # No ConnectPort line: CONNECT to any port (the tests' peers use free ports).
            f.write(f'Port {self.port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{self.log_path}"\n'
                    "LogLevel Info\nMaxClients 100\nAllow 127.0.0.1\nDisableViaHeader Yes\n")
            if user:
                f.write(f"BasicAuth {user} {password}\n")
        out = open(os.path.join(directory, "tinyproxy-%d.out" % self.port), "wb")
        proc = procs.start(["tinyproxy", "-d", "-c", conf], stdout=out, stderr=subprocess.STDOUT)
        out.close()
        wait_for_port(self.port, proc=proc)
        self.url = "http://127.0.0.1:%d" % self.port

    def url_with(self, user, password):
        return "http://%s:%s@127.0.0.1:%d" % (user, password, self.port)

    def requests(self):
        """The request lines the proxy logged ("CONNECT host:port HTTP/1.1", "POST http://...")."""
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return [line.split("): ", 1)[1].strip() for line in f if "]: Request (file descriptor" in line]
