// A deposit's page follows what is under way without the person reloading: here the
// DOI's registration at DataCite (an `arca datacite-sandbox`), which is down when the
// dataset is released and comes up later.
const { test, expect } = require("@playwright/test");
const { spawn } = require("node:child_process");
const path = require("node:path");
const { start, freePort } = require("./archive");

const BIN = process.env.ARCA_BIN || path.resolve(__dirname, "../../target/debug/arca");

let archive;
let sandbox;
let sandboxPort;

function startSandbox() {
  sandbox = spawn(BIN, ["datacite-sandbox", "--bind", `127.0.0.1:${sandboxPort}`], { stdio: "ignore" });
}

test.beforeAll(async () => {
  sandboxPort = await freePort();
  archive = await start({
    prepare: async () => [
      'provider = "datacite"',
      'prefix = "10.80002"',
      "[doi.datacite]",
      `url = "http://127.0.0.1:${sandboxPort}"`,
      'repository_id = "ARCA.SANDBOX"',
      'password = "sandbox"',
      "timeout_secs = 2",
      "[jobs]",
      "retry_base_ms = 200",
      "retry_max_ms = 1000",
      "",
    ].join("\n"),
  });
});

test.afterAll(async () => {
  archive && archive.stop();
  sandbox && sandbox.kill();
});

async function call(method, p, token, body, headers = {}) {
  const r = await fetch(`${archive.base}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body && !(body instanceof Buffer) ? { "content-type": "application/json" } : {}), ...headers },
    body: body instanceof Buffer ? body : body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  expect(r.status, `${method} ${p}: ${text}`).toBeLessThan(300);
  return text ? JSON.parse(text) : null;
}

test("the DOI's registration at DataCite shows on the deposit page as it happens", async ({ browser }) => {
  archive.cli(["user", "add", "--email", "kathleen@example.org", "--name", "Lonsdale, Kathleen", "--role", "author"],
    { ARCA_PASSWORD: "hexamethylbenzene" });
  const token = (email) => archive.cli(["token", "create", "--email", email]).trim().split(/\s+/).pop();
  const author = token("kathleen@example.org");
  const curator = token("curator@example.org");
  const d = await call("POST", "/api/v1/deposits", author, {
    metadata: {
      titles: [{ title: "Hexamethylbenzene, 1929" }],
      creators: [{ name: "Lonsdale, Kathleen", nameType: "Personal" }],
      publisher: { name: "Arca test facility" },
      publicationYear: 2026,
      types: { resourceTypeGeneral: "Dataset" },
    },
  });
  const data = Buffer.from("a flat benzene ring\n");
  const b64 = (s) => Buffer.from(s).toString("base64");
  await call("POST", "/api/v1/uploads", author, data, {
    "tus-resumable": "1.0.0",
    "upload-length": String(data.length),
    "upload-metadata": `deposit ${b64(d.id)},filename ${b64("ring.cbf")}`,
    "content-type": "application/offset+octet-stream",
  });
  await call("POST", `/api/v1/deposits/${d.id}/doi`, author);
  await call("POST", `/api/v1/deposits/${d.id}/submit`, author);
  await expect.poll(async () => (await call("GET", `/api/v1/deposits/${d.id}`, author)).state, { timeout: 30_000 })
    .toBe("verified");
  await call("POST", `/api/v1/deposits/${d.id}/approve`, curator);
  await call("POST", `/api/v1/deposits/${d.id}/release`, curator);

  // DataCite is down: the page says the DOI is on its way, and that the last try failed.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${archive.base}/signin`);
  await page.fill("#email", "kathleen@example.org");
  await page.fill("#password", "hexamethylbenzene");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.goto(`${archive.base}/deposits/${d.id}`);
  const note = page.locator("#doi ~ p.hint, p.hint:has-text('DataCite')").first();
  await expect(note).toContainText("Being sent to DataCite (to be findable)");
  await expect(note).toContainText("The last attempt failed", { timeout: 20_000 });
  const reloads = [];
  page.on("framenavigated", (f) => { if (f === page.mainFrame()) reloads.push(f.url()); });

  // DataCite comes back: the page follows by itself.
  startSandbox();
  await expect(page.locator("p.hint:has-text('DataCite')").first())
    .toContainText("Findable at DataCite: it resolves at doi.org to the public page.", { timeout: 30_000 });
  expect(reloads.length, "the page loaded itself again").toBeGreaterThan(0);
  await expect(page.locator("[data-live]")).toHaveCount(0);
  await ctx.close();
});
