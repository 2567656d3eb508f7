"""Account names (group_by with LINKED_ACCOUNT), the binary end to end against the tests' Cost
Explorer fake (moto sends no DimensionValueAttributes): each event's data.linkedAccountName is the
name the event's page carried, absent where AWS sends none, and the ids do not depend on names.
The fake's pages and the binary's request are checked against botocore's shapes for
GetCostAndUsage, so the fake cannot drift from AWS."""
import json
import subprocess

from support import botocore_shapes, ce_fake
from support.env import BINARY, main
from support.service import ServiceTestCase, aws_env, write_config

DAY = "2024-03-05"
GROUP_BY = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]


class AccountNames(ServiceTestCase):
    def test_names_come_from_each_page(self):
        # 3 services x 4 accounts in pages of 5 groups: the names of one page are not the next's.
        _, url, _ = ce_fake.start(self.procs, "--services", "3", "--accounts", "4", "--page-size", "5")
        cfg = write_config(self.tmp, f"""target: http://127.0.0.1:9/
endpoint: {url}
state_dir: {self.tmp}/state
group_by: [{{type: DIMENSION, key: SERVICE}}, {{type: DIMENSION, key: LINKED_ACCOUNT}}]
log: {{format: json, level: info}}
""")
        r = subprocess.run([BINARY, "--config", cfg, "--once", "--dry-run", "--date", DAY],
                           env=aws_env("AKIDEXAMPLE", "secret"), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        events = [json.loads(line) for line in r.stdout.decode().splitlines()]
        self.assertEqual(len(events), 12)
        fake = ce_fake.Fake(services=3, accounts=4, page_size=5)
        for e in events:
            expected = fake.account_name(e["data"]["linkedAccount"])
            if expected is None:
                self.assertNotIn("linkedAccountName", e["data"])
            else:
                self.assertEqual(e["data"]["linkedAccountName"], expected)
        self.assertEqual(sum("linkedAccountName" in e["data"] for e in events), 9)

    def test_the_fake_fits_botocores_shapes(self):
        fake = ce_fake.Fake(services=3, accounts=4, page_size=5)
        request = {"TimePeriod": {"Start": DAY, "End": "2024-03-06"}, "Granularity": "DAILY",
                   "Metrics": ["UnblendedCost"], "GroupBy": GROUP_BY}
        self.assertEqual(botocore_shapes.problems("GetCostAndUsage", request, "input"), "")
        token = None
        pages = 0
        while True:
            page = fake.answer(dict(request, NextPageToken=token) if token else request)
            self.assertEqual(botocore_shapes.problems("GetCostAndUsage", page), "")
            self.assertTrue(page["DimensionValueAttributes"])
            pages += 1
            token = page.get("NextPageToken")
            if not token:
                break
        self.assertEqual(pages, 3)
        # An invented field would not pass.
        self.assertIn("Bogus", botocore_shapes.problems("GetCostAndUsage", dict(page, Bogus=1)))


if __name__ == "__main__":
    main()
