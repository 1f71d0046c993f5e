/** Environment variables changed for one block: `using _env = patchEnv({ PATH: … })`. */
import "./dispose.ts";
import process from "node:process";

/** Sets `vars` in process.env; disposing it restores what was there (or removes them). */
export function patchEnv(vars: Record<string, string>): Disposable {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return {
    [Symbol.dispose]() {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}
