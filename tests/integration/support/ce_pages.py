#!/usr/bin/env python3
"""Synthetic GetCostAndUsage pages, as Cost Explorer answers an organization's payer account.

Realistic service names (the SERVICE dimension values AWS uses, then AWS Marketplace products),
12-digit linked account ids with their names in DimensionValueAttributes, the five cost metrics
with amounts as strings the way CE writes them (up to 10 decimals, trailing zeros cut, "0",
small credits below zero), Estimated on the most recent days, and paged like AWS: a fixed number
of groups per page, a day split across two pages when it does not fit, an opaque NextPageToken.

    ce_pages.py --services 300 --accounts 10 --start 2024-01-01 --days 30 --page-size 5000 --out F
        writes one page per line (compact JSON) to F and prints a summary on stdout: the corpus of
        the benchmarks (bench_codec, bench_delivery and the Python baselines read it).

ce_fake.py --prerendered serves these pages. Everything is deterministic for a given (seed,
arguments): the same period gives the same bytes.
"""
import argparse
import base64
import datetime as dt
import hashlib
import json
import math
import random
import sys

METRICS = ["AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "UnblendedCost"]

# SERVICE dimension values as Cost Explorer names them.
AWS_SERVICES = [
    "Amazon Elastic Compute Cloud - Compute", "EC2 - Other", "Amazon Simple Storage Service",
    "Amazon Relational Database Service", "AWS Lambda", "Amazon CloudFront", "Amazon DynamoDB",
    "Amazon Virtual Private Cloud", "AmazonCloudWatch", "AWS Key Management Service",
    "Amazon Route 53", "AWS Cost Explorer", "CloudWatch Events", "Amazon Simple Queue Service",
    "AWS Secrets Manager", "Amazon Elastic Container Service for Kubernetes", "AWS Glue",
    "Amazon Elastic Load Balancing", "Amazon ElastiCache", "Amazon Elastic Container Service",
    "Amazon EC2 Container Registry (ECR)", "Amazon Simple Notification Service", "AWS Config",
    "AWS CloudTrail", "Amazon API Gateway", "Amazon Kinesis", "Amazon Kinesis Firehose",
    "Amazon Redshift", "Amazon OpenSearch Service", "Amazon Athena", "AWS Step Functions",
    "Amazon Elastic File System", "AWS Backup", "Amazon GuardDuty", "AWS Security Hub",
    "Amazon Inspector", "AWS WAF", "AWS Shield", "Amazon Cognito", "AWS Certificate Manager",
    "AWS Systems Manager", "AWS CloudFormation", "AWS CodeBuild", "AWS CodePipeline",
    "AWS CodeCommit", "AWS CodeArtifact", "Amazon SageMaker", "Amazon Bedrock",
    "Amazon Comprehend", "Amazon Rekognition", "Amazon Textract", "Amazon Translate",
    "Amazon Polly", "Amazon Transcribe", "Amazon Lex", "Amazon Personalize", "Amazon Forecast",
    "Amazon Kendra", "Amazon QuickSight", "AWS Lake Formation", "Amazon EMR",
    "Amazon Managed Streaming for Apache Kafka", "Amazon MQ", "Amazon Simple Email Service",
    "Amazon Pinpoint", "Amazon Connect", "Amazon WorkSpaces", "Amazon WorkDocs", "Amazon WorkMail",
    "AWS Directory Service", "AWS Transfer Family", "AWS DataSync", "AWS Storage Gateway",
    "Amazon FSx", "Amazon S3 Glacier", "AWS Elemental MediaConvert", "AWS Elemental MediaLive",
    "Amazon Interactive Video Service", "AWS AppSync", "AWS Amplify", "Amazon Location Service",
    "AWS IoT", "AWS IoT Analytics", "AWS IoT Greengrass", "Amazon Timestream", "Amazon Neptune",
    "Amazon DocumentDB (with MongoDB compatibility)", "Amazon Keyspaces (for Apache Cassandra)",
    "Amazon MemoryDB", "Amazon Aurora", "AWS Database Migration Service",
    "AWS Application Migration Service", "AWS Glue DataBrew", "Amazon Managed Workflows for Apache Airflow",
    "Amazon Managed Service for Prometheus", "Amazon Managed Grafana", "AWS X-Ray",
    "Amazon Detective", "Amazon Macie", "AWS Firewall Manager", "AWS Network Firewall",
    "AWS Global Accelerator", "AWS Direct Connect", "AWS Transit Gateway", "Amazon Lightsail",
    "AWS Batch", "AWS App Runner", "AWS Elastic Beanstalk", "AWS Fargate", "Amazon AppStream",
    "AWS Device Farm", "AWS Support (Business)", "AWS Support (Enterprise)", "AWS Premium Support",
    "AWS Marketplace", "Savings Plans for AWS Compute usage", "AWS Organizations",
    "AWS Service Catalog", "AWS Resource Access Manager", "AWS Cloud Map", "AWS App Mesh",
    "AWS Health", "AWS Trusted Advisor", "AWS Budgets", "AWS Billing Conductor",
    "Amazon CloudSearch", "Amazon Simple Workflow Service", "Amazon SimpleDB",
    "Amazon Elastic Transcoder", "AWS Elemental MediaStore", "AWS Elemental MediaPackage",
    "Amazon Chime", "AWS Wickr", "Amazon Braket", "AWS RoboMaker", "AWS Ground Station",
    "Amazon HealthLake", "AWS HealthOmics", "Amazon Fraud Detector", "Amazon Lookout for Metrics",
    "Amazon CodeGuru", "Amazon DevOps Guru", "AWS Proton", "AWS Cloud9", "Amazon CodeCatalyst",
    "AWS Fault Injection Simulator", "AWS Resilience Hub", "AWS Audit Manager",
    "AWS IAM Access Analyzer", "AWS Private Certificate Authority", "AWS CloudHSM",
    "Amazon Verified Permissions", "AWS Verified Access", "AWS Clean Rooms", "AWS Data Exchange",
    "Amazon DataZone", "AWS Entity Resolution", "Amazon Q", "Amazon GameLift",
    "Amazon Elastic Block Store", "Amazon Elastic MapReduce", "Amazon Registrar", "Tax",
]

MARKETPLACE_VENDORS = ["Datadog", "Snowflake", "Splunk", "MongoDB", "Confluent", "Elastic",
                       "HashiCorp", "GitLab", "New Relic", "Palo Alto Networks", "Fortinet",
                       "CrowdStrike", "Trend Micro", "Databricks", "Redis", "Couchbase",
                       "Sumo Logic", "Grafana Labs", "Okta", "Check Point", "F5", "Barracuda",
                       "Cloudflare", "Sysdig", "Aqua Security", "Wiz", "JFrog", "Atlassian",
                       "Tableau", "Zscaler"]
MARKETPLACE_PRODUCTS = ["Pro", "Enterprise", "Cloud", "Platform (Pay-As-You-Go)", "Firewall",
                        "Observability Suite", "Security Bundle", "Data Cloud - Standard",
                        "Business Edition", "Premium Support"]

ACCOUNT_NAMES = ["payer", "prod-payments", "prod-web", "prod-data", "staging", "dev", "sandbox",
                 "security-audit", "log-archive", "shared-services", "network", "ml-platform",
                 "analytics", "ci", "backup"]


def service_names(count):
    names = list(AWS_SERVICES[:count])
    i = 0
    while len(names) < count:
        vendor = MARKETPLACE_VENDORS[i % len(MARKETPLACE_VENDORS)]
        product = MARKETPLACE_PRODUCTS[(i // len(MARKETPLACE_VENDORS)) % len(MARKETPLACE_PRODUCTS)]
        suffix = i // (len(MARKETPLACE_VENDORS) * len(MARKETPLACE_PRODUCTS))
        name = f"{vendor} {product}" + (f" {suffix + 1}" if suffix else "")
        names.append(name)
        i += 1
    return names


def account_ids(count, seed=7):
    rng = random.Random(seed)
    ids = set()
    out = []
    while len(out) < count:
        a = f"{rng.randrange(10**11, 10**12):012d}"
        if a not in ids:
            ids.add(a)
            out.append(a)
    return out


def format_amount(x):
    """CE writes amounts as decimal strings, up to 10 decimals, trailing zeros cut: "13.5",
    "0.0009189721", "0"."""
    if x == 0:
        return "0"
    text = f"{x:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class Generator:
    """Groups of (SERVICE, LINKED_ACCOUNT) per day with stable per-group cost levels."""

    def __init__(self, services=300, accounts=10, seed=1, metrics=METRICS):
        self.services = service_names(services)
        self.accounts = account_ids(accounts) if accounts else []
        self.metrics = list(metrics)
        rng = random.Random(seed)
        self.seed = seed
        # Costs follow a long tail: a few services cost most, many cost fractions of a cent.
        self.level = [math.exp(rng.gauss(-2.0, 3.0)) for _ in self.services]
        self.acct_weight = [math.exp(rng.gauss(0.0, 1.0)) for _ in (self.accounts or [None])]
        svc_json = [json.dumps(s) for s in self.services]
        acct_json = [json.dumps(a) for a in self.accounts]
        metric_heads = [json.dumps(m) + ':{"Amount":"' for m in self.metrics]
        self.metric_heads = metric_heads
        if self.accounts:
            self.keys = [(i, j, f'{{"Keys":[{svc_json[i]},{acct_json[j]}],"Metrics":{{')
                         for i in range(len(self.services)) for j in range(len(self.accounts))]
        else:
            self.keys = [(i, 0, f'{{"Keys":[{svc_json[i]}],"Metrics":{{')
                         for i in range(len(self.services))]

    def groups_per_day(self):
        return len(self.keys)

    VARIANTS = 16  # daily variations of each group's amounts, drawn once

    def _variants(self):
        if not hasattr(self, "_cache"):
            rng = random.Random(self.seed * 7919 + 1)
            self._cache = [[self.group_json(rng, i, j, head) for _ in range(self.VARIANTS)]
                           for i, j, head in self.keys]
        return self._cache

    def group_json(self, rng, i, j, head):
        base = self.level[i] * self.acct_weight[j] * (0.6 + 0.8 * rng.random())
        unblended = base if rng.random() > 0.03 else 0.0
        credit = -base * 0.05 if rng.random() < 0.02 else 0.0
        values = {
            "AmortizedCost": unblended * (1.0 + 0.2 * rng.random()),
            "BlendedCost": unblended * (0.95 + 0.1 * rng.random()),
            "NetAmortizedCost": unblended * 0.93 + credit,
            "NetUnblendedCost": unblended * 0.9 + credit,
            "UnblendedCost": unblended,
        }
        parts = []
        for m, mh in zip(self.metrics, self.metric_heads):
            amount = format_amount(values.get(m, unblended))
            parts.append(mh + amount + '","Unit":"USD"}')
        return head + ",".join(parts) + "}}"

    def pages(self, start, end, page_size=5000, group_by=None, estimated_days=2):
        """The pages (bytes) of GetCostAndUsage for [start, end), groups in (day, service,
        account) order, `page_size` groups per page. A group's amounts depend only on its day
        and keys, so a day split over two pages reads the same as a whole one."""
        if group_by is None:
            group_by = [{"Type": "DIMENSION", "Key": "SERVICE"}]
            if self.accounts:
                group_by.append({"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"})
        variants = self._variants()
        per_day = len(self.keys)
        days = (end - start).days
        total = days * per_day
        pages = []
        offset = 0
        fingerprint = hashlib.sha256(f"{start}|{end}|{self.seed}".encode()).hexdigest()[:24]
        group_defs = json.dumps(group_by, separators=(",", ":"))
        while True:
            chunk_end = min(total, offset + page_size)
            results = []
            accounts_seen = set()
            k = offset
            while k < chunk_end:
                day = start + dt.timedelta(days=k // per_day)
                shift = day.toordinal() * 7
                first = k % per_day
                last = min(per_day, first + (chunk_end - k))
                groups = ",".join(variants[g][(shift + g * 3) % self.VARIANTS]
                                  for g in range(first, last))
                if self.accounts:
                    accounts_seen.update(self.keys[g][1] for g in range(first, min(last, first + len(self.accounts))))
                estimated = (end - day).days <= estimated_days
                results.append(
                    '{"TimePeriod":{"Start":"%s","End":"%s"},"Total":{},"Groups":[%s],"Estimated":%s}'
                    % (day.isoformat(), (day + dt.timedelta(days=1)).isoformat(), groups,
                       "true" if estimated else "false"))
                k += last - first
            attrs = ",".join(
                '{"Value":"%s","Attributes":{"description":"%s"}}'
                % (self.accounts[j], ACCOUNT_NAMES[j % len(ACCOUNT_NAMES)] + (f"-{j}" if j >= len(ACCOUNT_NAMES) else ""))
                for j in sorted(accounts_seen))
            text = '{"GroupDefinitions":%s,"ResultsByTime":[%s],"DimensionValueAttributes":[%s]' % (
                group_defs, ",".join(results), attrs)
            if chunk_end < total:
                token = base64.b64encode(
                    json.dumps({"o": chunk_end, "q": fingerprint}).encode() + b"\0" * 48).decode()
                text += ',"NextPageToken":"%s"' % token
            text += "}"
            pages.append(text.encode())
            offset = chunk_end
            if offset >= total:
                break
        return pages


def token_offset(token):
    """The group offset of a NextPageToken made by Generator.pages."""
    raw = base64.b64decode(token).rstrip(b"\0")
    return json.loads(raw)["o"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--services", type=int, default=300)
    p.add_argument("--accounts", type=int, default=10)
    p.add_argument("--start", default="2024-01-01")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--page-size", type=int, default=5000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    gen = Generator(args.services, args.accounts, args.seed)
    start = dt.date.fromisoformat(args.start)
    pages = gen.pages(start, start + dt.timedelta(days=args.days), args.page_size)
    size = 0
    with open(args.out, "wb") as f:
        for page in pages:
            f.write(page)
            f.write(b"\n")
            size += len(page)
    json.dump({"pages": len(pages), "groups": args.days * gen.groups_per_day(), "bytes": size}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
