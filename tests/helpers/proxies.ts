/**
 * Debian's nginx, Caddy and Apache as reverse proxies in front of the server
 * under test, each started with a config written at test time into a
 * temporary folder (pid, logs, temp files and Caddy's data all inside it),
 * listening on a free port of 127.0.0.1, and stopped by `await using`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { accepts } from "./serving.ts";
import { freePort } from "./ports.ts";
import { sleep } from "./wait.ts";

/** A running proxy. */
export interface Proxy extends AsyncDisposable {
  /** `nginx`, `caddy` or `apache`. */
  name: string;
  /** Its base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** What it logged (nginx's error log, Caddy's output), for failure messages. */
  log(): string;
}

/**
 * Starts nginx with `server` as the body of its one `server { … }` block (the
 * `listen` line is added), and `http` as more directives of the `http` block
 * (`upstream`s).
 */
export async function startNginx(server: string, http = ""): Promise<Proxy> {
  const dir = mkdtempSync(join(tmpdir(), "mjpeg-nginx-"));
  const port = await freePort();
  for (const temp of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, temp));
  // As root, nginx's workers would switch to "nobody", which may not reach the temp folder.
  const user = process.getuid?.() === 0 ? "user root;\n" : "";
  writeFileSync(
    join(dir, "nginx.conf"),
    `${user}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
  server {
    listen 127.0.0.1:${port};
${server}
  }
}
`,
  );
  const child = spawn("nginx", [
    "-p",
    dir,
    "-c",
    join(dir, "nginx.conf"),
    "-e",
    join(dir, "error.log"),
  ], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const log = () => {
    try {
      return readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  // SIGTERM is nginx's fast shutdown; SIGKILL would leave its worker behind.
  return await ready("nginx", child, port, dir, log, "SIGTERM");
}

/** Starts Caddy with `site` as the body of the site block for its port (plain HTTP, no admin API). */
export async function startCaddy(site: string): Promise<Proxy> {
  const dir = mkdtempSync(join(tmpdir(), "mjpeg-caddy-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "Caddyfile"),
    `{
  admin off
  auto_https off
  storage file_system ${dir}/data
}
http://127.0.0.1:${port} {
${site}
}
`,
  );
  const child = spawn("caddy", [
    "run",
    "--config",
    join(dir, "Caddyfile"),
    "--adapter",
    "caddyfile",
  ], {
    stdio: ["ignore", "pipe", "pipe"],
    // Caddy keeps data and config under HOME and XDG folders: keep them in the temp folder.
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (t: string) => output += t);
  child.stderr!.setEncoding("utf8").on("data", (t: string) => output += t);
  // Caddy waits for open streams on SIGTERM; it is one process, so SIGKILL leaves nothing.
  return await ready("caddy", child, port, dir, () => output, "SIGKILL");
}

// Where Debian's apache2 package keeps the modules the snippet needs.
const APACHE_MODULES = "/usr/lib/apache2/modules";

/**
 * Starts Apache (Debian's `apache2`, in the foreground, one config file of
 * our own instead of Debian's layout) with `site` as more directives of its
 * one server, e.g. a `<Location>` block. It loads the event MPM and the
 * modules the documented snippet needs (`a2enmod proxy proxy_http`).
 */
export async function startApache(site: string): Promise<Proxy> {
  const dir = mkdtempSync(join(tmpdir(), "mjpeg-apache-"));
  const port = await freePort();
  // As root, Apache's children switch to User, which must exist: Debian's apache2 adds www-data.
  const user = process.getuid?.() === 0 ? "User www-data\nGroup www-data\n" : "";
  writeFileSync(
    join(dir, "apache2.conf"),
    `ServerRoot ${dir}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${dir}/apache2.pid
DefaultRuntimeDir ${dir}
Mutex file:${dir} default
ErrorLog ${dir}/error.log
LogLevel warn
${user}LoadModule mpm_event_module ${APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${APACHE_MODULES}/mod_authz_core.so
LoadModule proxy_module ${APACHE_MODULES}/mod_proxy.so
LoadModule proxy_http_module ${APACHE_MODULES}/mod_proxy_http.so
${site}
`,
  );
  const child = spawn("apache2", ["-f", join(dir, "apache2.conf"), "-DFOREGROUND"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (t: string) => output += t);
  child.stderr!.setEncoding("utf8").on("data", (t: string) => output += t);
  const log = () => {
    try {
      return output + readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      return output;
    }
  };
  // SIGTERM stops Apache and its children at once (SIGKILL would leave the children).
  return await ready("apache", child, port, dir, log, "SIGTERM");
}

async function ready(
  name: string,
  child: ChildProcess,
  port: number,
  dir: string,
  log: () => string,
  signal: "SIGTERM" | "SIGKILL",
): Promise<Proxy> {
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    })
  );
  const stop = async () => {
    if (!exited) child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`${name} did not start listening on ${port}:\n${text}`);
    }
    await sleep(50);
  }
  return { name, url: `http://127.0.0.1:${port}`, log, [Symbol.asyncDispose]: stop };
}

/** Starts several proxies (or servers) at once; if one fails, stops the others. */
export async function startAll<T extends AsyncDisposable[]>(
  starting: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const settled = await Promise.allSettled(starting);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) {
    for (const s of settled) if (s.status === "fulfilled") await s.value[Symbol.asyncDispose]();
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<AsyncDisposable>).value) as T;
}
