// A real `arca serve` on a fresh data directory, for the browser tests.
const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const net = require("node:net");

const BIN = process.env.ARCA_BIN || path.resolve(__dirname, "../../target/debug/arca");

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// `prepare(base)` may return more settings (TOML) once the archive's address is known.
async function start({ prepare } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "arca-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = path.join(dir, "arca.toml");
  const more = prepare ? await prepare(base) : "";
  fs.writeFileSync(config, `[doi]\npublic_url = "${base}"\n${more}`);
  const env = { ...process.env, ARCA_DATA_DIR: path.join(dir, "data"), ARCA_CONFIG: config };
  // Each run on PostgreSQL gets a schema of its own.
  if (process.env.ARCA_TEST_DATABASE_URL) {
    // Named like the interop tests' schemas, so scripts/test clears them the same way.
    const schema = `i_${require("node:crypto").randomBytes(16).toString("hex")}`;
    execFileSync("psql", [process.env.ARCA_TEST_DATABASE_URL, "-qc", `CREATE SCHEMA ${schema}`]);
    const sep = process.env.ARCA_TEST_DATABASE_URL.includes("?") ? "&" : "?";
    env.ARCA_DATABASE_URL = `${process.env.ARCA_TEST_DATABASE_URL}${sep}options=-c%20search_path%3D${schema}`;
  } else {
    env.ARCA_DATABASE_URL = `sqlite://${path.join(dir, "arca.db")}?mode=rwc`;
  }
  const user = (email, name, role, password) =>
    execFileSync(BIN, ["user", "add", "--email", email, "--name", name, "--role", role], {
      env: { ...env, ARCA_PASSWORD: password },
      stdio: "pipe",
    });
  // Migrate before the server starts, by adding the curator.
  user("curator@example.org", "Franklin, Rosalind", "curator", "curator-password");
  const log = fs.openSync(path.join(dir, "serve.log"), "a");
  const proc = spawn(BIN, ["serve", "--bind", `127.0.0.1:${port}`], { env, stdio: ["ignore", log, log] });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch (_) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    dir,
    // The archive's own command line, on the same catalogue (`arca token create …`).
    cli: (args, more = {}) =>
      execFileSync(BIN, args, { env: { ...env, ...more }, stdio: ["ignore", "pipe", "pipe"] }).toString(),
    stop: () => proc.kill("SIGTERM"),
  };
}

// A new account through the sign-up page, signed in on `page`.
async function signUp(page, base, name, email, password) {
  await page.goto(base + "/signup");
  await page.fill("#name", name);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.fill("#password_again", password);
  await page.getByRole("button", { name: "Create the account" }).click();
}

module.exports = { start, freePort, signUp };
