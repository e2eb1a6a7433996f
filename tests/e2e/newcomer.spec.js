// A newcomer's path through the web UI, in headless Chromium against a real archive:
// sign up, fill the deposit form (with one mistake, reported and fixed), upload files
// (one of them interrupted by a reload and a dropped connection, then resumed),
// reserve a DOI, submit; a curator approves and releases; the landing page shows the
// dataset and its citation, and search finds it. Screenshots go to artifacts/.
const { test, expect } = require("@playwright/test");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { start } = require("./archive");

const { shot, accessible, fitsAPhone } = require("./look");

// Markup and script in the title and an author's name must show as text everywhere.
const TITLE = 'Lysozyme <b>bold</b> <script>window.__pwned = 1</script> at 100 K';
const AUTHOR = "Curie, <i>Marie</i>";

let archive;
test.beforeAll(async () => { archive = await start(); });
test.afterAll(async () => { archive && archive.stop(); });

function files() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "arca-e2e-files-"));
  const small = path.join(dir, "notes.txt");
  fs.writeFileSync(small, "collected at 100 K\n");
  // Big enough for several 8 MiB chunks, so the upload can be cut part-way.
  const big = path.join(dir, "images.h5");
  fs.writeFileSync(big, crypto.randomBytes(40 * 1024 * 1024));
  const sha = (p) => crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
  return { small, big, shaSmall: sha(small), shaBig: sha(big) };
}

async function noScriptRan(page) {
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
}

test("a newcomer deposits, a curator releases, readers find and cite it", async ({ browser }) => {
  const { base } = archive;
  const f = files();
  const author = await browser.newContext();
  const page = await author.newPage();
  // The archive's pages keep to their own Content-Security-Policy (no inline script or
  // style that the browser had to refuse).
  const refused = [];
  author.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
  });

  // Sign up from the front page.
  await page.goto(base + "/");
  await shot(page, "01-home");
  await accessible(page, "the front page");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.fill("#name", AUTHOR);
  await page.fill("#email", "marie@example.org");
  await page.fill("#password", "polonium-1898");
  await page.fill("#password_again", "polonium-1898");
  await page.getByRole("button", { name: "Create the account" }).click();
  await expect(page.getByRole("heading", { name: "My deposits" })).toBeVisible();

  // The form, with one mistake: an ORCID iD with a wrong check digit.
  await page.getByRole("link", { name: "Start a new deposit" }).click();
  await page.fill("#title", TITLE);
  await page.fill("#description", "Diffraction images of hen egg-white lysozyme.");
  await page.fill("#author-0-name", AUTHOR);
  await page.fill("#author-0-orcid", "0000-0002-1825-0098");
  await page.getByRole("button", { name: "Add another author" }).click();
  await page.fill("#author-2-name", "Franklin, Rosalind");
  await page.fill("#facility", "Diamond Light Source");
  await page.fill("#beamline", "I04");
  await page.fill("#collection_date", "2026-03-14");
  await page.fill("#wavelength", "0.9795");
  await page.fill("#pdb_ids", "1LYZ");
  await page.getByLabel("The article is in preparation").check();
  await page.getByRole("button", { name: "Save draft" }).click();

  // Reported next to the field, in plain words; nothing typed is lost.
  const orcid = page.locator("#author-0-orcid");
  await expect(orcid).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#author-0-orcid-error")).toContainText("check digit");
  // The summary of the problems takes the focus, so it is read first.
  await expect(page.locator("#error-summary")).toBeFocused();
  await expect(page.locator("#title")).toHaveValue(TITLE);
  await expect(page.locator("#beamline")).toHaveValue("I04");
  await expect(page.locator("#wavelength")).toHaveValue("0.9795");
  await expect(page.locator("input[value='Franklin, Rosalind']")).toHaveCount(1);
  await shot(page, "02-form-with-an-error");
  await accessible(page, "the deposit form with an error");
  await orcid.fill("0000-0002-1825-0097");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.locator("p.ok")).toContainText("Saved. You can come back");
  await noScriptRan(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(TITLE);
  // Where the deposit is: described, and the files are what comes next.
  const steps = page.getByRole("list", { name: "Where this deposit is" });
  await expect(steps.locator("li.done")).toHaveText(["Done: Describe"]);
  await expect(steps.locator("[aria-current=step]")).toHaveText("Upload the files");
  const depositUrl = page.url().split("?")[0];
  const depositId = depositUrl.split("/").pop();

  // Upload: the small file at once; the big one is slowed down, so it can be cut.
  let slow = true;
  await page.route("**/api/v1/uploads/*", async (route) => {
    if (slow && route.request().method() === "PATCH") await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await page.setInputFiles("#pick-files", [f.small, f.big]);
  // Once some of the big file is on the server, reload the page mid-upload.
  const offsetOnServer = async () => {
    const r = await page.request.get(`${base}/api/v1/deposits/${depositId}/uploads`);
    const body = await r.json();
    const up = (body.uploads || []).find((u) => u.filename === "images.h5" || u.path === "images.h5");
    return up ? up.offset : 0;
  };
  await expect.poll(offsetOnServer, { timeout: 60_000 }).toBeGreaterThan(0);
  await shot(page, "03-uploading");
  await page.reload();
  const unfinished = page.locator("#unfinished");
  await expect(unfinished).toContainText("images.h5");
  const before = await offsetOnServer();
  expect(before).toBeGreaterThan(0);
  expect(before).toBeLessThan(40 * 1024 * 1024);

  // Choose the same file again: it resumes instead of starting over.
  const creations = [];
  page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/api/v1/uploads")) creations.push(r); });
  await page.route("**/api/v1/uploads/*", async (route) => {
    if (slow && route.request().method() === "PATCH") await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await page.setInputFiles("#pick-files", [f.big]);
  await expect(page.locator("#upload-list")).toContainText("resumed from");
  // The connection drops for a while; the upload carries on when it is back.
  await author.setOffline(true);
  await expect(page.locator("#upload-list")).toContainText("trying again", { timeout: 30_000 });
  await author.setOffline(false);
  // Pause and resume by hand too.
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.locator("#upload-list")).toContainText("paused");
  slow = false;
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.locator("#upload-list")).toContainText("uploaded ✔", { timeout: 60_000 });
  expect(creations.length, "the resumed upload was not created again").toBe(0);
  await page.waitForURL(depositUrl, { timeout: 10_000 }).catch(() => {});
  await page.goto(depositUrl);
  const table = page.locator("#file-table");
  await expect(table).toContainText("images.h5");
  await expect(table).toContainText(f.shaBig);
  await expect(table).toContainText(f.shaSmall);

  // Reserve the DOI and copy the citation for the manuscript.
  await page.getByRole("button", { name: "Reserve a DOI" }).click();
  await expect(page.locator("p.ok")).toContainText("The DOI is reserved");
  const doi = (await page.locator("#doi").textContent()).trim();
  expect(doi).toMatch(/^10\./);
  await expect(page.locator("#citation")).toContainText(doi);
  await expect(page.locator("#citation")).toContainText("<b>bold</b>");
  await shot(page, "04-deposit-with-doi");

  // Submit; the archive verifies every file.
  await page.getByRole("button", { name: "Submit for review" }).click();
  await expect(page.locator("p.ok")).toContainText("Submitted.");
  // The page follows the verification by itself: no reload, and the one-time
  // "Submitted" message does not stay beside "Verified".
  await expect(page.locator("[data-state]")).toHaveAttribute("data-state", "verified", { timeout: 60_000 });
  await expect(page.locator("p.ok")).toHaveCount(0);
  await expect(page.locator("#file-table")).toContainText("verified");
  await expect(page.locator("ol.steps [aria-current=step]")).toHaveText("Review by a curator");
  await shot(page, "05-verified");
  // The deposit page, with its hashes, DOI and history, fits a phone too.
  await fitsAPhone(browser, depositUrl, "deposit-page", await author.storageState());
  await accessible(page, "the deposit page");

  // A curator approves and releases it.
  const curatorCtx = await browser.newContext();
  const cur = await curatorCtx.newPage();
  await cur.goto(base + "/curate");
  await cur.fill("#email", "curator@example.org");
  await cur.fill("#password", "curator-password");
  await cur.getByRole("button", { name: "Sign in" }).click();
  await expect(cur.getByRole("heading", { name: "Curation queue" })).toBeVisible();
  await noScriptRan(cur);
  await shot(cur, "06-curation-queue");
  await accessible(cur, "the curation queue");
  await cur.getByRole("link", { name: TITLE }).click();
  await cur.getByRole("button", { name: "Approve" }).click();
  await expect(cur.locator("p.ok")).toContainText("Approved.");
  // Releasing cannot be taken back: the browser asks first, naming what follows.
  const asked = [];
  cur.once("dialog", (d) => { asked.push(d.message()); d.dismiss(); });
  await cur.getByRole("button", { name: "Release now" }).click();
  await expect.poll(() => asked.length).toBe(1);
  expect(asked[0]).toContain("files become public");
  await expect(cur.getByRole("button", { name: "Release now" })).toBeVisible();
  cur.once("dialog", (d) => d.accept());
  await cur.getByRole("button", { name: "Release now" }).click();
  await expect(cur.locator("p.ok")).toContainText("Released: the dataset is public.");
  await shot(cur, "07-released");

  // The author sees it released; the landing page shows it and its citation.
  await page.goto(base + "/my");
  await expect(page.locator("table")).toContainText("Released");
  await noScriptRan(page);
  await page.getByRole("link", { name: "public page" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(TITLE);
  await expect(page.locator("#citation")).toContainText(doi);
  await expect(page.getByText(AUTHOR).first()).toBeVisible();
  await expect(page.getByRole("link", { name: "notes.txt" })).toBeVisible();
  await noScriptRan(page);
  await shot(page, "08-landing-page");
  await accessible(page, "the landing page");
  await fitsAPhone(browser, page.url(), "landing-page");
  await fitsAPhone(browser, `${base}/search?q=lysozyme`, "search");
  const download = await page.request.get(`${base}/datasets/${page.url().split("/").pop()}/files/notes.txt`);
  expect(await download.text()).toBe("collected at 100 K\n");

  // Readers find it by words, by PDB id and by beamline.
  const reader = await (await browser.newContext()).newPage();
  await reader.goto(base + "/search?q=lysozy");
  await expect(reader.getByRole("link", { name: TITLE })).toBeVisible();
  await reader.goto(base + "/search?pdb=1lyz&beamline=I04");
  await expect(reader.getByRole("link", { name: TITLE })).toBeVisible();
  await reader.goto(base + "/search?q=ribosome");
  await expect(reader.getByRole("heading", { name: "No datasets found" })).toBeVisible();
  await reader.goto(base + "/search?author=curie");
  await expect(reader.getByText(AUTHOR)).toBeVisible();
  await noScriptRan(reader);
  await shot(reader, "09-search");
  await accessible(reader, "the search page");
  expect(refused, "CSP violations on the archive's pages").toEqual([]);
});

test("forms refuse a request that did not come from the archive's own pages", async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(archive.base + "/signin");
  // A form posted without the page's CSRF token (as another site would) is refused.
  const r = await page.request.post(archive.base + "/signin", {
    form: { email: "curator@example.org", password: "curator-password" },
  });
  expect(r.status()).toBe(403);
  expect(await r.text()).toContain("out of date");
});
