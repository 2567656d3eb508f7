"""The credential sources that need no keys, with real peers, and botocore as the oracle.

moto's server verifies every signature (INITIAL_NO_AUTH_ACTION_COUNT covers the IAM bootstrap
only): an IAM user may assume the role billing-reader, whose credentials may call
GetCostAndUsage. A RecordingProxy sits in front of moto and records which access key id signed
each request (and the STS form fields), so the tests see what moto saw. The binary runs
`--once --dry-run` against that proxy with its credentials from:

  (a) a container credentials endpoint (metadata_fake.ContainerCredentialsFake: Authorization
      token required) through AWS_CONTAINER_CREDENTIALS_FULL_URI on loopback and
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  (b) IMDSv2 (metadata_fake.ImdsFake) through AWS_EC2_METADATA_SERVICE_ENDPOINT;
  (c) credential_process scripts in ~/.aws/config;
  (d) ~/.aws/config with role_arn + source_profile + external_id + role_session_name + region
      (moto's STS serves the AssumeRole).

The fakes serve credentials that moto's STS minted, so moto accepts their signatures. For each,
botocore's own provider (ContainerProvider, InstanceMetadataProvider, ProcessProvider, and a
botocore Session whose chain uses AssumeRoleProvider with source_profile) pointed at the same
fake, files or process must reach the same access key id the service used (d: the same signer,
region, role, session name and external id for AssumeRole; each AssumeRole mints a new key).

Bad input: an IMDS that never answers (falls through in about 2 s; /readyz lists what was
tried), a container URI with a host plain http may not reach, a missing token file, a
credential_process that hangs, exits 1 or prints garbage, a source_profile cycle: each a clear
error naming the source, exit 1, no crash, and no secret in the output.

The link-local metadata addresses are never used: every run sets AWS_EC2_METADATA_DISABLED or
points AWS_EC2_METADATA_SERVICE_ENDPOINT at a local fake.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from unittest import mock

from support import metadata_fake, moto
from support.env import BINARY, main, require, require_module
from support.procs import Processes, free_port, wait_for_port
from support.service import write_config

DAY = "2023-01-15"
ACCOUNT = "123456789012"
READER = f"arn:aws:iam::{ACCOUNT}:role/billing-reader"
PAYER = f"arn:aws:iam::{ACCOUNT}:role/payer"
CE_TARGET = "AWSInsightsIndexService.GetCostAndUsage"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal, condition=None):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return policy(statement)


class CredentialSources(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        require_module("boto3")
        require_module("botocore")
        import boto3
        cls.tmp_class = tempfile.mkdtemp(prefix="sab-creds-")
        cls.procs = Processes()
        try:
            # Seven IAM calls run unauthenticated; from then on moto checks every signature.
            cls.moto = moto.start(cls.procs, cls.tmp_class, no_auth_actions=7)
            iam = boto3.client("iam", endpoint_url=cls.moto, region_name="us-east-1",
                               aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
            iam.create_user(UserName="billing")
            key = iam.create_access_key(UserName="billing")["AccessKey"]
            iam.put_user_policy(UserName="billing", PolicyName="assume", PolicyDocument=policy(
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
            user = f"arn:aws:iam::{ACCOUNT}:user/billing"
            ce_read = policy({"Effect": "Allow", "Action": "ce:GetCostAndUsage", "Resource": "*"})
            iam.create_role(RoleName="billing-reader", AssumeRolePolicyDocument=trust(user))
            iam.create_role(RoleName="payer", AssumeRolePolicyDocument=trust(
                user, {"StringEquals": {"sts:ExternalId": "ext-42"}}))
            iam.put_role_policy(RoleName="billing-reader", PolicyName="ce", PolicyDocument=ce_read)
            iam.put_role_policy(RoleName="payer", PolicyName="ce", PolicyDocument=ce_read)
        except BaseException:
            cls.procs.stop_all()
            shutil.rmtree(cls.tmp_class, ignore_errors=True)
            raise
        cls.key_id = key["AccessKeyId"]
        cls.secret = key["SecretAccessKey"]
        cls.proxy = metadata_fake.RecordingProxy(cls.moto)
        # The service's Cost Explorer and STS endpoint: "localhost" (NO_PROXY names it), while the
        # metadata fakes are 127.0.0.1.
        cls.endpoint = cls.proxy.url.replace("127.0.0.1", "localhost")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.close()
        cls.procs.stop_all()
        shutil.rmtree(cls.tmp_class, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sab-creds-case-")
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(self.home, ".aws"))
        self.secrets = {"user secret": self.secret}

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- helpers --------------------------------------------------------------------------------
    def mint(self):
        """Credentials of billing-reader from moto's STS (what an ECS agent or IMDS would hand out)."""
        import boto3
        sts = boto3.client("sts", endpoint_url=self.moto, region_name="us-east-1",
                           aws_access_key_id=self.key_id, aws_secret_access_key=self.secret)
        creds = sts.assume_role(RoleArn=READER, RoleSessionName="metadata-agent")["Credentials"]
        self.secrets["minted secret"] = creds["SecretAccessKey"]
        self.secrets["minted token"] = creds["SessionToken"]
        return creds

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
        env.update(HOME=self.home, AWS_EC2_METADATA_DISABLED="true")
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def config(self):
        return write_config(self.tmp, f"target: http://127.0.0.1:9/\nendpoint: {self.endpoint}\n"
                                      f"region: us-east-1\nstate_dir: {self.tmp}/state\n"
                                      "log: {format: json, level: debug}\n")

    def run_once(self, env, timeout=120):
        started = time.monotonic()
        before = len(self.proxy.recorded())
        r = subprocess.run([BINARY, "--config", self.config(), "--once", "--dry-run", "--date", DAY],
                           env=env, capture_output=True, timeout=timeout)
        self.took = time.monotonic() - started
        self.out = r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")
        self.records = []
        for line in r.stderr.decode("utf-8", "replace").splitlines():
            try:
                self.records.append(json.loads(line))
            except ValueError:
                pass
        self.seen = self.proxy.recorded()[before:]
        self.assert_no_secret(self.out)
        return r.returncode

    def assert_no_secret(self, text):
        for name, value in self.secrets.items():
            if value and value in text:
                self.fail(f"the {name} appears in the service's output")

    def logged_key(self, msg="AWS credentials loaded"):
        keys = [r.get("access_key_id") for r in self.records if r.get("msg") == msg]
        self.assertTrue(keys, f"no '{msg}' line in:\n{self.out}")
        return keys[-1]

    def ce_keys(self):
        return [r["key_id"] for r in self.seen if r["target"] == CE_TARGET]

    def assert_pulled_with(self, key_id):
        """The run succeeded and moto accepted Cost Explorer requests signed with key_id only."""
        keys = self.ce_keys()
        self.assertTrue(keys, f"no Cost Explorer request reached moto:\n{self.out}")
        self.assertEqual(set(keys), {key_id})
        statuses = {r["status"] for r in self.seen if r["target"] == CE_TARGET}
        self.assertEqual(statuses, {200}, self.out)

    def error_line(self):
        errors = [r.get("error", "") for r in self.records if r.get("msg") == "cannot obtain AWS credentials"]
        self.assertTrue(errors, f"no credential error logged:\n{self.out}")
        return errors[-1]

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def aws_config(self, text):
        path = os.path.join(self.home, ".aws", "config")
        with open(path, "w") as f:
            f.write(text)
        return path

    # ---- (a) container credentials --------------------------------------------------------------
    def test_container_credentials_with_a_token_file(self):
        import botocore.credentials
        creds = self.mint()
        fake = metadata_fake.ContainerCredentialsFake(lambda: creds, token="pod-identity-token-1")
        self.addCleanup(fake.close)
        self.secrets["authorization token"] = "pod-identity-token-1"
        token_file = self.write("eks-pod-identity-token", "pod-identity-token-1")
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=fake.url + "/v1/credentials",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token_file)
        self.assertEqual(self.run_once(env), 0, self.out)
        self.assertEqual(self.logged_key(), creds["AccessKeyId"])
        self.assert_pulled_with(creds["AccessKeyId"])
        self.assertEqual({r["authorization"] for r in fake.recorded()}, {"pod-identity-token-1"})
        loaded = [r for r in self.records if r.get("msg") == "AWS credentials loaded"][-1]
        self.assertIn("AWS_CONTAINER_CREDENTIALS_FULL_URI", loaded["source"])

        # botocore's ContainerProvider, same endpoint and token file: the same key.
        provider = botocore.credentials.ContainerProvider(environ={
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file})
        theirs = provider.load()
        self.assertEqual(theirs.method, "container-role")
        self.assertEqual(theirs.get_frozen_credentials().access_key, creds["AccessKeyId"])

        # The token is re-read at every load: a rotated token in the file works, the old one not.
        fake.token = "pod-identity-token-2"
        self.secrets["authorization token 2"] = "pod-identity-token-2"
        self.write("eks-pod-identity-token", "pod-identity-token-2")
        self.assertEqual(self.run_once(env), 0, self.out)
        self.assertEqual(fake.recorded()[-1]["authorization"], "pod-identity-token-2")

    def test_container_credentials_with_a_token_variable(self):
        import botocore.credentials
        creds = self.mint()
        fake = metadata_fake.ContainerCredentialsFake(lambda: creds, path="/creds", token="ecs-token-long-enough")
        self.addCleanup(fake.close)
        self.secrets["authorization token"] = "ecs-token-long-enough"
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=fake.url.replace("127.0.0.1", "localhost") + "/creds",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN="ecs-token-long-enough")
        self.assertEqual(self.run_once(env), 0, self.out)
        self.assert_pulled_with(creds["AccessKeyId"])
        provider = botocore.credentials.ContainerProvider(environ={
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": env["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-token-long-enough"})
        self.assertEqual(provider.load().get_frozen_credentials().access_key, self.logged_key())

    # ---- (b) IMDSv2 -----------------------------------------------------------------------------
    def test_imds_v2(self):
        import botocore.credentials
        import botocore.utils
        creds = self.mint()
        fake = metadata_fake.ImdsFake(lambda: creds)
        self.addCleanup(fake.close)
        # IMDS never goes through a proxy: one that would hang is configured for everything but
        # the Cost Explorer/STS host.
        silent = metadata_fake.SilentServer()
        self.addCleanup(silent.close)
        env = self.env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=fake.url,
                       HTTP_PROXY=silent.url, HTTPS_PROXY=silent.url, http_proxy=silent.url,
                       https_proxy=silent.url, NO_PROXY="localhost", no_proxy="localhost")
        self.assertEqual(self.run_once(env), 0, self.out)
        self.assertEqual(self.logged_key(), creds["AccessKeyId"])
        self.assert_pulled_with(creds["AccessKeyId"])
        self.assertEqual(silent.accepted, 0, "nothing went through the proxy")
        seen = fake.recorded()
        self.assertEqual([(r["method"], r["path"]) for r in seen[:3]], [
            ("PUT", "/latest/api/token"),
            ("GET", "/latest/meta-data/iam/security-credentials/"),
            ("GET", "/latest/meta-data/iam/security-credentials/billing-reader")])
        self.assertTrue(seen[0]["ttl"] and 1 <= int(seen[0]["ttl"]) <= 21600)
        self.assertTrue(all(r["has_token"] for r in seen if r["method"] == "GET"), "no IMDSv1 request")

        # env={}: this process has AWS_EC2_METADATA_DISABLED set (ctest sets it for every test).
        fetcher = botocore.utils.InstanceMetadataFetcher(timeout=1, num_attempts=2, base_url=fake.url, env={})
        theirs = botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
        self.assertEqual(theirs.method, "iam-role")
        self.assertEqual(theirs.get_frozen_credentials().access_key, creds["AccessKeyId"])

    # ---- (c) credential_process -----------------------------------------------------------------
    def process_script(self, name, body):
        return self.write(name, "#!/bin/sh\n" + body, mode=0o700)

    def test_credential_process(self):
        import botocore.configloader
        import botocore.credentials
        creds = self.mint()
        answer = self.write("answer.json", json.dumps({
            "Version": 1, "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
            "SessionToken": creds["SessionToken"], "Expiration": metadata_fake.iso(creds["Expiration"])}))
        script = self.process_script("get-creds", f'[ "$1" = "--for" ] && [ "$2" = "billing x" ] || exit 9\n'
                                                  f'echo "debug noise on stderr" >&2\ncat {answer}\n')
        config_path = self.aws_config(f"[profile billing]\ncredential_process = {script} --for 'billing x'\n")
        env = self.env(AWS_PROFILE="billing")
        self.assertEqual(self.run_once(env), 0, self.out)
        self.assertEqual(self.logged_key(), creds["AccessKeyId"])
        self.assert_pulled_with(creds["AccessKeyId"])
        self.assertNotIn("debug noise", self.out)  # its stderr is not echoed
        self.assertNotIn("billing x", self.out)  # nor its arguments

        provider = botocore.credentials.ProcessProvider(
            profile_name="billing", load_config=lambda: botocore.configloader.load_config(config_path))
        theirs = provider.load()
        self.assertEqual(theirs.method, "custom-process")
        self.assertEqual(theirs.get_frozen_credentials().access_key, creds["AccessKeyId"])

    def test_credential_process_failures(self):
        import botocore.configloader
        import botocore.credentials
        import botocore.exceptions
        self.secrets["stderr secret"] = "stderr-s3cr3t-value"
        self.secrets["stdout secret"] = "stdout-s3cr3t-value"
        cases = {
            "exits1": ("echo stderr-s3cr3t-value >&2; exit 1\n", "exited with status 1"),
            "garbage": ("echo 'AccessKeyId stdout-s3cr3t-value'\n", "printed no JSON object"),
            "version2": ('echo \'{"Version": 2, "AccessKeyId": "AKIAX", "SecretAccessKey": "stdout-s3cr3t-value"}\'\n',
                         '"Version": 1'),
        }
        for name, (body, expected) in cases.items():
            with self.subTest(name=name):
                script = self.process_script(name, body)
                config_path = self.aws_config(f"[default]\ncredential_process = {script}\n")
                self.assertEqual(self.run_once(self.env()), 1, self.out)
                error = self.error_line()
                self.assertIn(f"credential_process of profile 'default' (program {script})", error)
                self.assertIn(expected, error)
                self.assertEqual(self.ce_keys(), [])
                # botocore fails on the same process too.
                provider = botocore.credentials.ProcessProvider(
                    profile_name="default",
                    load_config=lambda path=config_path: botocore.configloader.load_config(path))
                with self.assertRaises((botocore.exceptions.BotoCoreError, ValueError)):
                    provider.load()

    def test_credential_process_that_hangs_is_killed_at_the_deadline(self):
        pid_file = os.path.join(self.tmp, "sleeper.pid")
        script = self.process_script("hangs", f"sleep 300 &\necho $! > {pid_file}\nwait\n")
        self.aws_config(f"[default]\ncredential_process = {script}\n")
        self.assertEqual(self.run_once(self.env(), timeout=120), 1, self.out)
        self.assertIn("no answer within 30 s; killed", self.error_line())
        self.assertLess(self.took, 60)
        with open(pid_file) as f:
            sleeper = int(f.read())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.running(sleeper):
            time.sleep(0.1)
        self.assertFalse(self.running(sleeper), "the process's child was killed with it")

    @staticmethod
    def running(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    # ---- (d) role_arn + source_profile ----------------------------------------------------------
    def test_assume_role_with_source_profile_matches_botocore(self):
        import botocore.credentials
        import botocore.session
        self.aws_config(f"""[profile base]
aws_access_key_id = {self.key_id}
aws_secret_access_key = {self.secret}
region = us-west-2

[profile billing]
role_arn = {PAYER}
source_profile = base
external_id = ext-42
role_session_name = billing-session
region = eu-west-1
""")
        env = self.env(AWS_PROFILE="billing", AWS_ENDPOINT_URL_STS=self.endpoint)
        self.assertEqual(self.run_once(env), 0, self.out)
        ours = [r for r in self.seen if r["form"].get("Action") == "AssumeRole"]
        self.assertEqual(len(ours), 1, self.seen)
        assumed_key = ours[0]["answered_key_id"]
        self.assertTrue(assumed_key and assumed_key.startswith("ASIA"), ours)
        self.assertEqual(self.logged_key(), assumed_key)
        self.assert_pulled_with(assumed_key)

        # botocore's chain with the same environment and files: AssumeRoleProvider, through the
        # same recorder.
        before = len(self.proxy.recorded())
        with mock.patch.dict(os.environ, env, clear=True):
            session = botocore.session.Session()
            creds = session.get_credentials()
            self.assertEqual(creds.method, botocore.credentials.AssumeRoleProvider.METHOD)
            theirs_key = creds.get_frozen_credentials().access_key
        theirs = [r for r in self.proxy.recorded()[before:] if r["form"].get("Action") == "AssumeRole"]
        self.assertEqual(len(theirs), 1)
        self.assertEqual(theirs[0]["answered_key_id"], theirs_key)
        # botocore leaves DurationSeconds to STS's default; the service asks for the same hour.
        self.assertEqual(ours[0]["form"].pop("DurationSeconds"), "3600")
        for field in ("key_id", "region", "service", "form"):
            with self.subTest(field=field):
                self.assertEqual(ours[0][field], theirs[0][field])
        self.assertEqual(ours[0]["key_id"], self.key_id)  # signed with the source profile's key
        self.assertEqual(ours[0]["region"], "eu-west-1")  # the profile's region
        self.assertEqual(ours[0]["form"]["RoleArn"], PAYER)
        self.assertEqual(ours[0]["form"]["RoleSessionName"], "billing-session")
        self.assertEqual(ours[0]["form"]["ExternalId"], "ext-42")

    def test_wrong_external_id_is_refused_by_sts(self):
        self.aws_config(f"""[profile base]
aws_access_key_id = {self.key_id}
aws_secret_access_key = {self.secret}
[profile billing]
role_arn = {PAYER}
source_profile = base
external_id = wrong
""")
        self.assertEqual(self.run_once(self.env(AWS_PROFILE="billing", AWS_ENDPOINT_URL_STS=self.endpoint)), 1)
        error = self.error_line()
        self.assertIn(f"role {PAYER} of profile 'billing'", error)
        self.assertIn("AccessDenied", error)

    def test_source_profile_cycle_is_an_error_botocore_agrees_on(self):
        import botocore.exceptions
        import botocore.session
        self.aws_config(f"""[profile a]
role_arn = {READER}
source_profile = b
[profile b]
role_arn = {PAYER}
source_profile = a
""")
        env = self.env(AWS_PROFILE="a", AWS_ENDPOINT_URL_STS=self.endpoint)
        self.assertEqual(self.run_once(env), 1, self.out)
        self.assertIn("source_profile cycle: a -> b -> a", self.error_line())
        self.assertEqual(self.seen, [], "nothing was sent")
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaises(botocore.exceptions.InfiniteLoopConfigError):
                botocore.session.Session().get_credentials()

    # ---- bad input ------------------------------------------------------------------------------
    def test_unreachable_imds_falls_through_in_about_two_seconds(self):
        silent = metadata_fake.SilentServer()
        self.addCleanup(silent.close)
        env = self.env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=silent.url)
        self.assertEqual(self.run_once(env), 1, self.out)
        error = self.error_line()
        self.assertTrue(error.startswith("no AWS credentials found; tried: config: secret.* not set; "
                                         "environment: "), error)
        self.assertIn(f"IMDS ({silent.url}): token request: ", error)
        self.assertEqual(silent.accepted, 2, "one try and one retry")
        self.assertLess(self.took, 8)

    def test_readyz_says_why_no_credentials_were_found(self):
        silent = metadata_fake.SilentServer()
        self.addCleanup(silent.close)
        port = free_port()
        cfg = write_config(self.tmp, f"target: http://127.0.0.1:9/\nendpoint: {self.endpoint}\n"
                                     f"listen: 127.0.0.1:{port}\nstate_dir: {self.tmp}/state\n")
        env = self.env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=silent.url)
        procs = Processes()
        self.addCleanup(procs.stop_all)
        proc = procs.start([BINARY, "--config", cfg], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        wait_for_port(port, proc=proc)
        deadline = time.monotonic() + 30
        reason = ""
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5)
            except urllib.error.HTTPError as e:
                reason = e.read().decode()
                if "no AWS credentials found" in reason:
                    break
            time.sleep(0.2)
        self.assertIn("no AWS credentials found; tried: config: secret.* not set; environment: "
                      "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set; web identity: ", reason)
        self.assertIn("shared files (", reason)
        self.assertIn("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI "
                      "not set; IMDS (" + silent.url + "): token request:", reason)

    def test_container_uri_with_a_host_plain_http_may_not_reach(self):
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.10:8080/creds")
        self.assertEqual(self.run_once(env), 1, self.out)
        self.assertIn("container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI names host 192.0.2.10, "
                      "which plain http may not reach", self.error_line())
        import botocore.credentials
        import botocore.exceptions
        with self.assertRaises((ValueError, botocore.exceptions.BotoCoreError)):
            botocore.credentials.ContainerProvider(
                environ={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.10:8080/creds"}).load()

    def test_missing_container_token_file(self):
        fake = metadata_fake.ContainerCredentialsFake(self.mint, token="t")
        self.addCleanup(fake.close)
        missing = os.path.join(self.tmp, "no-such-token")
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=fake.url + "/v1/credentials",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=missing)
        self.assertEqual(self.run_once(env), 1, self.out)
        self.assertIn(f"container credentials: cannot read the authorization token file {missing}",
                      self.error_line())
        self.assertEqual(fake.recorded(), [], "nothing was asked without the token")


if __name__ == "__main__":
    main()
