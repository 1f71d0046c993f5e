/**
 * The systemd unit `mjpeg service` writes: `mjpeg serve` as a hardened
 * service that starts at boot, restarts when it fails and logs to the
 * journal. Only text is made here; service.ts writes and enables it.
 *
 * @module
 */

/** An ExecStart= word written as it is: a systemd variable, not an argument to quote. */
export interface RawWord {
  /** The text, e.g. `${CREDENTIALS_DIRECTORY}/mjpeg.json`. */
  raw: string;
}

/** What the unit runs and what it needs. */
export interface UnitSpec {
  /** The unit's name without `.service`, e.g. `mjpeg` or `mjpeg-garage`. */
  name: string;
  /** The command: an absolute program path, then its arguments. */
  command: (string | RawWord)[];
  /** The command as the user would read it, for Description= (no secrets). */
  summary: string;
  /** The working directory, when the runtime needs one (sources, not the binary). */
  workingDirectory?: string;
  /** A file passed to the service privately (LoadCredential=): its name and absolute path. */
  credential?: { name: string; path: string };
  /** Deno wants a writable cache directory. */
  denoCache?: boolean;
  /** The server listens on a port below 1024, which needs CAP_NET_BIND_SERVICE. */
  privilegedPort?: boolean;
  /** Paths the service reads live in home directories: hide those read-only, not entirely. */
  readsHome?: boolean;
}

/**
 * Quotes one argument for an ExecStart= line as systemd.service(5)
 * ("Command lines") parses it: `%` (specifiers, expanded when the unit loads)
 * and `$` (variables, expanded when it runs) are doubled, so the program gets
 * them as given; an argument with spaces, quotes, backslashes or control
 * characters goes in double quotes with C escapes; a lone `;` is escaped.
 *
 * @param arg The argument as the program should receive it.
 * @returns Its ExecStart= form.
 *
 * @example
 * ```ts
 * import { quoteExecArg } from "./systemd_unit.ts";
 * quoteExecArg("pi:50% off $now"); // "\"pi:50%% off $$now\""
 * ```
 */
export function quoteExecArg(arg: string): string {
  const doubled = arg.replace(/[%$]/g, (c) => c + c);
  if (doubled === ";") return "\\;";
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(doubled)) return doubled;
  let escaped = "";
  for (const c of doubled) {
    const code = c.charCodeAt(0);
    if (c === "\\" || c === '"') escaped += "\\" + c;
    else if (c === "\n") escaped += "\\n";
    else if (c === "\t") escaped += "\\t";
    else if (code < 0x20 || code === 0x7f) escaped += "\\x" + code.toString(16).padStart(2, "0");
    else escaped += c;
  }
  return `"${escaped}"`;
}

/**
 * The unit file's text.
 *
 * @param spec What to run and what it needs.
 * @returns The unit, ready for /etc/systemd/system/NAME.service.
 */
export function systemdUnit(spec: UnitSpec): string {
  const exec = spec.command.map((w) => typeof w === "string" ? quoteExecArg(w) : w.raw).join(" ");
  // Description= takes specifiers (not variables) and must be one line.
  const description = specifiers(`mjpeg-stream: ${spec.summary}`.replace(/[\r\n]+/g, " "));
  const lines = [
    `# ${spec.name}.service, written by "mjpeg service install". Run that again with new`,
    `# arguments to change it; "mjpeg service uninstall" removes it.`,
    "[Unit]",
    `Description=${description}`,
    // A relay or a listening address that must exist needs the network up.
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=exec",
    `ExecStart=${exec}`,
    // Paths in these settings are taken as they are, but for specifiers.
    ...(spec.workingDirectory ? [`WorkingDirectory=${specifiers(spec.workingDirectory)}`] : []),
    ...(spec.credential
      ? [`LoadCredential=${spec.credential.name}:${specifiers(spec.credential.path)}`]
      : []),
    // mjpeg restarts its sources itself; this covers the process failing as a whole.
    // 5 s between starts stays under systemd's default start limit (5 in 10 s).
    "Restart=on-failure",
    "RestartSec=5s",
    "TimeoutStopSec=15s",
    "StandardOutput=journal",
    "StandardError=journal",
    `SyslogIdentifier=${spec.name}`,
    "",
    "# Its own user, made when it starts; the video group opens the camera devices.",
    "DynamicUser=yes",
    "SupplementaryGroups=video",
    ...(spec.denoCache
      ? [`CacheDirectory=${spec.name}`, `Environment=DENO_DIR=/var/cache/${spec.name}`]
      : []),
    "# The camera: /dev/video* and /dev/v4l-subdev* (video4linux), /dev/media* (media",
    "# controller) and /dev/dma_heap/* (buffers); everything else in /dev but /dev/null,",
    "# /dev/zero, /dev/urandom and the like is closed.",
    "DevicePolicy=closed",
    "DeviceAllow=char-video4linux rw",
    "DeviceAllow=char-media rw",
    "DeviceAllow=char-dma_heap rw",
    "",
    "# Hardening: read-only system, no home directories, no privileges to gain.",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    `ProtectHome=${spec.readsHome ? "read-only" : "yes"}`,
    "PrivateTmp=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "ProtectProc=invisible",
    "PrivateMounts=yes",
    // What Bun, Deno and Node (and the stand-in camera's shell) called under strace while
    // serving a camera: @system-service and V8's memory protection keys. Anything else
    // fails with EPERM rather than killing the process.
    "SystemCallFilter=@system-service pkey_alloc pkey_free pkey_mprotect",
    "SystemCallErrorNumber=EPERM",
    "SystemCallArchitectures=native",
    // AF_NETLINK: libcamera watches udev for cameras coming and going.
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "UMask=0077",
    ...(spec.privilegedPort
      ? ["CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE"]
      : ["CapabilityBoundingSet="]),
    "# MemoryDenyWriteExecute= is left out: the JavaScript runtime compiles code at run time.",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return lines.join("\n");
}

// A literal % in a setting that expands specifiers.
function specifiers(text: string): string {
  return text.replace(/%/g, "%%");
}
