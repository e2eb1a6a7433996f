// Uploads over tus 1.0.0 with a progress bar per file, pause and resume. An upload
// survives a dropped connection (it retries from the server's offset) and a page
// reload (the server lists unfinished uploads; choosing the same file again resumes).
"use strict";
(() => {
  const root = document.getElementById("uploader");
  if (!root) return;
  const deposit = root.dataset.deposit;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const list = document.getElementById("upload-list");
  const controls = document.getElementById("upload-controls");
  const CHUNK = 8 * 1024 * 1024;
  const PARALLEL = 3;
  const uploads = [];
  let paused = false;

  // Unfinished uploads the server knows of, by path and size.
  const unfinished = new Map();
  document.querySelectorAll("#unfinished [data-upload-url]").forEach((li) => {
    unfinished.set(`${li.dataset.path}\n${li.dataset.length}`, li.dataset.uploadUrl);
  });

  const b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
  const headers = (extra) => Object.assign({ "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrf }, extra);
  const human = (n) => {
    const u = ["bytes", "kB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return i === 0 ? `${n} bytes` : `${n.toFixed(1)} ${u[i]}`;
  };

  function row(path, size) {
    const div = document.createElement("div");
    div.className = "upload";
    div.innerHTML = '<span class="name"></span> <span class="note"></span> <span class="status">waiting</span><br><progress max="100" value="0"></progress>';
    div.querySelector(".name").textContent = path;
    div.querySelector("progress").setAttribute("aria-label", `Upload of ${path}`);
    list.append(div);
    return {
      status: (t) => { div.querySelector(".status").textContent = t; },
      note: (t) => { div.querySelector(".note").textContent = t; },
      progress: (done) => { div.querySelector("progress").value = size ? (100 * done) / size : 100; },
      el: div,
    };
  }

  async function offsetOf(url) {
    const r = await fetch(url, { method: "HEAD", headers: headers({}), credentials: "same-origin" });
    if (!r.ok) return null;
    return Number(r.headers.get("Upload-Offset"));
  }

  async function create(u) {
    const meta = `deposit ${b64(deposit)},filename ${b64(u.path)}`;
    const r = await fetch("/api/v1/uploads", {
      method: "POST",
      credentials: "same-origin",
      headers: headers({ "Upload-Length": String(u.file.size), "Upload-Metadata": meta }),
    });
    if (r.status !== 201) {
      let detail = `the server refused the file (${r.status})`;
      try { detail = (await r.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw Object.assign(new Error(detail), { fatal: true });
    }
    return new URL(r.headers.get("Location"), location.href).pathname;
  }

  // One PATCH through XMLHttpRequest, which reports upload progress (fetch does not).
  function patch(u, offset, blob) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      u.xhr = x;
      x.open("PATCH", u.url);
      const h = headers({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" });
      for (const k in h) x.setRequestHeader(k, h[k]);
      x.upload.onprogress = (e) => { u.ui.progress(offset + e.loaded); };
      x.onload = () => {
        if (x.status === 204) resolve(Number(x.getResponseHeader("Upload-Offset")));
        else if (x.status === 409 || x.status >= 500) reject(new Error(`the server answered ${x.status}`));
        else {
          let detail = `the server refused the bytes (${x.status})`;
          try { detail = JSON.parse(x.responseText).detail || detail; } catch (_) { /* not JSON */ }
          reject(Object.assign(new Error(detail), { fatal: true }));
        }
      };
      x.onerror = () => reject(new Error("the connection dropped"));
      x.onabort = () => reject(Object.assign(new Error("paused"), { paused: true }));
      x.send(blob);
    });
  }

  async function run(u) {
    let failures = 0;
    while (true) {
      if (paused) { u.ui.status("paused"); return; }
      try {
        if (!u.url) {
          u.url = unfinished.get(`${u.path}\n${u.file.size}`) || null;
          if (u.url) {
            u.offset = await offsetOf(u.url);
            if (u.offset === null) u.url = null; else u.ui.note(`(resumed from ${human(u.offset)})`);
          }
          if (!u.url) { u.url = await create(u); u.offset = 0; }
        } else {
          const o = await offsetOf(u.url);
          if (o !== null) u.offset = o;
        }
        while (u.offset < u.file.size) {
          if (paused) { u.ui.status(`paused at ${human(u.offset)}`); return; }
          u.ui.status(`uploading: ${human(u.offset)} of ${human(u.file.size)}`);
          u.offset = await patch(u, u.offset, u.file.slice(u.offset, u.offset + CHUNK));
          u.ui.progress(u.offset);
          failures = 0;
        }
        if (u.file.size === 0 && u.offset === 0) await patch(u, 0, new Blob([]));
        u.done = true;
        u.ui.progress(u.file.size);
        u.ui.status("uploaded ✔");
        return;
      } catch (e) {
        if (e.paused) { u.ui.status(`paused at ${human(u.offset || 0)}`); return; }
        if (e.fatal) { u.failed = true; u.ui.status(`failed: ${e.message}`); return; }
        failures += 1;
        const wait = Math.min(30, 2 ** failures);
        u.ui.status(`${e.message}; trying again in ${wait} s`);
        await new Promise((r) => setTimeout(r, wait * 1000));
      }
    }
  }

  async function pump() {
    const queue = uploads.filter((u) => !u.done && !u.failed);
    const workers = Array.from({ length: PARALLEL }, async () => {
      while (queue.length) await run(queue.shift());
    });
    await Promise.all(workers);
    if (!paused && uploads.every((u) => u.done || u.failed)) {
      const ok = uploads.filter((u) => u.done).length;
      const status = document.createElement("p");
      status.className = uploads.some((u) => u.failed) ? "errors" : "ok";
      status.setAttribute("role", "status");
      status.textContent = `${ok} of ${uploads.length} ${uploads.length === 1 ? "file" : "files"} uploaded. Reloading the file list…`;
      list.append(status);
      setTimeout(() => location.reload(), 800);
    }
  }

  function add(files) {
    for (const [file, path] of files) {
      uploads.push({ file, path, ui: row(path, file.size), url: null, offset: 0 });
    }
    controls.hidden = false;
    pump();
  }

  // Files of a dropped folder, with their paths inside it.
  async function walk(entry, prefix, out) {
    if (entry.isFile) {
      out.push([await new Promise((res, rej) => entry.file(res, rej)), prefix + entry.name]);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      let batch;
      do {
        batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`, out);
      } while (batch.length);
    }
  }

  const zone = document.getElementById("dropzone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const out = [];
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry());
    if (entries.every(Boolean)) {
      for (const entry of entries) await walk(entry, "", out);
    } else {
      for (const f of e.dataTransfer.files) out.push([f, f.name]);
    }
    add(out);
  });
  for (const id of ["pick-files", "pick-folder"]) {
    document.getElementById(id).addEventListener("change", (e) => {
      add([...e.target.files].map((f) => [f, f.webkitRelativePath || f.name]));
      e.target.value = "";
    });
  }
  document.getElementById("pause-all").addEventListener("click", () => {
    paused = true;
    for (const u of uploads) if (u.xhr) u.xhr.abort();
  });
  document.getElementById("resume-all").addEventListener("click", () => {
    if (!paused) return;
    paused = false;
    pump();
  });
  // Let tests and curious people see the state.
  window.arcaUploads = uploads;
})();
