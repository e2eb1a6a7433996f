// Small helpers for Arca's pages; every page works without them.
"use strict";
// Actions that cannot be taken back ask first, naming what follows.
document.addEventListener("submit", (ev) => {
  const form = ev.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) ev.preventDefault();
});
document.addEventListener("click", (ev) => {
  const copy = ev.target.closest("[data-copy]");
  if (copy) {
    const el = document.querySelector(copy.dataset.copy);
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.textContent.trim()).then(() => {
        const was = copy.textContent;
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = was; }, 1500);
      });
    }
  }
  const accept = ev.target.closest("[data-accept]");
  if (accept) {
    // A value found in the files goes into its field only when the person chooses it.
    const field = document.querySelector(accept.dataset.accept);
    if (field) { field.value = accept.dataset.value; field.focus(); }
  }
  const add = ev.target.closest("[data-add-row]");
  if (add) {
    // Copy the last row of the group, blank, with the next index in its names.
    const kind = add.dataset.addRow;
    const rows = document.querySelectorAll(`[data-row="${kind}"]`);
    const last = rows[rows.length - 1];
    const next = rows.length;
    const row = last.cloneNode(true);
    // Suggestions and notes belong to the row they were made for.
    row.querySelectorAll(".lookup-note, datalist[data-lookup]").forEach((el) => el.remove());
    row.querySelectorAll("input[data-lookup-list]").forEach((el) => {
      el.removeAttribute("list");
      el.removeAttribute("data-lookup-list");
      delete el.dataset.chosen;
    });
    row.querySelectorAll("input, label, p").forEach((el) => {
      for (const attr of ["id", "name", "for", "aria-describedby"]) {
        const v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(new RegExp(`${kind}-\\d+-`, "g"), `${kind}-${next}-`));
      }
      if (el.tagName === "INPUT") { el.value = ""; el.removeAttribute("aria-invalid"); }
      if (el.tagName === "LABEL") el.textContent = el.textContent.replace(/\d+/, String(next + 1));
      if (el.classList.contains("error")) el.remove();
    });
    last.after(row);
    row.hidden = false;
    labelRows(kind);
    const first = row.querySelector("input");
    if (first) first.focus();
  }
  const up = ev.target.closest("[data-row-up]");
  if (up) {
    // Values move, rows stay: the names keep their order, so the saved order is the new one.
    const row = up.closest("[data-row]");
    let prev = row.previousElementSibling;
    while (prev && (prev.dataset.row !== row.dataset.row || prev.hidden)) prev = prev.previousElementSibling;
    if (prev) {
      const a = prev.querySelectorAll("input");
      const b = row.querySelectorAll("input");
      a.forEach((input, i) => { if (b[i]) [input.value, b[i].value] = [b[i].value, input.value]; });
      prev.querySelector("[data-row-up]")?.focus();
    }
  }
  const remove = ev.target.closest("[data-row-remove]");
  if (remove) {
    // Emptied and hidden: the archive drops empty rows when it saves.
    const row = remove.closest("[data-row]");
    row.querySelectorAll("input").forEach((input) => { input.value = ""; });
    row.hidden = true;
  }
});

// Each row of a list (authors, programs) can move up or be removed.
function labelRows(kind) {
  document.querySelectorAll(`[data-row="${kind}"]`).forEach((row, i) => {
    row.querySelector("[data-row-up]")?.setAttribute("aria-label", `Move ${kind} ${i + 1} up`);
    row.querySelector("[data-row-remove]")?.setAttribute("aria-label", `Remove ${kind} ${i + 1}`);
  });
}
(() => {
  const kinds = new Set();
  document.querySelectorAll("[data-row]").forEach((row) => {
    const tools = document.createElement("div");
    tools.className = "row-tools";
    for (const [attr, words] of [["data-row-up", "Move up"], ["data-row-remove", "Remove"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.setAttribute(attr, "");
      button.textContent = words;
      tools.append(button, " ");
    }
    row.append(tools);
    kinds.add(row.dataset.row);
  });
  kinds.forEach(labelRows);
})();
document.addEventListener("change", (ev) => {
  const input = ev.target.closest("input[type=file][data-fill]");
  if (input && input.files[0]) {
    input.files[0].text().then((t) => { document.querySelector(input.dataset.fill).value = t; });
  }
});

// While something is under way for a deposit (verification, the DOI's registration at
// DataCite, copies to mirrors), its page follows: once what is under way changes, the
// page is loaded again (without a one-time message such as "Submitted"), so "Verified",
// "Findable at DataCite" or a copy's progress shows without the person reloading. Not
// while they are typing into one of the page's forms.
(() => {
  const live = document.querySelector("[data-live]");
  if (!live) return;
  const url = location.pathname;
  const was = live.dataset.live;
  const busy = () => {
    const el = document.activeElement;
    return (el && el.matches("input:not([type=hidden]), textarea, select"))
      || [...document.querySelectorAll("textarea, input[type=text]")].some((f) => f.value !== f.defaultValue);
  };
  const tick = async () => {
    try {
      const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      const now = (await r.text()).match(/data-live="([^"]*)"/);
      if ((now ? now[1] : null) !== was && !busy()) {
        location.replace(url);
        return;
      }
    } catch (_) { /* offline for now: try again */ }
    setTimeout(tick, 3000);
  };
  setTimeout(tick, 3000);
})();

// A page that comes back with problems puts the reader on their summary (screen readers
// read it, the keyboard starts there).
(() => {
  const summary = document.querySelector("[data-focus]");
  if (summary) summary.focus();
})();

// Suggestions from ORCID (authors), ROR (affiliations) and the Funder Registry (funders)
// as the person types. Choosing one puts its value in the field and its identifier
// beside it; anything typed is still accepted, and a registry that does not answer
// only means no suggestions.
(() => {
  const form = document.querySelector("form[data-lookups]");
  if (!form) return;
  const offered = new Set(form.dataset.lookups.split(" ").filter(Boolean));
  const KINDS = [
    { match: /^author-\d+-name$/, registry: "orcid", name: "ORCID", id: "orcid" },
    { match: /^author-\d+-affiliation$/, registry: "ror", name: "ROR", id: "ror" },
    { match: /^funding-\d+-funder$/, registry: "funders", name: "the Funder Registry", id: "funder_id" },
  ];
  const kindOf = (input) => KINDS.find((k) => k.match.test(input.id || "") && offered.has(k.registry));
  // The identifier's input in the same row: author-2-name → author-2-orcid.
  const idInput = (input, kind) => document.getElementById(input.id.replace(/-[a-z_]+$/, `-${kind.id}`));
  const note = (input) => {
    let p = document.getElementById(`${input.id}-lookup-note`);
    if (!p) {
      p = document.createElement("p");
      p.className = "hint lookup-note";
      p.id = `${input.id}-lookup-note`;
      p.setAttribute("aria-live", "polite");
      input.after(p);
      input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") || ""} ${p.id}`.trim());
    }
    return p;
  };
  const shown = (s) => `${s.label}${s.detail ? ` — ${s.detail}` : ""} (${s.id})`;
  const found = new WeakMap();
  const timers = new WeakMap();

  const choose = (input, kind, s) => {
    input.value = s.label;
    input.dataset.chosen = s.label;
    const target = idInput(input, kind);
    if (target) target.value = s.id;
    note(input).textContent = kind.registry === "orcid"
      ? `ORCID iD ${s.id} filled in below.`
      : `Linked to ${kind.name}: ${s.id}`;
  };

  const ask = async (input, kind) => {
    const q = input.value.trim();
    if (q.length < 3) return;
    let body;
    try {
      const r = await fetch(`/api/v1/lookups/${kind.registry}?q=${encodeURIComponent(q)}`, {
        credentials: "same-origin",
        headers: { accept: "application/json" },
      });
      if (!r.ok) return;
      body = await r.json();
    } catch (_) {
      note(input).textContent = `${kind.name} cannot be reached from here: type the value yourself.`;
      return;
    }
    if (input.value.trim() !== q) return; // the person typed on meanwhile
    found.set(input, body.suggestions);
    let list = document.getElementById(`${input.id}-lookup`);
    if (!list) {
      list = document.createElement("datalist");
      list.id = `${input.id}-lookup`;
      list.dataset.lookup = kind.registry;
      input.after(list);
      input.setAttribute("list", list.id);
      input.setAttribute("autocomplete", "off");
      input.dataset.lookupList = "";
    }
    list.replaceChildren(...body.suggestions.map((s) => {
      const o = document.createElement("option");
      o.value = shown(s);
      return o;
    }));
    const n = body.suggestions.length;
    note(input).textContent = body.unavailable
      ? body.unavailable.charAt(0).toUpperCase() + body.unavailable.slice(1) + "."
      : n === 0
        ? `No match in ${kind.name}: the name is kept as typed.`
        : `${n} match${n === 1 ? "" : "es"} in ${kind.name}: choose one from the list, or keep typing.`;
  };

  form.addEventListener("input", (ev) => {
    const input = ev.target;
    const kind = input instanceof HTMLInputElement && kindOf(input);
    if (!kind) return;
    const picked = (found.get(input) || []).find((s) => shown(s) === input.value);
    if (picked) {
      choose(input, kind, picked);
      return;
    }
    // A value typed over a chosen one no longer has that identifier (an ORCID iD is
    // a field of its own and stays as the person left it).
    if (input.dataset.chosen !== undefined && input.value !== input.dataset.chosen && kind.registry !== "orcid") {
      const target = idInput(input, kind);
      if (target) target.value = "";
      delete input.dataset.chosen;
      note(input).textContent = "";
    }
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(() => ask(input, kind), 350));
  });

  // Identifiers saved earlier are named beside their values.
  for (const kind of KINDS.filter((k) => k.registry !== "orcid" && offered.has(k.registry))) {
    form.querySelectorAll("input[type=text]").forEach((input) => {
      if (!kind.match.test(input.id)) return;
      const target = idInput(input, kind);
      if (target && target.value && input.value) {
        input.dataset.chosen = input.value;
        note(input).textContent = `Linked to ${kind.name}: ${target.value}`;
      }
    });
  }
})();
