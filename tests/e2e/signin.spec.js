// Signing in through the facility's identity provider, in headless Chromium: a real
// OpenID Provider (npm oidc-provider) with its own login and consent pages, and a real
// `arca serve` configured with it. The person comes back signed in, with the curator
// role their group claim gives them.
const { test, expect } = require("@playwright/test");
const { spawn } = require("node:child_process");
const path = require("node:path");
const { start, freePort } = require("./archive");

let archive;
let idp;

async function startProvider(port, config) {
  const proc = spawn(process.execPath, [path.join(__dirname, "oidc_provider.mjs"), String(port), JSON.stringify(config)], {
    stdio: "ignore",
  });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
      if (r.ok) return proc;
    } catch (_) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("oidc-provider did not start");
}

test.beforeAll(async () => {
  archive = await start({
    prepare: async (base) => {
      const port = await freePort();
      idp = await startProvider(port, {
        clients: [{
          client_id: "arca",
          client_secret: "client secret",
          redirect_uris: [`${base}/signin/oidc/facility/callback`],
          grant_types: ["authorization_code"],
          response_types: ["code"],
        }],
        accounts: {
          marie: { email: "marie@facility.example", email_verified: true, name: "Marie Curie", groups: ["arca-curators"] },
        },
      });
      return [
        "[auth.oidc.facility]",
        `issuer = "http://127.0.0.1:${port}"`,
        'client_id = "arca"',
        'client_secret = "client secret"',
        'display_name = "Beamline Facility"',
        'roles_claim = "groups"',
        'curator_values = ["arca-curators"]',
        "",
      ].join("\n");
    },
  });
});

test.afterAll(async () => {
  archive && archive.stop();
  idp && idp.kill();
});

test("a facility user signs in through the identity provider and lands as a curator", async ({ page }) => {
  await page.goto(`${archive.base}/signin`);
  await page.getByRole("link", { name: "Sign in with Beamline Facility" }).click();
  // The provider's own pages.
  await page.locator('input[name="login"]').fill("marie");
  await page.locator('input[name="password"]').fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  // Back at the archive, signed in.
  await expect(page).toHaveURL(`${archive.base}/my`);
  await expect(page.locator("header .who")).toHaveText("Marie Curie");
  await expect(page.getByRole("link", { name: "Curation" })).toBeVisible();
  await page.goto(`${archive.base}/my`);
  await expect(page.locator("#linked-facility")).toHaveText("linked");
});
