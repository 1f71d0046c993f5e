/**
 * `mjpeg serve`: one source from flags (or several named streams from a
 * config file), each fed into a FrameHub, served by the Hono app on Deno, Bun
 * or Node. Sources that fail are restarted; the process stops cleanly on
 * SIGINT or SIGTERM.
 *
 * @module
 */
import process from "node:process";
import { serve, type ServeOptions } from "../runtime/serve.ts";
import { loadTls } from "../runtime/tls.ts";
import { claimSocketPath } from "../runtime/unix_socket.ts";
import { FrameHub } from "../server/frame_hub.ts";
import { mjpegApp } from "../hono/mjpeg_app.ts";
import { SourceError } from "../sources/process.ts";
import { AuthenticationError } from "../client/camera_fetch.ts";
import { onDemandSource } from "../sources/on_demand.ts";
import type { FrameSource, LogLine } from "../sources/source.ts";
import { Backoff, type BackoffPolicy } from "../internal/backoff.ts";
import { sleep } from "../internal/sleep.ts";
import { SettingError } from "../internal/validate.ts";
import { createSource, type ServeConfig, streamBehaviour } from "./config.ts";
import { watchHubs } from "./events.ts";
import { parseServeArgs } from "./serve_flags.ts";
import { type CliIo, logTo, UsageError } from "./usage.ts";

/** The help text of `mjpeg serve`. */
export const SERVE_HELP = `Usage: mjpeg serve [source] [options]

Serves MJPEG streams over HTTP: a viewer page at /, the stream at /stream.mjpg,
a snapshot at /snapshot.jpg, stats at /stats (and /?action=stream|snapshot).

Source (one; the test pattern when none is given):
  --pattern              built-in test pattern (no camera needed)
  --camera [N]           Raspberry Pi camera via rpicam-vid (or libcamera-vid); N picks one
                         of several (see "mjpeg cameras"; also --camera=N)
  --webcam DEV           USB webcam via ffmpeg, e.g. /dev/video0 (MJPEG passed through)
  --command "CMD ARGS"   any program writing MJPEG to stdout (split like a shell, never run by one)
  --url URL              relay another MJPEG server's stream (user:pass@ in it for
                         Digest or Basic auth)
  --poll URL             a camera's snapshot URL (one JPEG per request, user:pass@ as for
                         --url), asked at up to --fps times a second (default 1), over one
                         kept-alive connection
  --file PATH            a JPEG file rewritten by another program, or a folder of JPEGs
  --config FILE          a JSON file with several named streams (see README)

Image (camera, webcam, pattern; --fps also for folders and --poll):
  --width N --height N   size in pixels (default 640x480)
  --fps N                frames per second (camera/webcam 15, pattern/folder 10, poll 1)
  --timeout S            poll: seconds from a request to the whole image (default 10)
  --quality N            JPEG quality 1..100 (camera, pattern)
  --rotation 0|180 --hflip --vflip   camera orientation

Camera settings (rpicam-vid's options of the same names; GET/POST /control
changes them while it runs, see docs/server.md):
  --shutter US           exposure time in microseconds (default 0: automatic)
  --gain G               analogue and digital gain, 0..64 (default 0: automatic)
  --exposure MODE        normal, sport, short, long or custom (default normal)
  --awb MODE             auto, incandescent, tungsten, fluorescent, indoor, daylight,
                         cloudy or custom (default auto)
  --ev STOPS             exposure compensation, -10..10 (default 0)
  --brightness B         -1..1 (default 0)
  --contrast C --saturation S   0..32 (default 1)
  --sharpness S          0..16 (default 1)
  --autofocus-mode MODE  default, manual, auto or continuous (Camera Module 3)
  --lens-position D      focus in dioptres, 0 (infinity)..32
  --camera-args "ARGS"   more rpicam-vid arguments, e.g. "--denoise cdn_off"
  --camera-program P     the camera program (default rpicam-vid, then libcamera-vid)

Relay and polling (--url, --poll):
  --ca FILE              trust this CA (PEM) for an https upstream
  --insecure             accept any certificate from it (self-signed, expired)

Restarts (camera, webcam, command; in seconds, like every duration here):
  --no-restart           end when the program exits instead of restarting it
  --restart-delay S      first restart delay, doubled per failure (default 0.5)
  --restart-max-delay S  longest restart delay (default 10)
  --healthy-run S        a run this long with frames resets the delay (default 10)
  --stall-timeout S      no frame this long: restart the program (camera/webcam 5,
                         command 0 = off)
  --stop-grace S         SIGINT to SIGKILL when stopping (default 2)

Server:
  --port N               TCP port (default 8080; 0 picks a free one)
  --host ADDR            address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --auth USER:PASS       require HTTP Basic auth
  --token T              require a bearer token (or ?token=T), at least 8 characters
  --cors ORIGIN          allow web pages from ORIGIN (comma-separated, or *) to read streams
  --max-viewers N        refuse viewers beyond N with 503
  --max-snapshots N      answer at most N snapshots at once, 503 beyond (default: --max-viewers)
  --viewer-timeout S     drop a viewer whose connection takes no bytes for S seconds
                         (default 30; 0: never; at most 3600)
  --header-timeout S     seconds a client has to send its request head (default 10; 0.1 to 600)
  --max-connections N    close connections beyond N (default: the open-file limit less a reserve)
  --max-connections-per-address N   close connections beyond N from one address (default: no cap)
  --stats-interval S     seconds between stats lines (default 10; 0: off; at most 86400)
  --tls-cert FILE --tls-key FILE   serve HTTPS with this certificate (chain) and its key (PEM)
  --unix PATH            listen on a unix socket instead of TCP (not with --port, --host, TLS)
  --unix-mode MODE       the socket's permission bits in octal, e.g. 660 (default: the umask's)

Outages and demand (seconds; 0 turns each off):
  --keepalive S          while no new frame comes, send the last one again every S seconds
                         (default 1; at most 60), so proxies and players keep the stream
  --offline-after S      no frame for S seconds: the camera is offline, viewers get an
                         "offline" card saying since when (default 5)
  --snapshot-max-age S   a snapshot older than S seconds is 503 with Retry-After, never an
                         old picture (default 5)
  --drop-same-frames     do not send a frame byte-identical to the one before
  --on-demand[=S]        run the source only while someone watches (or a snapshot waits),
                         stopping S seconds after the last viewer leaves (default 10)
  -h, --help             this help
`;

/**
 * Runs `mjpeg serve` until SIGINT/SIGTERM (or `signal`).
 *
 * @param argv The arguments after `serve`.
 * @param io Where help and event lines go.
 * @param signal Stops the server when aborted (tests; the CLI uses signals).
 * @returns The exit status.
 */
export async function serveCommand(
  argv: readonly string[],
  io: CliIo,
  signal?: AbortSignal,
): Promise<number> {
  const { config, raw, named, settingName } = await parseServeArgs(argv);
  if (!config) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  const file = typeof raw.values.config === "string" ? raw.values.config : undefined;
  const listen = await listenOptions(config, settingName);
  return await run(config, listen, named, file, logTo(io), signal);
}

/** Where `serve()` listens; what each runtime's server is started with. */
type ListenOptions = Pick<ServeOptions, "port" | "hostname" | "tls" | "path" | "socketMode">;

/**
 * Checks what the listening settings name before anything starts — the
 * certificate and key files (readable, PEM, a matching pair), the socket path
 * (free, or a stale socket to replace) — so a mistake exits with 2 and a
 * message naming the setting, with no source started.
 */
async function listenOptions(
  config: ServeConfig,
  settingName: (key: string) => string,
): Promise<ListenOptions> {
  try {
    if (config.unix !== undefined) {
      await claimSocketPath(config.unix, settingName("unix"));
      return {
        path: config.unix,
        ...(config.unixMode ? { socketMode: parseInt(config.unixMode, 8) } : {}),
      };
    }
    const tls = config.tlsCert !== undefined && config.tlsKey !== undefined
      ? await loadTls(
        { cert: config.tlsCert, key: config.tlsKey },
        { cert: settingName("tlsCert"), key: settingName("tlsKey") },
      )
      : undefined;
    return {
      port: config.port ?? 8080,
      hostname: config.host ?? "127.0.0.1",
      ...(tls ? { tls } : {}),
    };
  } catch (error) {
    if (error instanceof SettingError) throw new UsageError("serve", error.message);
    throw error;
  }
}

async function run(
  config: ServeConfig,
  listen: ListenOptions,
  named: boolean,
  configFile: string | undefined,
  log: LogLine,
  signal: AbortSignal | undefined,
): Promise<number> {
  const stop = new AbortController();
  const hubs: Record<string, FrameHub> = {};
  const sources: Record<string, FrameSource> = {};
  const onDemand: Record<string, number | undefined> = {};
  for (const [name, spec] of Object.entries(config.streams)) {
    const behaviour = streamBehaviour(config, name);
    const hub = new FrameHub({
      keepalive: Math.round(config.keepalive * 1000),
      offlineAfter: behaviour.offlineAfter,
      dropSameFrames: behaviour.dropSameFrames,
    });
    hubs[name] = hub;
    const source = createSource(
      spec,
      (line) => log(`[${name}] ${line}`),
      (status) => hub.reportSourceStatus(status),
    );
    sources[name] = behaviour.onDemand === undefined
      ? source
      : onDemandSource(source, hub, behaviour.onDemand);
    onDemand[name] = behaviour.onDemand;
  }
  // A mistake no retry mends (no such program, device or folder) stops here,
  // before anything listens or runs.
  for (const [name, source] of Object.entries(sources)) {
    try {
      await source.check?.();
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      const type = config.streams[name]!.type;
      const where = named
        ? `config file ${configFile}: streams.${name}${error.setting ? `.${error.setting}` : ""}`
        : `--${type}`;
      throw new UsageError("serve", `${where}: ${error.message}`);
    }
  }
  const [firstName] = Object.keys(hubs);
  const controls = Object.fromEntries(
    Object.entries(sources).flatMap(([name, s]) => s.controls ? [[name, s.controls]] : []),
  );
  const app = mjpegApp({
    streams: named ? hubs : hubs[firstName!]!,
    ...(named ? { controls } : controls[firstName!] ? { controls: controls[firstName!]! } : {}),
    // A unix socket is reached through whatever proxy fronts it: never loopback-only.
    loopbackOnly: config.unix === undefined && isLoopback(config.host ?? "127.0.0.1"),
    ...(config.auth ? { auth: basicAuth(config.auth) } : {}),
    ...(config.token ? { auth: { token: config.token } } : {}),
    ...(config.cors ? { cors: { origin: corsOrigins(config.cors) } } : {}),
    ...(config.maxViewers ? { maxViewers: config.maxViewers } : {}),
    ...(config.maxSnapshots ? { maxSnapshots: config.maxSnapshots } : {}),
    viewerTimeout: config.viewerTimeout * 1000,
    snapshotMaxAge: Math.round(config.snapshotMaxAge * 1000),
    log,
  });
  let server;
  try {
    server = await serve(app, {
      ...listen,
      shutdownTimeout: 2000,
      headerTimeout: config.headerTimeout * 1000,
      ...(config.maxConnections ? { maxConnections: config.maxConnections } : {}),
      ...(config.maxConnectionsPerAddress
        ? { maxConnectionsPerAddress: config.maxConnectionsPerAddress }
        : {}),
      log,
    });
  } catch (error) {
    const where = listen.path !== undefined
      ? `unix:${listen.path}`
      : `${listen.hostname}:${listen.port}`;
    log(`cannot listen on ${where}: ${(error as Error).message}`);
    return 1;
  }
  // The socket's path is no URL: the streams are named by their paths on it.
  const base = server.path !== undefined
    ? ""
    : `${listen.tls ? "https" : "http"}://${
      server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname
    }:${server.port}`;
  log(
    `listening on ${
      server.path !== undefined ? `unix:${server.path}` : `${base}/`
    } (${server.runtime})`,
  );
  for (const name of Object.keys(hubs)) {
    const path = named ? `/${name}/` : "/";
    const demand = onDemand[name] === undefined
      ? ""
      : ` (runs while watched, stops ${onDemand[name]! / 1000} s after the last viewer)`;
    log(`stream ${name}: ${sources[name]!.description} → ${base}${path}stream.mjpg${demand}`);
  }

  const onSignal = (name: string) => {
    if (stop.signal.aborted) {
      log(`${name} again: exiting now`);
      process.exit(130);
    }
    log(`${name}: stopping`);
    stop.abort();
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const watcher = watchHubs(hubs, log, config.statsInterval);

  let failure: Error | undefined;
  const feeding = Object.entries(sources).map(([name, source]) =>
    feed(name, source, hubs[name]!, log, stop.signal).catch((error: Error) => {
      failure = error;
      stop.abort();
    })
  );
  await new Promise<void>((resolve) => {
    if (stop.signal.aborted) resolve();
    stop.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  watcher.stop();
  await Promise.all(feeding);
  await server.close();
  for (const hub of Object.values(hubs)) hub.close();
  process.off("SIGINT", onInt);
  process.off("SIGTERM", onTerm);
  if (failure) {
    log(`error: ${failure.message}`);
    return 1;
  }
  log("stopped");
  return 0;
}

/**
 * Feeds one hub from its source for as long as the server runs. A source
 * that fails (or ends) is started again with backoff; one that cannot start
 * at all the first time (no camera program) is fatal, so a mistake shows at
 * once rather than as an endless retry.
 */
/** How the command restarts a failed source: the shared backoff, 1 s doubling to 30 s. */
const FEED_BACKOFF: BackoffPolicy = {
  initialDelay: 1000,
  maxDelay: 30_000,
  multiplier: 2,
  jitter: 0,
  limit: Infinity,
};

async function feed(
  name: string,
  source: FrameSource,
  hub: FrameHub,
  log: LogLine,
  signal: AbortSignal,
): Promise<void> {
  const backoff = new Backoff(FEED_BACKOFF);
  let everPublished = false;
  while (!signal.aborted) {
    let published = 0;
    let why: string;
    try {
      for await (const frame of source.frames(signal)) {
        if (signal.aborted) break;
        hub.publish(frame.data, frame.headers);
        published++;
        everPublished = true;
      }
      if (signal.aborted) return;
      why = `source ended after ${published} frames`;
    } catch (error) {
      if (signal.aborted) return;
      if (!everPublished && error instanceof SourceError) throw error;
      // Credentials refused as often as a camera allows: asking again could lock the account.
      if (error instanceof AuthenticationError && error.kind === "exhausted") {
        if (!everPublished) throw error;
        const why = `${error.message}; the stream stays offline until mjpeg is restarted`;
        hub.reportSourceStatus({ state: "failed", lastError: why, since: Date.now() });
        log(`[${name}] ${why}`);
        return;
      }
      why = `source failed: ${(error as Error).message}`;
    }
    if (published > 0) backoff.reset();
    const delay = backoff.next()!;
    hub.reportSourceStatus({ state: "retrying", lastError: why, since: Date.now() });
    log(`[${name}] ${why}; source restarted in ${delay} ms`);
    await sleep(delay, signal);
  }
}

/**
 * Whether an address to listen on reaches this machine alone: `localhost`,
 * 127.0.0.0/8 or ::1.
 *
 * @param host The `--host` value.
 * @returns True for a loopback address.
 */
export function isLoopback(host: string): boolean {
  return /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\])$/i.test(host);
}

function basicAuth(userPass: string): { username: string; password: string } {
  const colon = userPass.indexOf(":");
  return { username: userPass.slice(0, colon), password: userPass.slice(colon + 1) };
}

function corsOrigins(value: string): string | string[] {
  const origins = value.split(",").map((o) => o.trim()).filter((o) => o !== "");
  return origins.length === 1 ? origins[0]! : origins;
}
