// "Found in your files": after a detector image is uploaded, the deposit form offers what
// its header says beside each field; a click puts a value in its field, nothing is
// filled in by itself, and what the person typed stays until they choose otherwise.
const { test, expect } = require("@playwright/test");
const { start, signUp } = require("./archive");

let archive;

test.beforeAll(async () => {
  archive = await start();
});

test.afterAll(async () => {
  archive.stop();
});

/// A Pilatus miniCBF image of 4 x 4 pixels, byte-offset compressed, as a detector
/// writes it: the header the archive reads, then the binary section.
function pilatusFrame() {
  const header = [
    "###CBF: VERSION 1.5, CBFlib v0.7.8 - PILATUS detectors",
    "",
    "data_lyso_1_00001",
    "",
    "_array_data.header_convention \"PILATUS_1.2\"",
    "_array_data.header_contents",
    ";",
    "# Detector: PILATUS 6M, S/N 60-0100 Diamond",
    "# 2026-03-14T10:11:12.000",
    "# Exposure_time 0.040000 s",
    "# Wavelength 0.97950 A",
    "# Detector_distance 0.24500 m",
    "# Start_angle 0.0000 deg.",
    "# Angle_increment 0.1000 deg.",
    ";",
    "",
    "_array_data.data",
    ";",
    "--CIF-BINARY-FORMAT-SECTION--",
    "Content-Type: application/octet-stream;",
    "     conversions=\"x-CBF_BYTE_OFFSET\"",
    "Content-Transfer-Encoding: BINARY",
    "X-Binary-Element-Type: \"signed 32-bit integer\"",
    "X-Binary-Size-Fastest-Dimension: 4",
    "X-Binary-Size-Second-Dimension: 4",
    "",
    "",
  ].join("\r\n");
  const pixels = Buffer.from([5, 0, 0, 0, 0, 90, 0xa6, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([Buffer.from(header), Buffer.from([0x0c, 0x1a, 0x04, 0xd5]), pixels]);
}

test("the form offers what the files say, and a click takes it", async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signUp(page, archive.base, "Hodgkin, Dorothy", "dorothy@example.org", "penicillin-1945");
  await page.getByRole("link", { name: "Start a new deposit" }).click();
  await page.fill("#title", "Lysozyme at 100 K");
  await page.fill("#author-0-name", "Hodgkin, Dorothy");
  // Typed before any file is read: it must survive the offers.
  await page.fill("#detector", "Our own PILATUS");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.locator("p.ok")).toContainText("Saved");
  const depositUrl = page.url().split("?")[0];

  await page.setInputFiles("#pick-files", [
    { name: "lyso_1_00001.cbf", mimeType: "application/octet-stream", buffer: pilatusFrame() },
  ]);
  await expect(page.locator("#upload-list")).toContainText("uploaded ✔", { timeout: 60_000 });

  // The header is read by a job after the upload: the form offers it once read.
  const offer = page.getByRole("button", { name: "Use 0.9795 for Wavelength (Å)" });
  await expect
    .poll(async () => {
      await page.goto(depositUrl + "/edit");
      return offer.count();
    }, { timeout: 30_000 })
    .toBe(1);
  await expect(page.locator("#found")).toContainText("nothing is saved until you save");
  // Offered, not applied: the empty field stays empty, the typed one keeps its text.
  await expect(page.locator("#wavelength")).toHaveValue("");
  await expect(page.locator("#detector")).toHaveValue("Our own PILATUS");
  await expect(page.locator("#detector-found")).toContainText("PILATUS 6M");
  await expect(page.locator("#collection_date-found")).toContainText("2026-03-14");

  await offer.click();
  await expect(page.locator("#wavelength")).toHaveValue("0.9795");
  await expect(page.locator("#wavelength")).toBeFocused();
  await expect(page.locator("#detector")).toHaveValue("Our own PILATUS");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.locator("p.ok")).toContainText("Saved");

  // The deposit page tells what the files say and pictures the frame.
  await page.goto(depositUrl);
  await expect(page.getByRole("heading", { name: "What the files say" })).toBeVisible();
  const img = page.locator("img[alt='Picture of lyso_1_00001.cbf']");
  await expect(img).toBeVisible();
  expect(await img.evaluate((i) => i.complete && i.naturalWidth)).toBe(4);
  await page.goto(depositUrl + "/edit");
  await expect(page.locator("#wavelength")).toHaveValue("0.9795");
  await expect(page.locator("#detector")).toHaveValue("Our own PILATUS");
  await ctx.close();
});
