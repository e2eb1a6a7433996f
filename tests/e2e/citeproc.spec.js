// The manuscript kit's references agree with citeproc-js, the CSL engine Zotero and
// Mendeley use: for every style Arca offers, citeproc-js is given the CSL file the
// archive serves (/citation-styles/{id}.csl) and the CSL-JSON the kit gives with each
// reference, and must write the same text, numbered 1, 2, 3 in the kit's order in
// numeric styles. The same holds for one dataset's citation on its own.
const { test, expect } = require("@playwright/test");
const CSL = require("citeproc");
const fs = require("node:fs");
const path = require("node:path");
const { start } = require("./archive");

// The en-US terms from the CSL locales repository, as citeproc-py ships them (a test
// dependency); Arca's engine carries the same repository's locales.
function localeXml() {
  const venv = path.resolve(__dirname, "../../target/test-env/lib");
  for (const py of fs.readdirSync(venv)) {
    const f = path.join(venv, py, "site-packages/citeproc/data/locales/locales-en-US.xml");
    if (fs.existsSync(f)) return fs.readFileSync(f, "utf8");
  }
  throw new Error("citeproc-py's locales are missing: run scripts/test-deps");
}

const STYLES = ["apa", "chicago-author-date", "harvard-cite-them-right", "ieee", "nature", "vancouver"];
const NUMERIC = { ieee: (n) => `[${n}]`, nature: (n) => `${n}.`, vancouver: (n) => `${n}.` };

// citeproc-js's bibliography for `items`, cited in this order, by item id.
function citeproc(styleXml, items) {
  const byId = new Map(items.map((it) => [it.id, it]));
  const locale = localeXml();
  const engine = new CSL.Engine(
    { retrieveLocale: () => locale, retrieveItem: (id) => byId.get(id) },
    styleXml,
    "en-US",
    true,
  );
  engine.setOutputFormat("text");
  engine.updateItems(items.map((it) => it.id));
  const [meta, entries] = engine.makeBibliography();
  const out = new Map();
  meta.entry_ids.forEach((ids, i) => out.set(ids[0], entries[i]));
  return out;
}

const tidy = (s) => s.replace(/\s+/g, " ").trim();

let archive;
let token;
const deposits = [];

test.beforeAll(async () => {
  archive = await start();
  archive.cli(["user", "add", "--email", "kabsch@example.org", "--name", "Kabsch, Wolfgang", "--role", "author"]);
  token = archive.cli(["token", "create", "--email", "kabsch@example.org"]).trim().split(/\s+/).pop();
  const datasets = [
    { title: "Hen egg-white lysozyme at 100 K", creators: ["Curie, Marie", "Franklin, Rosalind"], software: ["XDS", "AIMLESS"] },
    { title: "Thaumatin, room temperature, serial", creators: ["Lonsdale, Kathleen"], software: ["DIALS", "XDS"] },
  ];
  for (const d of datasets) {
    const r = await fetch(`${archive.base}/api/v1/deposits`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        metadata: {
          titles: [{ title: d.title }],
          creators: d.creators.map((name) => ({ name, nameType: "Personal" })),
          publisher: { name: "Arca test facility" },
          publicationYear: 2026,
          types: { resourceTypeGeneral: "Dataset" },
        },
        facility: { software: d.software.map((name) => ({ name })) },
      }),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    const id = (await r.json()).id;
    const doi = await fetch(`${archive.base}/api/v1/deposits/${id}/doi`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(doi.ok, await doi.clone().text()).toBe(true);
    deposits.push(id);
  }
});

test.afterAll(async () => { archive && archive.stop(); });

const api = async (p) => {
  const r = await fetch(`${archive.base}${p}`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status, `${p}: ${await r.clone().text()}`).toBe(200);
  return r;
};

for (const style of STYLES) {
  test(`the ${style} kit and citations agree with citeproc-js`, async () => {
    const csl = await (await fetch(`${archive.base}/citation-styles/${style}.csl`)).text();
    expect(csl).toContain("http://purl.org/net/xbiblio/csl");
    const kit = await (await api(`/api/v1/manuscript-kit?deposits=${deposits.join(",")}&style=${style}`)).json();
    // Two datasets and the three programs they name (XDS once).
    expect(kit.references.map((r) => r.kind)).toEqual(["dataset", "software", "software", "dataset", "software"]);
    const items = kit.references.map((r, i) => ({ ...r.csl, id: `ref-${i}` }));
    const theirs = citeproc(csl, items);
    kit.references.forEach((r, i) => {
      expect(tidy(r.text), `reference ${i + 1} in ${style}`).toBe(tidy(theirs.get(`ref-${i}`)));
      if (NUMERIC[style]) expect(r.text.startsWith(NUMERIC[style](i + 1)), r.text).toBe(true);
    });
    // One dataset cited on its own, as its page and /doi/ give it.
    const own = tidy(await (await api(`/api/v1/deposits/${deposits[1]}/citation?format=text&style=${style}`)).text());
    const alone = citeproc(csl, [{ ...kit.references[3].csl, id: "alone" }]);
    expect(own).toBe(tidy(alone.get("alone")));
  });
}
