"""Cost Explorer and STS against moto's server (a real peer that verifies SigV4).

How it works: moto starts with INITIAL_NO_AUTH_ACTION_COUNT so boto3 can bootstrap an IAM user,
access key and policy; after that every request must be signed by a known key. Cost Explorer
results are seeded through moto's /moto-api/static/ce/cost-and-usage-results as several pages
linked by NextPageToken. The C++ side runs as the live doctest drivers in tests/aws/live_test.cpp
(unit_tests --no-skip -tc='aws live: ...'), which print what they fetched; this file compares
that with the seed.
"""
import json
import os
import shutil
import tempfile
import unittest
import urllib.request

from support import live, moto
from support.env import main, require_module
from support.procs import Processes, free_port

DAY = "2023-01-15"


def page(groups, token=None, estimated=True):
    result = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": [{
            "TimePeriod": {"Start": DAY, "End": "2023-01-16"},
            "Total": {},
            "Groups": [{"Keys": [name], "Metrics": {
                "UnblendedCost": {"Amount": amount, "Unit": "USD"},
                "AmortizedCost": {"Amount": amount, "Unit": "USD"}}} for name, amount in groups],
            "Estimated": estimated,
        }],
        "DimensionValueAttributes": [],
    }
    if token:
        result["NextPageToken"] = token
    return result


SEED = [
    page([("AWS Lambda", "0.0000000001"), ("Amazon Simple Storage Service", "12.3400000000")],
         token="page-2"),
    page([("Amazon Elastic Compute Cloud - Compute", "1234567890.1234567890123"),
          ("Tax", "-0.01")], token="page-3"),
    page([("CloudWatch Events", "0.0009189721"), ("Zürich \"quoted\" service", "7")]),
]


def expected_rows():
    rows = []
    for p in SEED:
        for g in p["ResultsByTime"][0]["Groups"]:
            for metric, value in g["Metrics"].items():
                rows.append([DAY] + g["Keys"] + [metric, value["Amount"], value["Unit"]])
    return sorted(rows)


class MotoTestCase(unittest.TestCase):
    def setUp(self):
        live.require_unit_tests()
        require_module("boto3")
        self.tmp = tempfile.mkdtemp(prefix="sab-aws-")
        self.procs = Processes()

    def tearDown(self):
        self.procs.stop_all()
        shutil.rmtree(self.tmp, ignore_errors=True)


class CostExplorerWithSigV4(MotoTestCase):
    def setUp(self):
        super().setUp()
        # The IAM bootstrap runs unauthenticated; from then on moto checks every signature.
        self.url, self.key_id, self.secret = moto.start_with_user(
            self.procs, self.tmp, actions=["ce:GetCostAndUsage", "sts:AssumeRole"])
        req = urllib.request.Request(
            self.url + "/moto-api/static/ce/cost-and-usage-results",
            data=json.dumps({"results": SEED}).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.assertEqual(resp.status, 201)

    def fetch(self, secret):
        return live.run_live("aws live: Cost Explorer fetch", {
            "SAB_LIVE_CE_ENDPOINT": self.url,
            "SAB_LIVE_REGION": "us-east-1",
            "SAB_LIVE_ACCESS_KEY_ID": self.key_id,
            "SAB_LIVE_SECRET_ACCESS_KEY": secret,
            "SAB_LIVE_START": DAY,
            "SAB_LIVE_END": "2023-01-16",
        })

    def test_correct_key_gets_every_page_whole(self):
        results, out = self.fetch(self.secret)
        self.assertIn("LIVE-RESULT", results, out)
        got = results["LIVE-RESULT"]
        self.assertEqual(got["pages"], 3)
        self.assertEqual(sorted(got["rows"]), expected_rows())
        self.assertEqual(results["LIVE-REQUESTS"], 3)
        self.assertNotIn(self.secret, out)

    def test_wrong_secret_fails_at_once_naming_the_key_id(self):
        wrong = "W" * 40
        results, out = self.fetch(wrong)
        self.assertIn("LIVE-ERROR", results, out)
        err = results["LIVE-ERROR"]
        self.assertEqual(err["kind"], "auth")
        self.assertIn(self.key_id, err["message"])
        self.assertIn("SignatureDoesNotMatch", err["message"])
        self.assertEqual(results["LIVE-REQUESTS"], 1)  # auth errors are not retried
        self.assertNotIn(wrong, out)

    def test_unknown_key_id_fails(self):
        self.key_id = "AKIAIOSFODNN7UNKNOWN"
        results, out = self.fetch(self.secret)
        self.assertEqual(results["LIVE-ERROR"]["kind"], "auth", out)
        self.assertIn("AKIAIOSFODNN7UNKNOWN", results["LIVE-ERROR"]["message"])

    def assume_role(self, secret):
        results, out = live.run_live("aws live: credential chain", {
            "AWS_ENDPOINT_URL_STS": self.url, "AWS_REGION": "us-east-1", "HOME": self.tmp,
            "AWS_ACCESS_KEY_ID": self.key_id, "AWS_SECRET_ACCESS_KEY": secret,
            "SAB_LIVE_ROLE_ARN": "arn:aws:iam::123456789012:role/payer"})
        self.assertIn("LIVE-CREDS", results, out)
        self.assertNotIn(secret, out)
        return results["LIVE-CREDS"]

    def test_assume_role_request_is_signed_correctly(self):
        creds = self.assume_role(self.secret)
        self.assertNotIn("error", creds)
        self.assertTrue(creds["has_token"] and creds["expires"])
        creds = self.assume_role("W" * 40)
        self.assertIn("SignatureDoesNotMatch", creds.get("error", ""))
        self.assertEqual(creds["refresh_failure"], 1)


class StsCredentialChain(MotoTestCase):
    def setUp(self):
        super().setUp()
        self.url = moto.start(self.procs, self.tmp)
        self.token_file = os.path.join(self.tmp, "token")
        with open(self.token_file, "w") as f:
            f.write("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwb2QifQ.c2ln\n")

    def chain(self, env):
        base = {"AWS_ENDPOINT_URL_STS": self.url, "AWS_REGION": "us-east-1",
                "HOME": self.tmp, "SAB_LIVE_REGION": "us-east-1"}
        base.update(env)
        results, out = live.run_live("aws live: credential chain", base)
        self.assertIn("LIVE-CREDS", results, out)
        return results["LIVE-CREDS"], out

    def test_web_identity(self):
        creds, out = self.chain({
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/billing-reader",
            "AWS_WEB_IDENTITY_TOKEN_FILE": self.token_file,
            "AWS_ROLE_SESSION_NAME": "pod-1"})
        self.assertNotIn("error", creds, out)
        self.assertTrue(creds["access_key_id"].startswith("ASIA"), creds)
        self.assertTrue(creds["has_secret"] and creds["has_token"] and creds["expires"])
        self.assertTrue(creds["cached"])  # the second get() came from the cache
        # 4 minutes before expiry the third get() fetched new credentials.
        self.assertTrue(creds["refreshed_key"].startswith("ASIA"), creds)
        self.assertNotEqual(creds["refreshed_key"], creds["access_key_id"])
        self.assertEqual(creds["refresh_success"], 2)

    def test_failed_refresh_keeps_serving_until_expiry(self):
        creds, out = self.chain({
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/billing-reader",
            "AWS_WEB_IDENTITY_TOKEN_FILE": self.token_file,
            "SAB_LIVE_BREAK_REFRESH": "1"})
        self.assertNotIn("error", creds, out)
        self.assertEqual(creds["refreshed_key"], creds["access_key_id"])  # still the old ones
        self.assertIn("token file", creds["after_expiry_error"])
        self.assertEqual(creds["refresh_success"], 1)
        self.assertEqual(creds["refresh_failure"], 2)

    def test_assume_role_on_top_of_environment_keys(self):
        creds, out = self.chain({
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "base-secret",
            "SAB_LIVE_ROLE_ARN": "arn:aws:iam::123456789012:role/payer",
            "SAB_LIVE_EXTERNAL_ID": "ext-42"})
        self.assertNotIn("error", creds, out)
        self.assertTrue(creds["access_key_id"].startswith("ASIA"), creds)
        self.assertNotEqual(creds["access_key_id"], "AKIAIOSFODNN7EXAMPLE")
        self.assertTrue(creds["has_token"] and creds["expires"])
        self.assertNotEqual(creds["refreshed_key"], creds["access_key_id"])
        self.assertEqual(creds["refresh_success"], 2)
        self.assertNotIn("base-secret", out)

    def test_assume_role_on_top_of_web_identity_and_shared_file(self):
        creds, out = self.chain({
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/pod",
            "AWS_WEB_IDENTITY_TOKEN_FILE": self.token_file,
            "SAB_LIVE_ROLE_ARN": "arn:aws:iam::123456789012:role/payer"})
        self.assertNotIn("error", creds, out)
        self.assertTrue(creds["has_token"])
        path = os.path.join(self.tmp, "creds.ini")
        with open(path, "w") as f:
            f.write("[ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = ops-secret\n")
        creds, out = self.chain({
            "AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "ops",
            "SAB_LIVE_ROLE_ARN": "arn:aws:iam::123456789012:role/payer"})
        self.assertNotIn("error", creds, out)
        self.assertTrue(creds["access_key_id"].startswith("ASIA"), creds)

    def test_unreachable_sts_is_a_clear_error(self):
        creds, out = self.chain({
            "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:%d" % free_port(),
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r",
            "AWS_WEB_IDENTITY_TOKEN_FILE": self.token_file})
        self.assertIn("STS request", creds.get("error", ""), out)
        self.assertEqual(creds["refresh_failure"], 1)


if __name__ == "__main__":
    main()
