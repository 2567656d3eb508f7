"""wrk's output (with --latency for the percentiles), parsed: requests, requests/s, p50 and p99 in
milliseconds, socket errors, answers other than 2xx or 3xx."""
import re


def parse(text):
    """wrk output -> {requests, requests_per_second, p50_ms, p99_ms, socket_errors, non_2xx};
    what it does not print is None (the rate, percentiles) or 0."""
    def ms(value):
        number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    out = {"socket_errors": 0, "non_2xx": 0}
    m = re.search(r"(\d+) requests in", text)
    out["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["requests_per_second"] = float(m.group(1)) if m else None
    for pct in ("50", "99"):
        m = re.search(rf"^\s*{pct}%\s+(\S+)", text, re.M)
        out[f"p{pct}_ms"] = round(ms(m.group(1)), 3) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non_2xx"] = int(m.group(1))
    return out
