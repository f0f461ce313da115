// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Evidence upload: a caption and source per chosen file, and a progress bar while sending.
function setUpUpload(form) {
  const input = form.querySelector("input[type=file]");
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

  input.addEventListener("change", () => {
    perFile.replaceChildren();
    if (input.files.length < 2) return;
    Array.from(input.files).forEach((file, index) => {
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
  });

  form.addEventListener("submit", (event) => {
    if (!window.FormData || !input.files.length) return;
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
    request.send(new FormData(form));
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
