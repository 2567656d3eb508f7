"""moto's server as the Cost Explorer (and IAM, STS) peer: started on a free port, optionally with
SigV4 verification after an IAM bootstrap, and seeded with GetCostAndUsage pages through
tests/demo/seed_moto.py (the demo's seeder, also a script of its own)."""
import datetime as dt
import json
import os
import subprocess
import sys

from .env import SOURCE_DIR, require_module
from .procs import free_port, wait_for_port

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "demo"))
import seed_moto  # noqa: E402

METRICS = seed_moto.METRICS
seed = seed_moto.seed


def start(procs, tmp, no_auth_actions=None):
    """moto's server on a free port; with no_auth_actions, SigV4/IAM checks start after that many
    requests. Its output goes to a file in `tmp` (a pipe nobody reads would block it)."""
    require_module("moto")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if no_auth_actions is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(no_auth_actions)
    log = open(os.path.join(tmp, "moto-%d.log" % port), "wb")
    proc = procs.start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                       env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    wait_for_port(port, timeout=60, proc=proc)
    return "http://127.0.0.1:%d" % port


def start_with_user(procs, tmp, actions=("ce:GetCostAndUsage",)):
    """moto with SigV4 verification after the IAM bootstrap (three unsigned calls) of a user
    allowed `actions`; returns (url, key id, secret)."""
    require_module("boto3")
    import boto3

    url = start(procs, tmp, no_auth_actions=3)
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="billing")
    key = iam.create_access_key(UserName="billing")["AccessKey"]
    iam.put_user_policy(UserName="billing", PolicyName="ce-read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
    return url, key["AccessKeyId"], key["SecretAccessKey"]


def group(service, amount, unit="USD"):
    return {"Keys": [service], "Metrics": {m: {"Amount": amount, "Unit": unit} for m in METRICS}}


def result_pages(days_groups, page_size, estimated=False):
    """[(date, [group...])] -> GetCostAndUsage pages with NextPageToken chaining."""
    rows = [(day, g) for day, groups in days_groups for g in groups]
    chunks = [rows[i:i + page_size] for i in range(0, len(rows), page_size)] or [[]]
    pages = []
    for index, chunk in enumerate(chunks):
        by_day = {}
        for day, g in chunk:
            by_day.setdefault(day, {"TimePeriod": {"Start": day.isoformat(),
                                                   "End": (day + dt.timedelta(days=1)).isoformat()},
                                    "Total": {}, "Groups": [], "Estimated": estimated})["Groups"].append(g)
        page = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
                "ResultsByTime": list(by_day.values()), "DimensionValueAttributes": []}
        if index + 1 < len(chunks):
            page["NextPageToken"] = f"token-{index + 2}"
        pages.append(page)
    return pages
