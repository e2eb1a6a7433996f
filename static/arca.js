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
    const first = row.querySelector("input");
    if (first) first.focus();
  }
});
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
