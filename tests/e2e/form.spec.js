// The deposit form's lists: authors move up and are removed in the browser, and the
// saved order is the one on the screen.
const { test, expect } = require("@playwright/test");
const { start, signUp } = require("./archive");

let archive;

test.beforeAll(async () => {
  archive = await start();
});

test.afterAll(async () => {
  archive.stop();
});

test("authors are reordered and removed, and saved in the order shown", async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signUp(page, archive.base, "Lonsdale, Kathleen", "kathleen@example.org", "hexamethylbenzene");
  await page.getByRole("link", { name: "Start a new deposit" }).click();
  await page.fill("#title", "Hexamethylbenzene");
  await page.fill("#author-0-name", "Lonsdale, Kathleen");
  await page.fill("#author-1-name", "Bragg, William");
  await page.getByRole("button", { name: "Add another author" }).click();
  await page.fill("#author-2-name", "Yardley, Kathleen");
  // Bragg first, then Yardley taken out again.
  await page.getByRole("button", { name: "Move author 2 up" }).click();
  await expect(page.locator("#author-0-name")).toHaveValue("Bragg, William");
  await expect(page.locator("#author-1-name")).toHaveValue("Lonsdale, Kathleen");
  await page.getByRole("button", { name: "Remove author 3" }).click();
  await expect(page.locator("#author-2-name")).toBeHidden();
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.locator("p.ok")).toContainText("Saved");
  const authors = page.locator("dt:text-is('Authors') + dd");
  await expect(authors).toHaveText("Bragg, William; Lonsdale, Kathleen");
  await ctx.close();
});

// A stand-in for ORCID, ROR and Crossref, answering as they do; Crossref is "down".
function registries() {
  const http = require("node:http");
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const send = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/orcid/expanded-search/") {
      return send(200, { "expanded-result": [{ "orcid-id": "0000-0002-1825-0097", "given-names": "Josiah",
        "family-names": "Carberry", "institution-name": ["Brown University"] }], "num-found": 1 });
    }
    if (url.pathname === "/ror/organizations") {
      return send(200, { items: [{ id: "https://ror.org/02550n020", status: "active",
        names: [{ value: "European Synchrotron Radiation Facility", types: ["ror_display", "label"] }],
        locations: [{ geonames_details: { name: "Grenoble", country_name: "France" } }] }] });
    }
    return send(503, { status: "unavailable" });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

test("names are looked up in ORCID and ROR, and a registry that is down leaves typing alone", async ({ browser }) => {
  const fake = await registries();
  const at = `http://127.0.0.1:${fake.address().port}`;
  const looked = await start({
    prepare: async () => `[lookups]\norcid_url = "${at}/orcid"\nror_url = "${at}/ror"\ncrossref_url = "${at}/crossref"\n`,
  });
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signUp(page, looked.base, "Carberry, Josiah", "josiah@example.org", "psychoceramics");
    await page.getByRole("link", { name: "Start a new deposit" }).click();
    await page.fill("#title", "Cracked pots at 100 K");

    // The second author: typed, suggested from ORCID, chosen: the iD fills itself in.
    const name = page.locator("#author-1-name");
    await name.pressSequentially("Carberry");
    await expect(page.locator("#author-1-name-lookup-note")).toContainText("1 match in ORCID");
    const option = await page.locator("#author-1-name-lookup option").first().getAttribute("value");
    expect(option).toContain("Brown University");
    await name.fill(option); // what choosing from the list does
    await expect(name).toHaveValue("Carberry, Josiah");
    await expect(page.locator("#author-1-orcid")).toHaveValue("0000-0002-1825-0097");

    // The affiliation from ROR, linked by its id.
    const affiliation = page.locator("#author-1-affiliation");
    await affiliation.pressSequentially("Grenoble");
    await expect(page.locator("#author-1-affiliation-lookup-note")).toContainText("1 match in ROR");
    await affiliation.fill(await page.locator("#author-1-affiliation-lookup option").first().getAttribute("value"));
    await expect(affiliation).toHaveValue("European Synchrotron Radiation Facility");
    await expect(page.locator("#author-1-affiliation-lookup-note")).toContainText("Linked to ROR: https://ror.org/02550n020");

    // Crossref is down: the person is told, and what they type is kept.
    const funder = page.locator("#funding-0-funder");
    await funder.pressSequentially("Wellcome Trust");
    await expect(page.locator("#funding-0-funder-lookup-note")).toContainText("answered with HTTP 503");
    await expect(page.locator("#funding-0-funder-lookup-note")).toContainText("type the value yourself");
    await page.fill("#funding-0-award", "221818");

    await page.getByRole("button", { name: "Save draft" }).click();
    await expect(page.locator("p.ok")).toContainText("Saved");
    await expect(page.locator("dt:text-is('Authors') + dd")).toContainText("Carberry, Josiah");
    // Editing again: the ROR id is still there, and said to be.
    await page.getByRole("link", { name: /Edit/ }).first().click();
    await expect(page.locator("#author-1-ror")).toHaveValue("https://ror.org/02550n020");
    await expect(page.locator("#author-1-affiliation-lookup-note")).toContainText("Linked to ROR");
    await expect(page.locator("#funding-0-funder")).toHaveValue("Wellcome Trust");
    await expect(page.locator("#funding-0-funder_id")).toHaveValue("");
    await ctx.close();
  } finally {
    looked.stop();
    fake.close();
  }
});
