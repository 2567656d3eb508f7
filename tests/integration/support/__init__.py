"""What the integration tests (tests/integration/test_*.py) and the benchmarks (bench/) share.

    env           the binary, the source and build trees, CI or not; require(), main()
    procs         free ports, waiting for a listener, child processes always stopped, /proc memory
    service       the service under test: ServiceTestCase, its config, environment, state, --once
    httpd         an HTTP server of this process, in a thread (in-process peers)
    ce_fake       the Cost Explorer fake (a script too): computed or pre-rendered answers
    ce_pages      realistic GetCostAndUsage pages (a script too: the benchmarks' corpus)
    moto          moto's server (SigV4 after an IAM bootstrap) and its seeding
    live          the live doctest drivers of the unit test binary
    sink          CloudEvents sinks: RecordingSink (in-process), Receiver (the Node receiver)
    nginx         Debian's nginx from a folder of its own
    tls           test CAs and certificates made with the openssl CLI
    wrk           wrk's output, parsed
    chaos_proxy   the fault-injecting HTTP/1.1 proxy (a script)
    botocore_sign botocore's SigV4 signature of a GetCostAndUsage request (a script too)
    ship          the shipping files (Dockerfile, .dockerignore, compose, chart) as the tools read them

Test files run as scripts (tests/integration is then on sys.path): `from support import ...`.
The modules that are scripts too import nothing of the package but ce_pages and httpd.
"""
