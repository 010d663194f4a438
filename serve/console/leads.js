// 오늘의 영업 기회: open leads of a branch from GET /v1/leads (issue #16). Text is set with textContent only.
(function () {
  "use strict";
  var KEY = "cdna_api_key";
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function show(id, on) { $(id).classList.toggle("hidden", !on); }

  function keyState() {
    var has = !!sessionStorage.getItem(KEY);
    show("key-panel", !has);
    show("filter-panel", has);
    if (has) load();
  }

  function api(path) {
    return fetch(path, { headers: { "Authorization": "Bearer " + sessionStorage.getItem(KEY), "Accept": "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.status === 401) { sessionStorage.removeItem(KEY); keyState(); }
          if (!r.ok) throw new Error((body.title_ko || "요청에 실패했습니다") + " (" + r.status + ")");
          return body;
        });
      });
  }

  // The expiry date in Korea time (the events' own clock: a replayed day must not read as long expired).
  function until(iso) {
    var d = new Date(new Date(iso).getTime() + 9 * 3600000);
    return d.toISOString().slice(0, 10) + "까지";
  }

  function render(data) {
    var sel = $("branch"), keep = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    data.branches.forEach(function (b) { var o = el("option", null, b); o.value = b; sel.appendChild(o); });
    sel.value = keep;
    var tb = $("leads");
    tb.textContent = "";
    data.leads.forEach(function (l) {
      var tr = el("tr");
      tr.setAttribute("data-lead", l.lead_id);
      var c = el("td");
      var a = el("a", "cust", l.customer_id);
      a.href = "/console#" + encodeURIComponent(l.customer_id);
      c.appendChild(a);
      if (l.hits > 1) c.appendChild(el("div", "muted", "신호 " + l.hits + "건 병합"));
      tr.appendChild(c);
      tr.appendChild(el("td", null, l.branch));
      var p = el("td"); p.appendChild(el("span", "chip", l.product_name)); tr.appendChild(p);
      var r = el("td");
      l.reasons.forEach(function (t) { r.appendChild(el("p", "reason", t)); });
      tr.appendChild(r);
      var d = el("td"); d.appendChild(el("span", "due", until(l.expires_at))); tr.appendChild(d);
      tb.appendChild(tr);
    });
    $("count").textContent = data.leads.length + "건";
    show("leads-panel", true);
    show("empty", data.leads.length === 0);
  }

  function load() {
    var b = $("branch").value;
    api("/v1/leads" + (b ? "?branch=" + encodeURIComponent(b) : ""))
      .then(function (d) { show("error", false); render(d); })
      .catch(function (e) { $("error").textContent = e.message; show("error", true); });
  }

  $("key-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $("api-key").value.trim());
    $("api-key").value = "";
    keyState();
  });
  $("filter-form").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  keyState();
}());
