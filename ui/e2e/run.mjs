// Runs the browser suite with node's test runner (prints pass/fail counts).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", path.join(here, "browser.test.mjs")], { stdio: "inherit" });
process.exit(r.status ?? 1);
