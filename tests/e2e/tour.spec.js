// Every page of the archive, as the person it is for sees it: public pages, an author's
// and a curator's, each at desktop width with axe-core (no serious or critical WCAG 2 A
// or AA violation) and on a 390 px phone (nothing wider than the screen), a screenshot
// of each kept in artifacts/screenshots/tour-*.png.
const { test, expect } = require("@playwright/test");
const { start } = require("./archive");
const { shot, accessible, fitsAPhone } = require("./look");

let archive;
const tokens = {};
const ids = {};

async function call(method, path, token, body, headers = {}) {
  const r = await fetch(`${archive.base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body && !(body instanceof Buffer) ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body instanceof Buffer ? body : body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text && r.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
}

// A deposit with a long title and DOI-like strings, taken to `until` through the API.
async function deposit(title, until) {
  const d = await call("POST", "/api/v1/deposits", tokens.author, {
    metadata: {
      titles: [{ title }],
      creators: [{ name: "Hodgkin, Dorothy", nameType: "Personal",
        nameIdentifiers: [{ nameIdentifier: "https://orcid.org/0000-0002-1825-0097", nameIdentifierScheme: "ORCID" }],
        affiliation: [{ name: "University of Oxford" }] }],
      publisher: { name: "Arca test facility" },
      publicationYear: 2026,
      types: { resourceTypeGeneral: "Dataset" },
      descriptions: [{ description: "Diffraction images of insulin crystals.", descriptionType: "Abstract" }],
    },
    facility: {
      software: [{ name: "XDS" }],
      funding: [{ funder_name: "Wellcome Trust", funder_id: "https://doi.org/10.13039/100010269", award_number: "221818/Z/20/Z" }],
    },
  });
  const b64 = (s) => Buffer.from(s).toString("base64");
  const data = Buffer.from("insulin frames, a long way from a real detector series\n");
  await call("POST", "/api/v1/uploads", tokens.author, data, {
    "tus-resumable": "1.0.0",
    "upload-length": String(data.length),
    "upload-metadata": `deposit ${b64(d.id)},filename ${b64("images/insulin_0001_with_a_rather_long_name_for_a_phone.cbf")}`,
    "content-type": "application/offset+octet-stream",
  });
  if (until === "draft") return d.id;
  await call("POST", `/api/v1/deposits/${d.id}/doi`, tokens.author);
  await call("POST", `/api/v1/deposits/${d.id}/submit`, tokens.author);
  await expect.poll(async () => (await call("GET", `/api/v1/deposits/${d.id}`, tokens.author)).state, { timeout: 30_000 })
    .toBe("verified");
  const steps = {
    verified: [],
    on_hold: [["approve"], ["hold", { until: "2030-01-01" }]],
    released: [["approve"], ["release"]],
    withdrawn: [["approve"], ["release"], ["withdraw", { reason: "The sample was mislabelled." }]],
  }[until];
  for (const [action, body] of steps) await call("POST", `/api/v1/deposits/${d.id}/${action}`, tokens.curator, body);
  return d.id;
}

async function signedIn(browser, email, password) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${archive.base}/signin`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("h1")).toBeVisible();
  const state = await ctx.storageState();
  await ctx.close();
  return state;
}

test.beforeAll(async () => {
  archive = await start();
  archive.cli(["user", "add", "--email", "dorothy@example.org", "--name", "Hodgkin, Dorothy", "--role", "author"],
    { ARCA_PASSWORD: "insulin-1969" });
  const token = (email) => archive.cli(["token", "create", "--email", email]).trim().split(/\s+/).pop();
  tokens.author = token("dorothy@example.org");
  tokens.curator = token("curator@example.org");
  const long = "Insulin, 2.1 Å, rhombohedral crystals soaked in zinc acetate, collected with a very long title";
  ids.draft = await deposit(`${long} (draft)`, "draft");
  ids.verified = await deposit(`${long} (waiting)`, "verified");
  ids.held = await deposit(`${long} (on hold)`, "on_hold");
  ids.released = await deposit(`${long} (released)`, "released");
  ids.withdrawn = await deposit(`${long} (withdrawn)`, "withdrawn");
  const dataset = async (id) => (await call("GET", `/api/v1/deposits/${id}`, tokens.author)).dataset_id;
  ids.releasedDataset = await dataset(ids.released);
  ids.withdrawnDataset = await dataset(ids.withdrawn);
  ids.heldDataset = await dataset(ids.held);
  ids.review = (await call("POST", `/api/v1/deposits/${ids.held}/reviewer-links`, tokens.author,
    { days: 30, note: "Acta Cryst. D, manuscript 2026-0142" })).url.replace(archive.base, "");
  // The editor opens it once.
  expect((await fetch(archive.base + ids.review)).status).toBe(200);
});

test.afterAll(async () => { archive && archive.stop(); });

const PAGES = {
  public: [
    ["home", "/"],
    ["search", "/search?q=insulin"],
    ["search-nothing", "/search?q=ribosome"],
    ["signin", "/signin"],
    ["signup", "/signup"],
    ["reset", "/reset"],
    // The grant is said the same way on the public page and to the curator.
    ["landing", () => `/datasets/${ids.releasedDataset}`, "Wellcome Trust: 221818/Z/20/Z"],
    ["tombstone", () => `/datasets/${ids.withdrawnDataset}`],
    ["held-page", () => `/datasets/${ids.heldDataset}`, "on hold until 2030-01-01"],
    ["reviewer-link", () => ids.review],
    ["not-found", "/datasets/no-such-dataset"],
  ],
  author: [
    ["my-deposits", "/my"],
    ["new-deposit", "/deposits/new"],
    ["draft", () => `/deposits/${ids.draft}`],
    ["edit", () => `/deposits/${ids.draft}/edit`],
    // What "verified" means, and what ends a hold and when at the latest, are said.
    ["waiting", () => `/deposits/${ids.verified}`, "“Verified” means the archive read each stored file back"],
    // The page its DOI leads to is linked.
    ["on-hold", () => `/deposits/${ids.held}`, ["On 2030-01-01, the curators are told, and release it. A hold lasts at most 1096 days", "The page the DOI leads to"]],
    // The reviewer link, and how often it was opened.
    ["reviewer-links", () => `/deposits/${ids.held}`, ["Acta Cryst. D, manuscript 2026-0142", ", the last on 20"]],
    ["released-deposit", () => `/deposits/${ids.released}`, "The public page"],
    ["manuscript-kit", () => `/my/kit?d=${ids.released}&d=${ids.held}`],
    ["notifications", "/notifications"],
  ],
  curator: [
    ["curation-queue", "/curate"],
    ["review", () => `/deposits/${ids.verified}`, "Wellcome Trust: 221818/Z/20/Z"],
    ["release-batches", "/curate/releases"],
    ["usage", "/curate/usage"],
    ["mirrors", "/curate/mirrors"],
  ],
};

for (const [who, pages] of Object.entries(PAGES)) {
  test(`every ${who} page is accessible and fits a phone`, async ({ browser }) => {
    const storageState = who === "author"
      ? await signedIn(browser, "dorothy@example.org", "insulin-1969")
      : who === "curator"
        ? await signedIn(browser, "curator@example.org", "curator-password")
        : undefined;
    const ctx = await browser.newContext({ storageState, viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const refused = [];
    page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
    for (const [name, at, says] of pages) {
      const url = archive.base + (typeof at === "function" ? at() : at);
      const r = await page.goto(url);
      expect(r.status(), `${name}: ${url}`).toBeLessThan(name === "not-found" || name === "tombstone" ? 500 : 400);
      await expect(page.locator("h1"), `${name} has a heading`).toHaveCount(1);
      for (const words of [].concat(says || [])) await expect(page.locator("main"), name).toContainText(words);
      await shot(page, `tour-${who}-${name}`);
      await accessible(page, `${who}: ${name}`);
      await fitsAPhone(browser, url, `tour-${who}-${name}`, storageState);
    }
    expect(refused, "CSP violations").toEqual([]);
    await ctx.close();
  });
}
