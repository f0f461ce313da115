// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Evidence upload: a caption and source per chosen file, and a progress bar while sending.
function setUpUpload(form) {
  // The file picker and, on phones, the camera: their files are sent together, in that order.
  const inputs = Array.from(form.querySelectorAll("input[type=file]"));
  const chosen = () => inputs.flatMap((box) => Array.from(box.files));
  const perFile = form.querySelector("[data-per-file]");
  const progress = form.querySelector("[data-progress]");
  const status = form.querySelector("[data-status]");
  const button = form.querySelector("button[type=submit]");

  function field(labelText, name, placeholder) {
    const wrapper = document.createElement("div");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "text";
    box.name = name;
    box.id = name;
    box.placeholder = placeholder;
    label.htmlFor = name;
    label.textContent = labelText;
    wrapper.append(label, box);
    return wrapper;
  }

  function offerFields() {
    perFile.replaceChildren();
    const files = chosen();
    if (files.length < 2) return;
    files.forEach((file, index) => {
      const set = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = file.name; // text, never HTML
      const grid = document.createElement("div");
      grid.className = "grid";
      grid.append(field("Caption", `caption-${index}`, "Leave empty to use the caption below"),
                  field("Source", `source-${index}`, "Leave empty to use the source below"));
      set.append(legend, grid);
      perFile.append(set);
    });
  }
  inputs.forEach((box) => box.addEventListener("change", offerFields));

  form.addEventListener("submit", (event) => {
    if (!window.FormData || !chosen().length) return;
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((e.loaded / e.total) * 100);
      progress.value = percent;
      status.textContent = percent < 100 ? `Uploading… ${percent}%` : "Checking and storing the files…";
    });
    request.addEventListener("load", () => {
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch (error) { /* not JSON */ }
      if (request.status === 200 && answer.redirect) {
        const target = new URL(answer.redirect, window.location.href);
        if (target.href === window.location.href) {
          window.location.reload(); // the same page, now with the new files and messages
        } else {
          window.location.assign(target);
        }
        return;
      }
      button.disabled = false;
      progress.hidden = true;
      status.textContent = answer.detail || "The upload failed. Nothing was stored; please try again.";
    });
    request.addEventListener("error", () => {
      button.disabled = false;
      progress.hidden = true;
      status.textContent = "The connection was lost. Nothing was stored; please try again.";
    });
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    // Only the chosen files: an input left empty would send an empty part and shift the
    // numbering of the per-file captions.
    const data = new FormData(form);
    data.delete("files");
    chosen().forEach((file) => data.append("files", file, file.name));
    request.send(data);
  });
}

document.querySelectorAll("form[data-upload]").forEach(setUpUpload);

// Panels filled in after the page has shown (data-fragment: the address of their contents). An
// empty answer removes the panel; on any failure the link to the contents' own page stays.
document.querySelectorAll("[data-fragment]").forEach(async (panel) => {
  try {
    const response = await fetch(panel.dataset.fragment, { headers: { "X-Fragment": "1" }, credentials: "same-origin" });
    if (!response.ok) return;
    const html = (await response.text()).trim();
    if (html) panel.innerHTML = html;
    else panel.remove();
  } catch (error) {
    // offline or the server went away: keep the link
  }
});

// The header's menu on narrow screens: the "Menu" button shows and hides the navigation. Without
// script the button stays hidden and the navigation is simply shown, stacked.
(function setUpMenu() {
  const toggle = document.querySelector("[data-nav-toggle]");
  const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!toggle || !menu) return;
  document.documentElement.classList.add("js-menu");
  toggle.hidden = false;
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
  }
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();

// The case list's bulk actions: "select all" ticks every case of the page.
document.querySelectorAll("[data-select-all]").forEach((box) => {
  const label = box.closest("[hidden]");
  if (label) label.hidden = false;
  box.addEventListener("change", () => {
    document.querySelectorAll(`input[name=case][form="${box.dataset.selectAll}"]`)
      .forEach((item) => { item.checked = box.checked; });
  });
});

// The new-case form says, before filing, whether the business typed is already in the archive
// or will be added as a new one.
document.querySelectorAll("[data-business-check]").forEach((note) => {
  const input = document.getElementById(note.dataset.for);
  if (!input) return;
  let timer = null;
  let asked = "";
  async function check() {
    const name = input.value.trim();
    if (name === asked) return;
    asked = name;
    if (!name) { note.textContent = ""; return; }
    try {
      const url = `${note.dataset.businessCheck}?name=${encodeURIComponent(name)}`;
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok || asked !== name) return;
      const answer = await response.json();
      note.classList.toggle("is-new", Boolean(answer.new));
      note.textContent = answer.new
        ? `“${answer.name}” is not in the archive yet: filing this case adds it as a new business.`
        : `Filed against ${answer.known}, already in the archive.`;
    } catch (error) {
      // offline: the form still works, and the case page says if the business was new
    }
  }
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 350); });
  input.addEventListener("change", check);
  if (input.value.trim()) check();
});
