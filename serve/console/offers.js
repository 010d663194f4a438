// Offer outcomes in the staff console (issue 17): under every recommendation that came with an offer id,
// four buttons record what the customer answered (POST /v1/offers/{id}/outcome, once per offer).
// Kept apart from console.js: it only reads the `data-offer` attribute console.js puts on each .reco box.
(function () {
  "use strict";
  var KEY = "cdna_api_key";
  var OUTCOMES = [["accepted", "수락"], ["declined", "거절"], ["not_interested", "관심 없음"], ["call_back", "재연락"]];
  var LABEL = { accepted: "수락", declined: "거절", not_interested: "관심 없음", call_back: "재연락" };

  function post(offerId, outcome) {
    return fetch("/v1/offers/" + encodeURIComponent(offerId) + "/outcome", {
      method: "POST",
      headers: { "Authorization": "Bearer " + sessionStorage.getItem(KEY), "Content-Type": "application/json",
                 "Accept": "application/json" },
      body: JSON.stringify({ outcome: outcome })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { status: r.status, body: body }; });
    });
  }

  function addButtons(box) {
    var offerId = box.getAttribute("data-offer");
    if (!offerId || box.querySelector(".outcome")) return;
    var bar = document.createElement("div");
    bar.className = "outcome";
    bar.setAttribute("data-offer", offerId);
    var note = document.createElement("span");
    note.className = "outcome-note muted";
    note.textContent = "고객 응답:";
    bar.appendChild(note);
    OUTCOMES.forEach(function (o) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "secondary outcome-btn";
      b.setAttribute("data-outcome", o[0]);
      b.textContent = o[1];
      b.addEventListener("click", function () {
        bar.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        post(offerId, o[0]).then(function (res) {
          var stored = res.body && res.body.outcome;
          if (res.status === 200 || res.status === 201) {
            note.textContent = "기록됨: " + LABEL[stored] + (res.body.status === "unchanged" ? " (이미 기록된 응답)" : "");
            bar.setAttribute("data-recorded", stored);
            if (stored === "call_back") bar.querySelectorAll("button").forEach(function (x) { x.disabled = false; });
          } else {
            note.textContent = (res.body && (res.body.detail_ko || res.body.title_ko)) || ("기록 실패 (" + res.status + ")");
            bar.querySelectorAll("button").forEach(function (x) { x.disabled = false; });
          }
        }).catch(function () {
          note.textContent = "기록 실패 (네트워크)";
          bar.querySelectorAll("button").forEach(function (x) { x.disabled = false; });
        });
      });
      bar.appendChild(b);
    });
    box.appendChild(bar);
  }

  var style = document.createElement("style");
  style.textContent = ".outcome{margin-top:8px;display:flex;gap:6px;align-items:center;flex-wrap:wrap}" +
    ".outcome-btn{padding:3px 10px;font-size:13px}.outcome[data-recorded] .outcome-note{color:#2e7d32;font-weight:600}";
  document.head.appendChild(style);

  function scan() { document.querySelectorAll(".reco[data-offer]").forEach(addButtons); }
  var list = document.getElementById("reco-list");
  if (list) new MutationObserver(scan).observe(list, { childList: true, subtree: true });
  scan();
})();
