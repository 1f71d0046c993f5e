/**
 * The port an example listens on: `--port N`, else the `PORT` environment
 * variable, else 0, which picks a free port (the example prints its URL). So
 * an example never clashes with `npm start` on 8080, or with another example.
 */
import process from "node:process";

/**
 * Reads `--port N` (or `--port=N`) from the command line, else `PORT`.
 *
 * @returns A port from 0 to 65535.
 * @throws {Error} Saying what was expected and what came, for anything else.
 */
export function examplePort(): number {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === "--port" || a.startsWith("--port="));
  const text = at < 0
    ? process.env.PORT
    : args[at]!.startsWith("--port=")
    ? args[at]!.slice("--port=".length)
    : args[at + 1];
  if (text === undefined || text === "") return 0;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `expected --port (or PORT) to be a whole number 0..65535, got ${JSON.stringify(text)}`,
    );
  }
  return port;
}

/**
 * The command line without `--port N`, so an example's own arguments stay where they were.
 *
 * @returns The arguments after the script, `--port` and its value removed.
 */
export function argsWithoutPort(): string[] {
  const out: string[] = [];
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--port") i++;
    else if (!args[i]!.startsWith("--port=")) out.push(args[i]!);
  }
  return out;
}
