// cuckoo console: the only script. Refreshes the calls in progress; plays a scenario's text.
"use strict";

function refreshLive(table) {
  fetch(table.dataset.refresh, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => {
      if (!data) return;
      const body = table.tBodies[0];
      body.replaceChildren();
      for (const n of data.in_progress) {
        const tr = document.createElement("tr");
        const link = document.createElement("a");
        link.href = "/notifications/" + n.id;
        link.textContent = String(n.id);
        const cells = [link, n.phone, n.scenario, n.since];
        for (const c of cells) {
          const td = document.createElement("td");
          if (typeof c === "string") td.textContent = c; else td.append(c);
          tr.append(td);
        }
        body.append(tr);
      }
      if (!data.in_progress.length) {
        const tr = document.createElement("tr");
        tr.className = "empty";
        const td = document.createElement("td");
        td.colSpan = 4;
        td.textContent = "—";
        tr.append(td);
        body.append(tr);
      }
    })
    .catch(() => {});
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live) setInterval(() => refreshLive(live), 5000);
  for (const button of document.querySelectorAll("button.listen")) {
    button.addEventListener("click", () => {
      let player = button.nextElementSibling;
      if (!player || player.tagName !== "AUDIO") {
        player = document.createElement("audio");
        player.controls = true;
        player.src = button.dataset.src;
        button.after(player);
      }
      player.play();
    });
  }
});
