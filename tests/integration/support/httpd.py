"""An HTTP server of this process on 127.0.0.1 (a free port), answering from a thread: the
in-process peers of the tests (canned Cost Explorer answers, capture servers, the recording sink)."""
import threading
from http.server import ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    """Serves `handler` (a BaseHTTPRequestHandler class) until close(); over TLS with
    `ssl_context` (a server-side ssl.SSLContext)."""

    daemon_threads = True

    def __init__(self, handler, ssl_context=None):
        super().__init__(("127.0.0.1", 0), handler)
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=10)
