/**
 * Camera controls at run time, end to end: the real `mjpeg serve` with the
 * stand-in rpicam-vid on PATH (tests/helpers/sources_fake_rpicam.sh, which
 * records each run's argv and, with FAKE_CAMERA_EXCLUSIVE=1, refuses to start
 * while another run still holds the camera, as rpicam-vid does). Requests go
 * through node:http, which lets a test send any Host and Origin a browser or
 * an attacker would.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServe, stopCleanly, writeConfig } from "./helpers/cli_run.ts";
import { fakeCameraDir } from "./helpers/fake_camera.ts";
import { fixtureFrames } from "./helpers/fixtures.ts";
import { sha256 } from "./helpers/hash.ts";
import { run, waitForLog } from "./helpers/processes.ts";
import { runtimeName } from "./helpers/runtime.ts";
import { tempDir } from "./helpers/temp_dir.ts";
import { requireTools, which } from "./helpers/tools.ts";
import { until } from "./helpers/wait.ts";
import { type BrowserPage, openPage } from "./helpers/chromium.ts";
import { MjpegDecoderStream } from "../src/wire/decoder_stream.ts";
import { CAMERA_SETTING_NAMES } from "../src/sources/camera_settings.ts";
import { parseServeArgs } from "../src/cli/serve_flags.ts";
import { isLoopback } from "../src/cli/serve.ts";
import { JpegEncoder } from "../src/internal/jpeg_encoder.ts";

const BASE = "rpicam-vid -t 0 -n --codec mjpeg";
const OUT = "-q 80 --flush -v 0 -o -";
const small = new Set(fixtureFrames.slice(0, 4).map(sha256));
/** Four real 640x480 JPEGs (the fixtures are 320x240), so a browser shows which run painted. */
const largeFrames = [0, 1, 2, 3].map((i) => {
  const rgba = new Uint8Array(640 * 480 * 4);
  for (let p = 0; p < 640 * 480; p++) {
    rgba[p * 4] = (p % 640) * 255 / 639;
    rgba[p * 4 + 1] = 60 * i;
    rgba[p * 4 + 2] = Math.floor(p / 640) * 255 / 479;
  }
  return new JpegEncoder(80).encode(rgba, 640, 480);
});
const large = new Set(largeFrames.map(sha256));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request through node:http; `chunks` sends the body in pieces, without a length. */
function send(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    chunks?: string[];
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: options.method ?? "GET",
      headers: {
        ...(options.body !== undefined
          ? { "Content-Length": String(Buffer.byteLength(options.body)) }
          : {}),
        ...options.headers,
      },
    }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (t: string) => body += t);
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer from ${url}`)));
    if (options.chunks) { for (const chunk of options.chunks) req.write(chunk); }
    req.end(options.body);
  });
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/** The argv of every run of the stand-in in `dir`, oldest first, as one line each. */
function runs(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith("run.")).map((n) => ({
    argv: readFileSync(join(dir, n), "utf8").trimEnd().split("\n").join(" "),
    at: statSync(join(dir, n)).mtimeMs,
  })).sort((a, b) => a.at - b.at).map((r) => r.argv);
}

/** Waits up to 15 s: a camera's start and restart are processes on a busy machine. */
const waitFor = (check: () => boolean, what: string) => until(check, what, 15_000, 25);

/** Waits up to 20 s until `expression` evaluates to `expected` in the page. */
async function pageShows(
  page: BrowserPage,
  expression: string,
  expected: unknown,
  what: string,
): Promise<void> {
  let last: unknown;
  await until(
    async () => (last = await page.evaluate(expression)) === expected,
    () => `${what} (${JSON.stringify(expected)}), last ${JSON.stringify(last)}`,
    20_000,
    100,
  );
}

/**
 * `mjpeg serve` with the stand-in camera: fixtures 1-4 at 320x240 and
 * `largeFrames` at 640x480 (per camera number when `cameras` is given), so a frame tells which
 * run sent it.
 */
async function serveCamera(args: string[], cameras?: number[]) {
  const dir = fakeCameraDir();
  for (const camera of cameras ?? [undefined]) {
    const root = camera === undefined ? "frames" : `frames/camera${camera}`;
    const sizes: [string, Uint8Array[]][] = [
      ["320x240", fixtureFrames.slice(0, 4)],
      ["640x480", largeFrames],
    ];
    for (const [size, frames] of sizes) {
      mkdirSync(join(dir.path, root, size), { recursive: true });
      frames.forEach((frame, i) => writeFileSync(join(dir.path, root, size, `${i}.jpg`), frame));
    }
  }
  const env = {
    ...dir.env,
    FAKE_CAMERA_FRAMES: join(dir.path, "frames"),
    FAKE_CAMERA_EXCLUSIVE: "1",
  };
  let child;
  try {
    child = await startServe(args, { env });
  } catch (error) {
    dir.remove();
    throw error;
  }
  return {
    child,
    // A server on 0.0.0.0 is reached on 127.0.0.1.
    url: child.url.replace("0.0.0.0", "127.0.0.1"),
    runs: () => runs(dir.path),
    async [Symbol.asyncDispose]() {
      try {
        await stopCleanly(child);
      } finally {
        dir.remove();
      }
    },
  };
}

const CAMERA_320 = [
  "--camera",
  "--width",
  "320",
  "--height",
  "240",
  "--fps",
  "10",
  "--stats-interval",
  "0",
];

describe("mjpeg serve: camera controls", () => {
  it(
    "a change restarts the stand-in camera with exactly the new arguments while a viewer " +
      "stays connected",
    async () => {
      await using served = await serveCamera(CAMERA_320);
      await waitFor(() => served.runs().length === 1, "the camera to start");
      const response = await fetch(`${served.url}/stream.mjpg`);
      const reader = response.body!.pipeThrough(
        new MjpegDecoderStream({ contentType: response.headers.get("content-type") }),
      ).getReader();
      const hashes: string[] = [];
      const arrivals: number[] = [];
      const read = async (done: () => boolean) => {
        const deadline = Date.now() + 20_000;
        while (!done()) {
          const next = await Promise.race([
            reader.read(),
            new Promise<never>((_, reject) =>
              setTimeout(() => reject(new Error("no frame for 10 s")), 10_000)
            ),
          ]);
          assert.equal(next.done, false, "the viewer's stream stays open");
          hashes.push(sha256(next.value!.data));
          arrivals.push(performance.now());
          assert.ok(Date.now() < deadline, "frames keep coming");
        }
      };
      try {
        await read(() => hashes.length >= 3);
        const before = JSON.parse((await send(`${served.url}/stats`)).body);
        assert.equal(before.viewers, 1);

        const answer = await send(
          `${served.url}/control`,
          json({ width: 640, height: 480, hflip: true, awb: "daylight", brightness: 0.25 }),
        );
        assert.equal(answer.status, 200, answer.body);
        const result = JSON.parse(answer.body);
        assert.deepEqual(result.changed, ["width", "height", "hflip", "awb", "brightness"]);
        assert.equal(result.controls.width.value, 640);
        assert.equal(result.controls.awb.value, "daylight");

        await read(() => hashes.filter((h) => large.has(h)).length >= 3);
        const after = JSON.parse((await send(`${served.url}/stats`)).body);
        assert.equal(after.viewers, 1, "the same one viewer");
        // A restart asked for is no outage: no failure in /stats (nor in the log, below).
        assert.equal(after.status.state, "running", JSON.stringify(after.status));
        assert.equal(after.status.lastError, null);
        assert.deepEqual(
          after.viewerStats.map((v: { id: number }) => v.id),
          before.viewerStats.map((v: { id: number }) => v.id),
          "the viewer that was there before the change",
        );
      } finally {
        await reader.cancel();
      }
      // Byte-exact frames from the stand-in: the first run's, then only the second's.
      const firstLarge = hashes.findIndex((h) => large.has(h));
      assert.ok(firstLarge >= 3);
      assert.ok(hashes.slice(0, firstLarge).every((h) => small.has(h)), "run 1's frames");
      assert.ok(hashes.slice(firstLarge).every((h) => large.has(h)), "then run 2's only");
      // The pause the viewer sees: the old run's exit and the new one's start (with the
      // stand-in; a Pi adds opening the camera). A bound, not a speed test.
      const pause = arrivals[firstLarge]! - arrivals[firstLarge - 1]!;
      console.log(`restart pause seen by the viewer: ${pause.toFixed(0)} ms (${runtimeName})`);
      assert.ok(pause < 10_000, `the viewer waited ${pause} ms for the new run's first frame`);
      assert.deepEqual(served.runs(), [
        `${BASE} --width 320 --height 240 --framerate 10 ${OUT}`,
        `${BASE} --width 640 --height 480 --framerate 10 ${OUT} --hflip --awb daylight --brightness 0.25`,
      ]);
      const controls = JSON.parse((await send(`${served.url}/control`)).body).controls;
      assert.deepEqual(Object.keys(controls), CAMERA_SETTING_NAMES);
      assert.equal(controls.brightness.value, 0.25);
      assert.deepEqual(
        { min: controls.brightness.min, max: controls.brightness.max },
        { min: -1, max: 1 },
      );
      const log = served.child.output.stderr;
      assert.equal(
        log.split("\n").filter((l) => l.includes("settings changed")).length,
        1,
        log,
      );
      assert.match(
        log,
        /\[camera\] camera: settings changed: width 320 → 640, height 240 → 480, hflip false → true, awb auto → daylight, brightness 0 → 0\.25; restarting the camera with them/,
      );
      assert.doesNotMatch(
        log,
        /source restarted|in use by another program|source retrying|camera offline/,
      );
    },
  );

  it(
    "the viewer page offers the settings in headless Chromium; a change made there restarts " +
      "the camera while the page's own stream goes on",
    async (t) => {
      if (!requireTools(t, "chromium")) return;
      await using served = await serveCamera(CAMERA_320);
      await waitFor(() => served.runs().length === 1, "the camera to start");
      await using page = await openPage(`${served.url}/`);
      const viewer = async () => {
        const stats = JSON.parse((await send(`${served.url}/stats`)).body);
        return stats.viewerStats as { id: number; framesSent: number }[];
      };
      const evaluate = (expression: string) => page.evaluate(expression);
      const poll = (expression: string, expected: unknown, what: string) =>
        pageShows(page, expression, expected, what);
      const output = `document.querySelector("[data-out=control]").textContent`;
      const field = (name: string) =>
        `document.querySelector("form").elements.namedItem("${name}")`;
      const width = `document.querySelector("mjpeg-view")?.stats?.width`;
      await poll(width, 320, "the stream painted");
      const [before] = await viewer();
      assert.ok(before, "the page is a viewer");
      await evaluate(`document.querySelector("details").open = true`);
      await poll(
        `${field("awb")} && ${field("awb")}.value`,
        "auto",
        "the form, as GET describes it",
      );
      assert.deepEqual(
        await evaluate(
          `Array.prototype.map.call(document.querySelector("form").elements, (e) => e.name)` +
            `.filter(Boolean)`,
        ),
        CAMERA_SETTING_NAMES,
        "a field for every control",
      );
      assert.deepEqual(
        await evaluate(
          `[${field("width")}.value, ${field("brightness")}.min, ` +
            `${field("brightness")}.max, ${field("hflip")}.checked, ${
              field("lensPosition")
            }.value]`,
        ),
        ["320", "-1", "1", false, ""],
      );

      // Out of range: the server's 400 is shown, and nothing restarts.
      await evaluate(
        `${field("brightness")}.value = "3"; document.querySelector("form").requestSubmit()`,
      );
      await poll(
        output,
        "400 Bad Request: brightness: expected a number between -1 and 1, got 3",
        "the range in the page",
      );
      assert.equal(served.runs().length, 1);

      await evaluate(
        `${field("brightness")}.value = "0.5"; ${field("width")}.value = "640"; ` +
          `${field("height")}.value = "480"; ${field("awb")}.value = "cloudy"; ` +
          `${field("vflip")}.checked = true; document.querySelector("form").requestSubmit()`,
      );
      await poll(output, "changed width, height, vflip, awb, brightness", "the change applied");
      await waitFor(() => served.runs().length === 2, "the restart");
      assert.equal(
        served.runs()[1],
        `${BASE} --width 640 --height 480 --framerate 10 ${OUT} --vflip --awb cloudy --brightness 0.5`,
      );
      // The same view's connection now paints the new run's 640x480 frames.
      await poll(
        width,
        640,
        "the new run's frames painted",
      );
      const sent = (await viewer())[0]!.framesSent;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = await viewer();
      assert.deepEqual(
        after.map((v) => v.id),
        [before.id],
        "the page's viewer, never reconnected",
      );
      assert.equal(
        await evaluate(`document.querySelector("mjpeg-view").stats.reconnects`),
        0,
        "the view never reconnected",
      );
      assert.ok(
        after[0]!.framesSent > sent,
        `frames keep coming: ${sent} → ${after[0]!.framesSent}`,
      );
      assert.equal(
        await evaluate(`${field("width")}.value`),
        "640",
        "the form shows the new values",
      );
    },
  );

  it("with a token, the page's form sends it and changes the camera of a reachable server", async (t) => {
    if (!requireTools(t, "chromium")) return;
    const token = "page-token-0123";
    await using served = await serveCamera(["--host", "0.0.0.0", "--token", token, ...CAMERA_320]);
    await waitFor(() => served.runs().length === 1, "the camera to start");
    await using page = await openPage(`${served.url}/?token=${token}`);
    const wait = (expression: string, expected: unknown) =>
      pageShows(page, expression, expected, expression);
    const field = `document.querySelector("form").elements.namedItem("sharpness")`;
    await wait(`document.readyState === "complete" && !!document.querySelector("details")`, true);
    await page.evaluate(`document.querySelector("details").open = true`);
    await wait(`${field} ? ${field}.value : ""`, "1");
    await page.evaluate(`${field}.value = "4"; document.querySelector("form").requestSubmit()`);
    await wait(`document.querySelector("[data-out=control]").textContent`, "changed sharpness");
    await waitFor(() => served.runs().length === 2, "the restart");
    assert.equal(
      served.runs()[1],
      `${BASE} --width 320 --height 240 --framerate 10 ${OUT} --sharpness 4`,
    );
  });

  it("answers bad changes with 400 naming the range or the known controls, and changes nothing", async (t) => {
    if (!requireTools(t, "curl")) return;
    await using served = await serveCamera(CAMERA_320);
    await waitFor(() => served.runs().length === 1, "the camera to start");
    const control = `${served.url}/control`;
    const cases: [Parameters<typeof send>[1], number, RegExp][] = [
      [
        json({ brightness: 3 }),
        400,
        /^400 Bad Request: brightness: expected a number between -1 and 1, got 3\n$/,
      ],
      [
        json({ colour: 1 }),
        400,
        new RegExp(`unknown control "colour", expected one of ${CAMERA_SETTING_NAMES.join(", ")}`),
      ],
      [
        json({ awb: "sunny" }),
        400,
        /awb: expected one of auto, incandescent, .*, custom, got "sunny"/,
      ],
      [
        json({ shutter: -5 }),
        400,
        /shutter: expected a whole number between 0 and 700000000 µs \(0: automatic\), got -5/,
      ],
      [
        json({ fps: 0.1 }),
        400,
        /fps: expected more than 0.2 fps: the stall timeout \(5 s\) restarts/,
      ],
      [
        json([1, 2]),
        400,
        /expected a JSON object of control → value, e\.g\. \{"brightness":0\.2\}, got \[1,2\]/,
      ],
      [
        { method: "POST", headers: { "Content-Type": "application/json" }, body: "brightness=1" },
        400,
        /expected a JSON object of control → value/,
      ],
      [json({ awb: "x".repeat(9000) }), 413, /413 Content Too Large: expected at most 8192 bytes/],
      [
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          chunks: ["{", " ".repeat(9000), "}"],
        },
        // Deno's server takes request bodies with a Content-Length only (411 before any route).
        runtimeName === "deno" ? 411 : 413,
        runtimeName === "deno" ? /411 Length Required/ : /expected at most 8192 bytes/,
      ],
      [
        { method: "POST", headers: { "Content-Type": "text/plain" }, body: "{}" },
        415,
        /expected Content-Type application\/json \(or application\/x-www-form-urlencoded\), got "text\/plain"/,
      ],
      [{ method: "POST", body: "{}" }, 415, /expected Content-Type application\/json/],
      [{ method: "PUT", body: "{}" }, 405, /expected GET or POST/],
    ];
    for (const [options, status, body] of cases) {
      const answer = await send(control, options);
      assert.equal(
        answer.status,
        status,
        `${JSON.stringify(options).slice(0, 80)}: ${answer.body}`,
      );
      assert.match(answer.body, body);
    }
    assert.equal(served.runs().length, 1, "no bad change restarted the camera");

    // curl's form-encoded body, as a user at the Pi's shell would send it.
    const bad = await run(which("curl")!, ["-sS", "-d", "brightness=abc", control]);
    assert.match(
      new TextDecoder().decode(bad.stdout),
      /brightness: expected a number between -1 and 1, got "abc"/,
    );
    const good = await run(which("curl")!, [
      "-sS",
      "-f",
      "-d",
      "awb=cloudy",
      "-d",
      "brightness=-0.5",
      "-d",
      "vflip=on",
      control,
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(good.stdout)).changed, [
      "vflip",
      "awb",
      "brightness",
    ]);
    await waitFor(() => served.runs().length === 2, "the restart");
    assert.equal(
      served.runs()[1],
      `${BASE} --width 320 --height 240 --framerate 10 ${OUT} --vflip --awb cloudy --brightness -0.5`,
    );
  });

  it("on loopback without credentials, refuses cross-site requests and other Hosts", async () => {
    await using served = await serveCamera(CAMERA_320);
    await waitFor(() => served.runs().length === 1, "the camera to start");
    const control = `${served.url}/control`;
    const port = new URL(served.url).port;
    const refused: [Record<string, string>, RegExp][] = [
      [{ Origin: "http://evil.example" }, /got Origin: http:\/\/evil\.example/],
      [{ Origin: "null" }, /got Origin: null/],
      [{ "Sec-Fetch-Site": "cross-site" }, /got Sec-Fetch-Site: cross-site/],
      // Another port of this host is another origin (a page on localhost:3000).
      [{ "Sec-Fetch-Site": "same-site", Origin: `http://127.0.0.1:${port}` }, /same-site/],
      // A page that rebinds its name to 127.0.0.1 sends its own name as the Host.
      [
        { Host: `evil.example:${port}`, "Sec-Fetch-Site": "same-origin" },
        /expected a Host of localhost, 127\.0\.0\.1 or \[::1\] for controls without credentials, got "evil\.example:\d+"/,
      ],
    ];
    for (const [headers, body] of refused) {
      const answer = await send(control, json({ brightness: 0.5 }, headers));
      assert.equal(answer.status, 403, `${JSON.stringify(headers)}: ${answer.body}`);
      assert.match(answer.body, body);
    }
    const rebound = await send(control, { headers: { Host: `evil.example:${port}` } });
    const reboundPage = await send(`${served.url}/`, { headers: { Host: `evil.example:${port}` } });
    assert.equal(reboundPage.status, 200);
    assert.doesNotMatch(
      reboundPage.body,
      /<details data-control/,
      "nor does the page offer them there",
    );
    assert.match((await send(`${served.url}/`)).body, /<details data-control="control">/);
    assert.equal(rebound.status, 403, "nor read through another name");
    assert.equal(served.runs().length, 1, "nothing changed");

    // The server's own page (same origin), a program, and localhost by name are fine.
    for (
      const headers of [
        { "Sec-Fetch-Site": "same-origin", Origin: served.url },
        { Origin: served.url },
        { Host: `localhost:${port}` },
      ]
    ) {
      const answer = await send(control, json({ contrast: 1 + Math.random() }, headers));
      assert.equal(answer.status, 200, `${JSON.stringify(headers)}: ${answer.body}`);
    }
  });

  it("is off (403) on a reachable server without credentials, and needs them when they are set", async () => {
    {
      await using open = await serveCamera(["--host", "0.0.0.0", ...CAMERA_320]);
      for (const options of [{}, json({ brightness: 0.5 })]) {
        const answer = await send(`${open.url}/control`, options);
        assert.equal(answer.status, 403);
        assert.match(
          answer.body,
          /camera controls are off: they need credentials \(mjpeg serve --auth or --token\) or a server that listens only on 127\.0\.0\.1/,
        );
      }
      assert.equal((await send(`${open.url}/snapshot.jpg`)).status, 200, "the rest is served");
      const page = await send(`${open.url}/`);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.body, /<details data-control/, "the page offers no controls");
      assert.equal(open.runs().length, 1);
    }
    await using guarded = await serveCamera([
      "--host",
      "0.0.0.0",
      "--auth",
      "pi:secret-pass",
      "--cors",
      "https://dash.example",
      ...CAMERA_320,
    ]);
    await waitFor(() => guarded.runs().length === 1, "the camera to start");
    const control = `${guarded.url}/control`;
    const basic = (user: string) => ({ Authorization: `Basic ${btoa(user)}` });
    assert.equal((await send(control)).status, 401);
    assert.equal((await send(control, json({ ev: 1 }))).status, 401);
    assert.equal((await send(control, json({ ev: 1 }, basic("pi:wrong")))).status, 401);
    assert.equal((await send(control, { headers: basic("pi:secret-pass") })).status, 200);
    const page = await send(`${guarded.url}/`, { headers: basic("pi:secret-pass") });
    assert.match(page.body, /<details data-control="control">/, "the page offers them");
    // CORS is on for the streams, never for /control: no preflight lets another site's page post.
    const preflight = (path: string) =>
      send(`${guarded.url}${path}`, {
        method: "OPTIONS",
        headers: {
          Origin: "https://dash.example",
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "content-type",
        },
      });
    assert.equal(
      (await preflight("/stream.mjpg")).headers["access-control-allow-origin"],
      "https://dash.example",
    );
    const controlPreflight = await preflight("/control");
    assert.equal(controlPreflight.headers["access-control-allow-origin"], undefined);
    assert.equal(controlPreflight.status, 405);
    const fromDash = await send(
      control,
      json({ ev: 1 }, { ...basic("pi:secret-pass"), Origin: "https://dash.example" }),
    );
    assert.equal(fromDash.status, 403, "credentials a browser holds do not make a cross-site post");
    assert.equal(guarded.runs().length, 1);
    const answer = await send(control, json({ ev: 1 }, basic("pi:secret-pass")));
    assert.equal(answer.status, 200, answer.body);
    await waitFor(() => guarded.runs().length === 2, "the restart");
    assert.match(guarded.runs()[1]!, / --ev 1$/);
    // The client's address is not what decides: a reachable server without auth stays off
    // even for a request from 127.0.0.1 (a reverse proxy on the same machine is one).
  });

  it("takes a --host as loopback-only for 127.0.0.0/8, ::1 and localhost alone", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"]) {
      assert.equal(isLoopback(host), true, host);
    }
    for (
      const host of [
        "0.0.0.0",
        "::",
        "192.168.1.20",
        "::ffff:127.0.0.1",
        "127.0.0.1.example",
        "localhost.example",
        "camera.local",
        "",
      ]
    ) {
      assert.equal(isLoopback(host), false, host);
    }
  });

  it("a config file's stream may not be named after a route of its own", async () => {
    using dir = tempDir("controls-names");
    for (const name of ["control", "stats", "a b"]) {
      const file = writeConfig(dir.path, { streams: { [name]: { type: "pattern" } } });
      await assert.rejects(
        parseServeArgs(["--config", file]),
        name === "a b"
          ? /streams\.a b: expected a stream name of letters, digits, - and _ \(it becomes a URL path\)/
          : new RegExp(
            `streams\\.${name}: expected a stream name other than "stats" and "control"`,
          ),
      );
    }
  });

  it("for named streams: /<name>/control changes that camera alone; other sources have none (404)", async () => {
    using dir = tempDir("controls-config");
    const file = writeConfig(dir.path, {
      streams: {
        front: { type: "camera", camera: 0, width: 320, height: 240, fps: 10 },
        back: { type: "camera", camera: 1, width: 320, height: 240, fps: 10 },
        demo: { type: "pattern", width: 64, height: 48, fps: 2 },
      },
    });
    await using served = await serveCamera(
      ["--config", file, "--stats-interval", "0"],
      [0, 1],
    );
    await waitFor(() => served.runs().length === 2, "both cameras to start");
    const answer = await send(`${served.url}/back/control`, json({ vflip: true }));
    assert.equal(answer.status, 200, answer.body);
    await waitFor(() => served.runs().length === 3, "the restart");
    const base = `${BASE} --width 320 --height 240 --framerate 10 ${OUT}`;
    assert.deepEqual(served.runs().slice(2), [`${base} --camera 1 --vflip`]);
    assert.deepEqual(served.runs().slice(0, 2).sort(), [
      `${base} --camera 0`,
      `${base} --camera 1`,
    ]);
    const front = JSON.parse((await send(`${served.url}/front/control`)).body);
    assert.equal(front.controls.vflip.value, false);
    const root = JSON.parse((await send(`${served.url}/control`)).body);
    assert.deepEqual(root, front, "the first stream's at the root too");
    const demo = await send(`${served.url}/demo/control`);
    assert.equal(demo.status, 404);
    assert.match(
      demo.body,
      /this stream has no controls \(a camera's settings change at run time/,
    );
    await waitForLog(served.child, /\[back\] camera: settings changed: vflip false → true/);
    assert.doesNotMatch(served.child.output.stderr, /\[front\] camera: settings changed/);
  });
});
