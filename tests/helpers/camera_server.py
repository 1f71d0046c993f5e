#!/usr/bin/env python3
"""An IP camera for the client tests, in Python's standard library only, so
the Digest side is written by someone else's hashlib and http.server rather
than by the code under test.

It serves an MJPEG stream (or one JPEG) of the fixture frames behind Basic or
Digest auth (RFC 7616 and RFC 2617: MD5, SHA-256, SHA-512-256 and their -sess
forms; qop auth, auth-int or none; opaque; userhash; nonces that go stale
after a number of uses), over http or https, as HTTP/1.1 with
Connection: close or as HTTP/1.0 with the body ending at the close.

It checks every field of every Authorization it gets and prints one JSON line
per request on stdout: the request line, the raw header, its fields, whether
it validated and, if not, why. The first line is {"event": "listening", ...}.

    camera_server.py '{"auth": "digest", "algorithms": ["SHA-256", "MD5"], ...}'

With {"blackhole": true} it only listens, never accepting, its backlog full:
a connect timeout on loopback.

It stops when stdin closes or after "lifetime" seconds (default 120).
"""
import base64
import hashlib
import json
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
USER = CONFIG.get("user", "admin")
PASSWORD = CONFIG.get("password", "secret")
REALM = CONFIG.get("realm", "IP Camera")
AUTH = CONFIG.get("auth", "digest")  # digest | basic | none
ALGORITHMS = CONFIG.get("algorithms", ["MD5"])  # one challenge each, in this order
EXTRA_CHALLENGES = CONFIG.get("extraChallenges", [])  # raw challenges sent too
QOP = CONFIG.get("qop", "auth")  # "auth", "auth-int", "auth,auth-int" or None
OPAQUE = CONFIG.get("opaque", "5ccc069c403ebaf9f0171e9517f40e41")
USERHASH = CONFIG.get("userhash", False)
STALE_AFTER = CONFIG.get("staleAfter")  # a nonce is stale after this many uses
SPLIT_HEADERS = CONFIG.get("splitHeaders", False)  # one WWW-Authenticate per challenge
MODE = CONFIG.get("mode", "stream")  # stream | snapshot
FRAMES = CONFIG.get("frames", 8)
INTERVAL = CONFIG.get("interval", 0.05)
HTTP10 = CONFIG.get("http10", False)
HOST = CONFIG.get("host", "127.0.0.1")
PORT = CONFIG.get("port", 0)
NOT_FOUND = CONFIG.get("notFound", [])  # paths answered 404 (after auth)
HTML = CONFIG.get("html", [])  # paths answered 200 with an HTML page (after auth)
CERT = CONFIG.get("cert")
KEY = CONFIG.get("key")
LIFETIME = CONFIG.get("lifetime", 120)
BOUNDARY = "myboundary"

HERE = os.path.dirname(os.path.abspath(__file__))
JPEGS = [
    open(os.path.join(HERE, "..", "fixtures", "frames", f"00{i}.jpg"), "rb").read()
    for i in range(1, 9)
]
HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}

nonces = {}  # nonce -> {"algorithm": ..., "uses": n, "last_nc": n}
lock = threading.Lock()


def log(entry):
    with lock:
        sys.stdout.write(json.dumps(entry) + "\n")
        sys.stdout.flush()


def H(algorithm, text):
    return hashlib.new(HASHES[algorithm], text.encode("utf-8")).hexdigest()


def parse_digest(value):
    """The fields of 'Digest a="b", c=d', quoted strings unescaped."""
    fields = {}
    for m in re.finditer(r'([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', value):
        fields[m.group(1).lower()] = (
            re.sub(r"\\(.)", r"\1", m.group(2)) if m.group(2) is not None else m.group(3)
        )
    return fields


def challenges(stale=False):
    out = []
    if AUTH == "basic":
        out.append(f'Basic realm="{REALM}", charset="UTF-8"')
    elif AUTH == "digest":
        for algorithm in ALGORITHMS:
            nonce = secrets.token_hex(16)
            with lock:
                nonces[nonce] = {"algorithm": algorithm, "uses": 0, "last_nc": 0}
            parts = [f'realm="{REALM}"', f'nonce="{nonce}"']
            if algorithm != "MD5-default":
                parts.append(f"algorithm={algorithm}")
            if QOP:
                parts.append(f'qop="{QOP}"')
            if OPAQUE is not None:
                parts.append(f'opaque="{OPAQUE}"')
            if USERHASH:
                parts.append("userhash=true")
            if stale:
                parts.append("stale=true")
            out.append("Digest " + ", ".join(parts))
    return EXTRA_CHALLENGES + out


def check_digest(method, path, value):
    """(ok, stale, problem, fields)."""
    f = parse_digest(value[len("Digest "):])
    nonce = f.get("nonce")
    with lock:
        known = nonces.get(nonce)
    if known is None:
        return False, False, f"unknown nonce {nonce!r}", f
    offered = known["algorithm"]
    algorithm = "MD5" if offered == "MD5-default" else offered
    base = algorithm.replace("-sess", "")
    sess = algorithm.endswith("-sess")
    if offered == "MD5-default":
        if "algorithm" in f and f["algorithm"] != "MD5":
            return False, False, f"algorithm {f.get('algorithm')!r} for a challenge without one", f
    elif f.get("algorithm") != algorithm:
        return False, False, f"expected algorithm {algorithm}, got {f.get('algorithm')!r}", f
    if f.get("realm") != REALM:
        return False, False, f"realm {f.get('realm')!r}", f
    if f.get("uri") != path:
        return False, False, f"uri {f.get('uri')!r} for request target {path!r}", f
    if OPAQUE is not None and f.get("opaque") != OPAQUE:
        return False, False, f"opaque {f.get('opaque')!r}", f
    if USERHASH:
        if f.get("userhash") != "true":
            return False, False, "expected userhash=true", f
        if f.get("username") != H(base, f"{USER}:{REALM}"):
            return False, False, "hashed username does not match", f
    elif "username*" in f:
        m = re.match(r"UTF-8''(.*)$", f["username*"], re.I)
        from urllib.parse import unquote
        if not m or unquote(m.group(1), encoding="utf-8") != USER:
            return False, False, f"username* {f.get('username*')!r}", f
    elif f.get("username") != USER:
        return False, False, f"username {f.get('username')!r}", f
    qop = f.get("qop")
    offered_qops = [q.strip() for q in QOP.split(",")] if QOP else []
    if offered_qops:
        if qop not in offered_qops:
            return False, False, f"qop {qop!r} not among {offered_qops}", f
        if not re.fullmatch(r"[0-9a-f]{8}", f.get("nc", "")):
            return False, False, f"nc {f.get('nc')!r} is not 8 hex digits", f
        if not f.get("cnonce"):
            return False, False, "no cnonce", f
        nc = int(f["nc"], 16)
        if nc <= known["last_nc"]:
            return False, False, f"nc {nc} not above the last one ({known['last_nc']})", f
    elif qop is not None or "nc" in f:
        return False, False, "qop or nc without a qop in the challenge", f
    ha1 = H(base, f"{USER}:{REALM}:{PASSWORD}")
    if sess:
        ha1 = H(base, f"{ha1}:{nonce}:{f.get('cnonce', '')}")
    if qop == "auth-int":
        ha2 = H(base, f"{method}:{path}:{H(base, '')}")
    else:
        ha2 = H(base, f"{method}:{path}")
    if qop:
        expected = H(base, f"{ha1}:{nonce}:{f['nc']}:{f['cnonce']}:{qop}:{ha2}")
    else:
        expected = H(base, f"{ha1}:{nonce}:{ha2}")
    if f.get("response") != expected:
        return False, False, "response does not match (wrong password or computation)", f
    with lock:
        known["uses"] += 1
        if qop:
            known["last_nc"] = int(f["nc"], 16)
        if STALE_AFTER is not None and known["uses"] > STALE_AFTER:
            return False, True, "stale nonce (valid response)", f
    return True, False, None, f


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0" if HTTP10 else "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as error:
            log({"event": "tls-error", "error": str(error)})
            self.close_connection = True

    def do_GET(self):
        value = self.headers.get("Authorization")
        entry = {"event": "request", "line": self.requestline, "authorization": value}
        ok, stale, problem = AUTH == "none", False, None
        if not ok and value:
            if AUTH == "basic" and value.startswith("Basic "):
                expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                ok = value[len("Basic "):] == expected
                problem = None if ok else "wrong Basic credentials"
            elif AUTH == "digest" and value.startswith("Digest "):
                ok, stale, problem, fields = check_digest(self.command, self.path, value)
                entry["fields"] = fields
            else:
                problem = f"unexpected scheme in {value[:16]!r}"
        elif not ok:
            problem = "no Authorization"
        entry.update({"valid": ok, "stale": stale, "problem": problem})
        log(entry)
        if not ok:
            self.send_response(401)
            values = challenges(stale)
            if SPLIT_HEADERS:
                for v in values:
                    self.send_header("WWW-Authenticate", v)
            else:
                self.send_header("WWW-Authenticate", ", ".join(values))
            body = b"<html><body>401 Unauthorized</body></html>"
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            return
        path = self.path.split("?")[0]
        if path in NOT_FOUND or path in HTML:
            body = b"<html><body>camera menu</body></html>"
            self.send_response(404 if path in NOT_FOUND else 200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Connection", "close")
        self.send_header("Cache-Control", "no-cache")
        if MODE == "snapshot":
            self.send_header("Content-Type", "image/jpeg")
            if not HTTP10:
                self.send_header("Content-Length", str(len(JPEGS[0])))
            self.end_headers()
            self.wfile.write(JPEGS[0])
            return
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.end_headers()
        try:
            for i in range(FRAMES):
                jpeg = JPEGS[i % len(JPEGS)]
                self.wfile.write(
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                    + jpeg + b"\r\n"
                )
                self.wfile.flush()
                time.sleep(INTERVAL)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET6 if ":" in HOST else socket.AF_INET


def blackhole():
    """A listener that never accepts, its backlog filled: connecting to it hangs
    as it does to a camera that is off (SYNs unanswered), on loopback."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect((HOST, port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    time.sleep(0.2)
    log({"event": "listening", "port": port})
    threading.Timer(LIFETIME, lambda: os._exit(0)).start()
    sys.stdin.read()
    os._exit(0)


def main():
    if CONFIG.get("blackhole"):
        return blackhole()
    server = Server((HOST, PORT), Handler)
    if CERT:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(CERT, KEY)
        # The handshake happens in the request's thread, so a client that
        # refuses the certificate cannot hold up the accept loop.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    log({"event": "listening", "port": server.server_address[1]})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    deadline = threading.Timer(LIFETIME, lambda: os._exit(0))
    deadline.daemon = True
    deadline.start()
    sys.stdin.read()  # until the test closes it
    os._exit(0)


if __name__ == "__main__":
    main()
