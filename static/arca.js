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

// While the archive verifies a deposit, its page follows: once the state changes it is
// loaded again (without the one-time "Submitted" message), so "Verified" or the
// problems found show without the person reloading.
(() => {
  const state = document.querySelector("span.state[data-state='submitted']");
  if (!state) return;
  const url = location.pathname;
  const tick = async () => {
    try {
      const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      const now = (await r.text()).match(/class="state" data-state="([a-z_]+)"/);
      if (now && now[1] !== "submitted") {
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
