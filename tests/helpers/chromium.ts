/**
 * Headless Chromium for the browser tests: the flags every run takes, and a
 * minimal Chrome DevTools Protocol client over `--remote-debugging-pipe`
 * (JSON messages separated by NUL on fds 3 and 4), so a test drives one page
 * on Deno, Bun and Node alike without a WebSocket client. The browser goes
 * away with the test's block: `await using page = await openPage(url)`.
 */
import "./dispose.ts";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { sleep } from "./wait.ts";

/** Headless, no sandbox (containers), and nothing that would go on the network by itself. */
export const CHROMIUM_FLAGS: string[] = [
  ..."--headless --no-sandbox --disable-gpu --disable-background-networking --disable-quic".split(
    " ",
  ),
  ..."--no-first-run --disable-component-update --disable-sync".split(" "),
];

/** A headless Chromium with one page open; disposing it closes the browser. */
export interface BrowserPage extends AsyncDisposable {
  /** Evaluates `expression` in the page and returns its value (JSON-serialisable). */
  evaluate(expression: string): Promise<unknown>;
  /** Sends any DevTools command to the page's session and returns its result. */
  send(method: string, params?: object): Promise<Record<string, unknown>>;
  /** The browser's process id (its helpers are its descendants). */
  readonly pid: number;
  /** Kills the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium and opens `url` in a page.
 *
 * @param flags Added to its command line.
 * @param env For the browser (e.g. a `HOME` whose NSS database trusts a test CA).
 */
export async function openPage(
  url: string,
  flags: string[] = [],
  env?: Record<string, string>,
): Promise<BrowserPage> {
  const profile = mkdtempSync(join(tmpdir(), "mjpeg-cdp-"));
  const child: ChildProcess = spawn("chromium", [
    ...CHROMIUM_FLAGS,
    "--remote-debugging-pipe",
    `--user-data-dir=${profile}`,
    ...flags,
    "about:blank",
  ], {
    stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  const input = child.stdio[3] as NodeJS.WritableStream;
  const output = child.stdio[4] as NodeJS.ReadableStream;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let buffered = "";
  output.on("data", (chunk: Uint8Array) => {
    buffered += new TextDecoder().decode(chunk);
    for (let end = buffered.indexOf("\0"); end >= 0; end = buffered.indexOf("\0")) {
      const message = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      const waiter = pending.get(message.id);
      if (!waiter) continue;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`CDP: ${JSON.stringify(message.error)}`));
      else waiter.resolve(message.result);
    }
  });
  const send = (method: string, params: object = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      input.write(
        JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0",
      );
    });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      child.kill("SIGKILL");
      await exited;
      // Chromium's helper processes may still be writing to the profile for a moment.
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          rmSync(profile, { recursive: true, force: true });
          return;
        } catch {
          await sleep(100);
        }
      }
    })();
  try {
    const { targetId } = await send("Target.createTarget", { url });
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
    return {
      async evaluate(expression) {
        const reply = await send(
          "Runtime.evaluate",
          { expression, returnByValue: true, awaitPromise: true },
          sessionId as string,
        );
        if (reply.exceptionDetails) {
          throw new Error(`page threw: ${JSON.stringify(reply.exceptionDetails).slice(0, 500)}`);
        }
        return (reply.result as { value?: unknown }).value;
      },
      send: (method, params = {}) => send(method, params, sessionId as string),
      pid: child.pid!,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
