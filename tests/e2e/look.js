// What the browser tests check on every page: WCAG 2 A and AA by axe-core, the width on
// a phone, and a screenshot kept as an artifact.
const { expect } = require("@playwright/test");
const fs = require("node:fs");
const path = require("node:path");

const SHOTS = path.join(__dirname, "artifacts", "screenshots");
fs.mkdirSync(SHOTS, { recursive: true });
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

// No serious or critical violation on a page. Evaluated through the browser's debugging
// protocol, not as a <script>: the archive's Content-Security-Policy rightly refuses
// inline scripts, the test's own included.
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
async function accessible(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    await page.evaluate(AXE);
  }
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  });
  expect(found, `accessibility of ${name}`).toEqual([]);
}

// Readable on a phone: nothing wider than the screen. Measured against the phone's
// width, not window.innerWidth: a mobile browser zooms out to show a page that is too
// wide, and innerWidth grows with it.
const PHONE = 390;
async function fitsAPhone(browser, url, name, storageState) {
  const ctx = await browser.newContext({ viewport: { width: PHONE, height: 844 }, isMobile: true, storageState });
  const p = await ctx.newPage();
  await p.goto(url);
  const overflow = (await p.evaluate(() => document.documentElement.scrollWidth)) - PHONE;
  // What sticks out, so the failure says where to look.
  const wide = await p.evaluate((w) => [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > w + 1 && ![...el.children].some((c) => c.getBoundingClientRect().right > w + 1))
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className ? "." + el.className : ""}: ${el.textContent.trim().slice(0, 40)}`), PHONE);
  expect.soft(overflow, `${name} scrolls sideways on a phone: ${wide.join(" | ")}`).toBeLessThanOrEqual(0);
  await shot(p, `phone-${name}`);
  await ctx.close();
}

module.exports = { shot, accessible, fitsAPhone };
