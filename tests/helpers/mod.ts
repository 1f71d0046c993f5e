/**
 * The index of the tests' shared helpers: one concern a file, each helper in
 * one of them only (re-exporting them all here makes the type checker refuse
 * a name two modules export). A test imports a helper from its module, so the
 * import names its home. Fixtures (servers, processes, directories, clients)
 * clean up after themselves: `await using upstream = await startUpstream(…)`.
 *
 * - `dispose.ts`: `Symbol.asyncDispose` on every runtime, `disposable()`, `defer()`
 * - `hash.ts`: `sha256`
 * - `wait.ts`: `sleep`, `until`
 * - `statistics.ts`: `median`
 * - `bytes.ts`: `concat`, `chunk`, `streamOf`, `collect`
 * - `fixtures.ts`: the files in tests/fixtures, the eight frames and their checksums
 * - `temp_dir.ts`: `tempDir`
 * - `env.ts`: `patchEnv`
 * - `runtime.ts`: `runtimeName`, `repoRoot`, `scriptCommand`, `runsOn` (a peer-only check on one runtime)
 * - `processes.ts`: `run`, `start`, `finished`, `waitForLog`, what is left of a process
 * - `ports.ts`: `freePort`
 * - `tools.ts`: `requireTools` for the external programs a test needs
 * - `jpeg.ts`: `isJpeg`, fixtures made unique (`labelledJpeg`) or larger (`paddedJpeg`)
 * - `stack.ts`: the server side in this process (`serveLocal`, `serveHub`, `publishFixtures`, `startStack`)
 * - `viewers.ts`: HTTP viewers of a stream (`readFrames`, `watchStream`, `Viewer`)
 * - `task.ts`: `background`, work beside the test that stops with it
 * - `sources.ts`: `take` frames from a source
 * - `fake_camera.ts`: stand-ins for rpicam-vid (`fakeCameraDir`, the scripted `FakeCamera`)
 * - `cli_run.ts`: the `mjpeg` command in this process (`mjpeg`, `assertUsageErrors`) or as a
 *   process (`runCli`, `startServe`, `stopCleanly`), and `SMALL_PATTERN` to serve
 * - `chromium.ts`: headless Chromium's flags, and one page to drive (`openPage`)
 * - `upstream.ts`: fault-injecting MJPEG servers on raw sockets
 * - `client_checks.ts`: a started `MjpegClient` with lent buffers, and checks that they all come
 *   back; `readSums` (a fresh client's first frames), `readToEnd` (until it fails)
 *
 * Helpers for one family of tests are not re-exported: `wire.ts` (decoding in
 * chunks), `attack_sockets.ts` (raw hostile sockets), `camera.ts` (a camera
 * in Python), `snapshot_camera.ts` (snapshot-only cameras, for polling),
 * `fuzz*.ts`, `synthetic_jpeg.ts`, `import_graph.ts`, `systemd.ts`,
 * `reliability_*.ts`, and for how the server is reached: `serving.ts`
 * (serve() with TLS, a unix socket or a prefix, an outage at will, curl
 * reading a stream), `tls_certs.ts` (the test CA and the certificates it
 * signs, made by openssl, and Chromium's trust of it), `proxies.ts` (nginx,
 * Caddy and Apache from configs written at test time).
 */
export * from "./dispose.ts";
export * from "./hash.ts";
export * from "./wait.ts";
export * from "./statistics.ts";
export * from "./bytes.ts";
export * from "./fixtures.ts";
export * from "./temp_dir.ts";
export * from "./env.ts";
export * from "./runtime.ts";
export * from "./processes.ts";
export * from "./ports.ts";
export * from "./tools.ts";
export * from "./jpeg.ts";
export * from "./stack.ts";
export * from "./viewers.ts";
export * from "./task.ts";
export * from "./sources.ts";
export * from "./fake_camera.ts";
export * from "./cli_run.ts";
export * from "./chromium.ts";
export * from "./upstream.ts";
export * from "./client_checks.ts";
