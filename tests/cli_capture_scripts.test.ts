/**
 * probe, snapshot and record as tools for scripts, run as a user runs them
 * (a real process of this runtime) against a camera in Python: an error that
 * another try would not mend ends them at once with its reason and status 1;
 * a refused connection is retried within --timeout and said; probe is a
 * health check; record says the frame rate and how to play the file at it,
 * which ffprobe confirms.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "./helpers/cli_run.ts";
import { startCamera } from "./helpers/camera.ts";
import { type Certificates, makeCertificates } from "./helpers/tls_certs.ts";
import { fixtureSums } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { freePort } from "./helpers/ports.ts";
import { type TempDir, tempDir } from "./helpers/temp_dir.ts";
import { requireTools } from "./helpers/tools.ts";
import { sleep } from "./helpers/wait.ts";

let temp: TempDir | undefined;
let dir = "";
let certs: Certificates | undefined;
before(() => {
  temp = tempDir("capture");
  dir = temp.path;
  certs = makeCertificates();
});
after(() => {
  temp?.remove();
  certs?.[Symbol.dispose]();
});

/** Runs the CLI and measures how long it took. */
async function timed(args: string[], timeoutMs = 60_000) {
  const started = Date.now();
  const result = await runCli(args, { timeoutMs });
  return { ...result, ms: Date.now() - started };
}

const credentials = (url: string) => url.replace("://", "://admin:secret@");

describe("permanent errors end the read commands at once, with status 1", () => {
  it("snapshot: 401 without credentials, wrong password, 404, an HTML page", async () => {
    await using camera = await startCamera({
      algorithms: ["SHA-256"],
      notFound: ["/nope"],
      html: ["/index.html"],
    });
    const cases: [string, RegExp][] = [
      [
        camera.url + "stream",
        /expected a 2xx status, got 401 Unauthorized: the camera wants credentials \(it asks for Digest\); give them in the URL/,
      ],
      [
        camera.url.replace("://", "://admin:wrong@") + "stream",
        /expected the camera to accept the password of user "admin", got 401 Unauthorized after answering its Digest challenge \(realm "IP Camera", algorithm SHA-256\)/,
      ],
      [credentials(camera.url) + "nope", /expected a 2xx status, got 404 Not Found/],
      [
        credentials(camera.url) + "index.html",
        /expected Content-Type multipart\/x-mixed-replace or image\/jpeg, got "text\/html"/,
      ],
    ];
    for (const [url, expected] of cases) {
      const out = join(dir, "never.jpg");
      const run = await timed(["snapshot", url, "-o", out, "--timeout", "60"]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, expected);
      assert.ok(run.ms < 20_000, `took ${run.ms} ms with --timeout 60`);
      assert.ok(!existsSync(out));
      assert.doesNotMatch(run.stderr, /wrong/, "the password is not shown");
    }
    await camera.logged(8);
    // The wrong password was tried once, not until the account locks.
    const wrong = camera.requests.filter((r) => r.problem?.startsWith("response does not match"));
    assert.equal(wrong.length, 1);
  });

  it("record and probe end at once on a 404, and record leaves no file", async () => {
    await using camera = await startCamera({ auth: "none", notFound: ["/nope"] });
    const out = join(dir, "never.mjpeg");
    const record = await timed(["record", camera.url + "nope", "-o", out, "--timeout", "60"]);
    assert.equal(record.code, 1, record.stderr);
    assert.match(
      record.stderr,
      /record: http:\/\/127\.0\.0\.1:\d+\/nope: expected a 2xx status, got 404 Not Found/,
    );
    assert.ok(!existsSync(out), "no empty file");
    const probe = await timed(["probe", camera.url + "nope", "--seconds", "60"]);
    assert.equal(probe.code, 1, probe.stderr);
    assert.match(probe.stderr, /expected a 2xx status, got 404 Not Found/);
    assert.ok(record.ms < 20_000 && probe.ms < 20_000, `${record.ms} ms, ${probe.ms} ms`);
  });

  it("an untrusted certificate ends snapshot at once; --ca FILE trusts it", async (t) => {
    if (!requireTools(t, "openssl")) return;
    await using camera = await startCamera({
      mode: "snapshot",
      cert: certs!.good.cert,
      key: certs!.good.key,
    });
    const out = join(dir, "tls.jpg");
    const refused = await timed([
      "snapshot",
      credentials(camera.url),
      "-o",
      out,
      "--timeout",
      "60",
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /got a certificate signed by an unknown CA/);
    assert.ok(refused.ms < 20_000);
    const trusted = await runCli([
      "snapshot",
      credentials(camera.url),
      "-o",
      out,
      "--ca",
      certs!.caFile,
    ]);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.equal(sha256(new Uint8Array(readFileSync(out))), fixtureSums[0]);
  });
});

describe("a refused connection is retried within --timeout, and said", () => {
  it("record against a port nothing listens on: says so, gives up at --timeout, writes no file", async () => {
    const port = await freePort();
    const out = join(dir, "refused.mjpeg");
    writeFileSync(out, "an older recording");
    const run = await timed([
      "record",
      `http://127.0.0.1:${port}/stream`,
      "-o",
      out,
      "--timeout",
      "2",
    ]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /record: fetch failed: .*ECONNREFUSED.*; retrying until a frame comes \(--timeout 2\)/,
    );
    assert.match(
      run.stderr,
      /record: http:\/\/127\.0\.0\.1:\d+\/stream: no frame in 2\.\d s; last error: .*ECONNREFUSED/,
    );
    assert.equal(readFileSync(out, "utf8"), "an older recording", "the old file is left alone");
    assert.ok(run.ms < 20_000, `took ${run.ms} ms`);
  });

  it("snapshot waits for a camera that comes up within --timeout", async () => {
    const port = await freePort();
    const out = join(dir, "late.jpg");
    const running = timed(["snapshot", `http://127.0.0.1:${port}/`, "-o", out, "--timeout", "20"]);
    await sleep(2500);
    await using camera = await startCamera({ auth: "none", port, mode: "snapshot" });
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /snapshot: fetch failed: .*ECONNREFUSED.*; retrying for [\d.]+ s more \(--timeout 20\)/,
    );
    assert.equal(sha256(new Uint8Array(readFileSync(out))), fixtureSums[0]);
    assert.ok(camera.requests.length >= 0);
  });
});

describe("probe as a health check", () => {
  it("exits 1 when no frame came in --seconds", async () => {
    const port = await freePort();
    const run = await timed([
      "probe",
      `http://127.0.0.1:${port}/`,
      "--seconds",
      "2",
      "--interval",
      "1",
    ]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /probe: no frame from http:\/\/127\.0\.0\.1:\d+\/ in 2\.\d s; last error: .*ECONNREFUSED/,
    );
    assert.match(run.stdout, /state=(waiting|connecting|stopped) error="fetch failed/);
  });

  it("exits 0 when frames came, with one stats line per interval", async () => {
    await using camera = await startCamera({ frames: 1000, interval: 0.1 });
    const run = await timed([
      "probe",
      credentials(camera.url) + "stream",
      "--seconds",
      "3",
      "--interval",
      "1",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.ok(lines.length >= 2 && lines.length <= 4, run.stdout);
    for (const line of lines) {
      assert.match(
        line,
        /^\d{4}-\d\d-\d\dT[\d:.]+Z fps=[\d.]+ frames=\d+ bytes=\d+ reconnects=\d+ dropped=\d+ state=\w+/,
      );
    }
    assert.match(lines.at(-2)!, /fps=([5-9]|1[0-4])\.\d\d frames=\d+ .* state=streaming/);
    assert.match(run.stderr, /probe: \d+ frames from http:\/\/admin:\*\*\*@127\.0\.0\.1/);
  });
});

describe("record says the frame rate and how to play the file at it", () => {
  for (const format of ["raw", "multipart"] as const) {
    it(`${format}: the measured rate, and ffmpeg plays the file at it`, async (t) => {
      if (!requireTools(t, "ffmpeg", "ffprobe")) return;
      await using camera = await startCamera({ frames: 1000, interval: 0.1 });
      const out = join(dir, `clip-${format}.mjpeg`);
      const run = await timed([
        "record",
        credentials(camera.url) + "stream",
        "-o",
        out,
        "--frames",
        "20",
        "--format",
        format,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const said = run.stderr.match(
        /recorded 20 frames \([\d.]+ MB\) to \S+ in [\d.]+ s at ([\d.]+) fps; the file keeps no frame rate \(players assume 25 fps\): play it at [\d.]+ with: (ffplay .*)$/m,
      );
      assert.ok(said, run.stderr);
      const fps = Number(said[1]);
      assert.ok(fps > 5 && fps < 12, `measured ${fps} fps from a 10 fps camera`);
      const play = said[2]!.split(" ").slice(1, -1);
      assert.deepEqual(
        play,
        format === "raw" ? ["-framerate", String(fps)] : ["-vf", `setpts=N/${fps}/TB`],
      );
      // ffplay's options, given to ffmpeg: the 20 frames last 20 / fps seconds.
      const played = spawnSync(
        "ffmpeg",
        [
          "-hide_banner",
          ...(format === "raw" ? play : []),
          "-i",
          out,
          ...(format === "raw" ? [] : play),
          "-f",
          "null",
          "-",
        ],
        { encoding: "utf8" },
      );
      assert.equal(played.status, 0, played.stderr);
      const [, hours, minutes, secs] = [...played.stderr.matchAll(/time=(\d+):(\d+):([\d.]+)/g)].at(
        -1,
      )!;
      const lasted = Number(hours) * 3600 + Number(minutes) * 60 + Number(secs);
      assert.ok(Math.abs(lasted - 20 / fps) < 0.25, `played ${lasted} s, expected ${20 / fps} s`);
      const probe = execFileSync(
        "ffprobe",
        [
          "-v",
          "error",
          ...(format === "raw" ? ["-framerate", String(fps), "-f", "mjpeg"] : ["-f", "mpjpeg"]),
          "-count_frames",
          "-show_entries",
          "stream=nb_read_frames",
          "-of",
          "csv=p=0",
          out,
        ],
        { encoding: "utf8" },
      );
      assert.equal(Number(probe.trim()), 20);
    });
  }
});

describe("--ca and --insecure are checked like every flag", () => {
  it("a missing or non-PEM CA file is exit status 2 naming the flag or the setting", async () => {
    const missing = join(dir, "missing-ca.pem");
    const notPem = join(dir, "not-a-ca.pem");
    writeFileSync(notPem, "hello");
    for (
      const [args, expected] of [
        [
          ["snapshot", "https://127.0.0.1:1/", "-o", "x.jpg", "--ca", missing],
          /mjpeg snapshot: --ca: cannot read \S+missing-ca\.pem \(ENOENT\)/,
        ],
        [
          ["record", "https://127.0.0.1:1/", "-o", "x.mjpeg", "--ca", notPem],
          /mjpeg record: --ca: expected a PEM certificate \("-----BEGIN CERTIFICATE-----"\) in \S+not-a-ca\.pem, got none/,
        ],
        [
          ["serve", "--url", "https://127.0.0.1:1/", "--ca", missing],
          /mjpeg serve: --ca: cannot read \S+missing-ca\.pem \(ENOENT\)/,
        ],
        [
          ["serve", "--pattern", "--insecure"],
          /mjpeg serve: --insecure: expected only with --url, --poll, not with --pattern/,
        ],
      ] as const
    ) {
      const run = await runCli([...args]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, expected);
    }
    const config = join(dir, "streams.json");
    writeFileSync(
      config,
      JSON.stringify({
        streams: { door: { type: "url", url: "https://127.0.0.1:1/", ca: missing } },
      }),
    );
    const run = await runCli(["serve", "--config", config]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /config file \S+streams\.json: streams\.door\.ca: cannot read \S+missing-ca\.pem \(ENOENT\)/,
    );
  });
});

describe("serve --url with a wrong password", () => {
  it("one clear error and exit 1 after 3 refused logins, never more", async () => {
    await using camera = await startCamera({ algorithms: ["MD5"] });
    const run = await timed([
      "serve",
      "--port",
      "0",
      "--url",
      camera.url.replace("://", "://admin:wrong-pw@") + "stream",
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /error: expected the camera to accept the password of user "admin", got 401 Unauthorized after answering its Digest challenge \(realm "IP Camera", algorithm MD5\), 3 times in a row; not asking again/,
    );
    assert.doesNotMatch(run.stderr, /wrong-pw/);
    await camera.logged(6);
    assert.equal(camera.requests.filter((r) => r.authorization !== null).length, 3);
  });
});
