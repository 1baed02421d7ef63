// Runs the browser suite with node's test runner (prints pass/fail counts).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const files = ["browser.test.mjs", "loop.test.mjs", "tour.test.mjs", "import.test.mjs", "import_layouts.test.mjs", "alerts.test.mjs", "hub.test.mjs", "hub_team.test.mjs"].map((f) => path.join(here, f));
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
