"""A snapshot camera in Python's standard library: GET /capture answers the
JPEGs of a folder in turn (image/jpeg, Content-Length), over HTTP/1.1
keep-alive, or HTTP/1.0 closing each connection with --http10.

Prints "port N" once listening, then "connection" for each TCP connection
accepted and "request PATH" for each request, so a test can count them.
Exits when its standard input closes, or after five minutes.

Usage: python3 snapshot_camera.py FOLDER [--http10]
"""
import http.server
import os
import sys
import threading

folder = sys.argv[1]
http10 = "--http10" in sys.argv[2:]
frames = [open(os.path.join(folder, name), "rb").read()
          for name in sorted(os.listdir(folder)) if name.endswith(".jpg")]
state = {"next": 0}


class Camera(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0" if http10 else "HTTP/1.1"
    timeout = 30  # an idle kept-alive connection is closed after this

    def setup(self):
        super().setup()
        print("connection", flush=True)

    def do_GET(self):
        print("request", self.path, flush=True)
        if self.path != "/capture":
            self.send_error(404)
            return
        data = frames[state["next"] % len(frames)]
        state["next"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Camera)
server.daemon_threads = True
print("port", server.server_address[1], flush=True)


def wait_for_stdin_close():
    sys.stdin.read()
    server.shutdown()


threading.Thread(target=wait_for_stdin_close, daemon=True).start()
threading.Timer(300, server.shutdown).start()
server.serve_forever()
os._exit(0)
