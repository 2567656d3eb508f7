#!/usr/bin/env python3
"""A chaos proxy for HTTP/1.1: sits between the service and a peer (the Cost Explorer fake or the
CloudEvents receiver) and, per request, with a fixed seed, passes it or injects a fault:

  drop      close the connection without an answer (the request never reaches the peer)
  delay     wait, then pass
  reset     answer with a TCP reset (SO_LINGER 0)
  truncate  pass to the peer, then send back only part of its answer and close (the peer acted:
            the client retries, which makes duplicates)
  5xx       answer 503 without passing
  429       answer 429 with Retry-After: 1 without passing

    chaos_proxy.py --listen PORT --upstream PORT --seed N --rate 0.2 [--stats-file F]
    prints {"port": n} on stdout once it listens (--listen 0, the default: a free port)
"""
import argparse
import asyncio
import json
import os
import random
import socket
import struct
import subprocess
import sys

FAULTS = ["drop", "delay", "reset", "truncate", "5xx", "429"]


async def read_message(reader):
    """One HTTP/1.1 message: (head bytes, body bytes), or None at EOF."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return head, await reader.readexactly(length)
    body = b""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        body += size_line + chunk
        if size == 0:
            return head, body


class Proxy:
    def __init__(self, upstream, seed, rate, faults):
        self.upstream = upstream
        self.random = random.Random(seed)
        self.rate = rate
        self.faults = faults
        self.stats = {"requests": 0, "passed": 0, **{f: 0 for f in FAULTS}}

    def choose(self):
        if self.random.random() >= self.rate:
            return "pass"
        return self.random.choice(self.faults)

    async def handle(self, reader, writer):
        up_reader = up_writer = None
        try:
            while True:
                try:
                    head, body = await read_message(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.stats["requests"] += 1
                fault = self.choose()
                self.stats["passed" if fault == "pass" else fault] += 1
                if fault == "drop":
                    return
                if fault == "reset":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if fault in ("5xx", "429"):
                    status = b"503 Service Unavailable" if fault == "5xx" else b"429 Too Many Requests"
                    extra = b"Retry-After: 1\r\n" if fault == "429" else b""
                    writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n" + extra + b"\r\n")
                    await writer.drain()
                    continue
                if fault == "delay":
                    await asyncio.sleep(self.random.uniform(0.05, 1.5))
                if up_writer is None:
                    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
                up_writer.write(head + body)
                await up_writer.drain()
                rhead, rbody = await read_message(up_reader)
                answer = rhead + rbody
                if fault == "truncate":
                    writer.write(answer[: self.random.randint(0, max(0, len(answer) - 1))])
                    await writer.drain()
                    return
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in rhead.lower():
                    return
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            return
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    try:
                        w.close()
                    except Exception:
                        pass


async def main_async(args):
    proxy = Proxy(args.upstream, args.seed, args.rate, args.faults.split(","))
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", args.listen)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)

    async def dump_stats():
        while True:
            await asyncio.sleep(0.2)
            if args.stats_file:
                with open(args.stats_file + ".tmp", "w") as f:
                    json.dump(proxy.stats, f)
                os.replace(args.stats_file + ".tmp", args.stats_file)

    await asyncio.gather(server.serve_forever(), dump_stats())


def start(procs, upstream, seed, rate, stats_file, faults=None):
    """This file as a child process of `procs` (a procs.Processes) in front of 127.0.0.1:`upstream`,
    writing its counts to `stats_file`; returns its port once it listens. `faults`: those it
    injects (default: all of FAULTS)."""
    proc = procs.start([sys.executable, os.path.abspath(__file__), "--upstream", str(upstream), "--seed",
                        str(seed), "--rate", str(rate), "--stats-file", stats_file,
                        "--faults", ",".join(faults or FAULTS)],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return json.loads(proc.stdout.readline())["port"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, default=0)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--stats-file", default=None)
    args = parser.parse_args()
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
