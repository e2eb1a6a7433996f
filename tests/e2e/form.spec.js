// The deposit form's lists: authors move up and are removed in the browser, and the
// saved order is the one on the screen.
const { test, expect } = require("@playwright/test");
const { start } = require("./archive");

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
  await page.goto(archive.base + "/signup");
  await page.fill("#name", "Lonsdale, Kathleen");
  await page.fill("#email", "kathleen@example.org");
  await page.fill("#password", "hexamethylbenzene");
  await page.fill("#password_again", "hexamethylbenzene");
  await page.getByRole("button", { name: "Create the account" }).click();
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
