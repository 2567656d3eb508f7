"""Signs a Cost Explorer request (GetCostAndUsage unless another X-Amz-Target is given) with
botocore's own SigV4 signer.

Used by test_aws_botocore.py (and to derive the fact kept in tests/aws/sigv4_test.cpp), and by the
insights fake to check every request it gets.
Usage: botocore_sign.py TIMESTAMP(YYYYmmddTHHMMSSZ) HOST REGION BODY_FILE [SESSION_TOKEN]
Prints the Authorization header value. The credentials are the AWS documentation example keys.
"""
import datetime
import sys
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def botocore_authorization(timestamp, host, region, body, token=None, access_key=ACCESS_KEY,
                           secret_key=SECRET_KEY, target="AWSInsightsIndexService.GetCostAndUsage"):
    """host: a host name (https assumed) or a whole URL."""
    fixed = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")
    request = AWSRequest(
        method="POST",
        url=host if "://" in host else "https://" + host + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": target,
        },
    )
    auth = SigV4Auth(Credentials(access_key, secret_key, token), "ce", region)

    class FixedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

        @classmethod
        def now(cls, tz=None):
            return fixed.replace(tzinfo=tz) if tz else fixed

    with mock.patch("botocore.auth.datetime.datetime", FixedDatetime):
        auth.add_auth(request)
    return request.headers["Authorization"]


if __name__ == "__main__":
    with open(sys.argv[4], "rb") as f:
        data = f.read()
    tok = sys.argv[5] if len(sys.argv) > 5 else None
    print(botocore_authorization(sys.argv[1], sys.argv[2], sys.argv[3], data, tok))
