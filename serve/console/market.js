// Market sensing: weekly series of call intents, complaints and memo interests, one small SVG chart per
// series (no chart library, nothing from a CDN). Text is set with textContent only.
(function () {
  "use strict";
  var KEY = "cdna_api_key";
  var SVG = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
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

  // One series as bars over weeks, with the first and last week under the axis.
  function chart(series, weeks) {
    var box = el("div", "chart");
    box.setAttribute("data-series", series.kind + ":" + series.label);
    box.appendChild(el("h3", null, series.name));
    var delta = series.change > 0 ? "▲ " + series.change : (series.change < 0 ? "▼ " + (-series.change) : "변화 없음");
    var sub = el("div", "sub", "최근 " + weeks.length + "주 " + series.total.toLocaleString("ko-KR") + "건 · 지난주 대비 ");
    sub.appendChild(el("span", series.change > 0 ? "up" : (series.change < 0 ? "down" : ""), delta));
    box.appendChild(sub);
    var W = 300, H = 110, pad = 16, max = Math.max.apply(null, series.values.concat([1]));
    var g = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": series.name + " 주별 건수" });
    var bw = (W - 2 * pad) / series.values.length;
    g.appendChild(svg("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: "#dde3ea" }));
    series.values.forEach(function (v, i) {
      var h = (H - 2 * pad - 10) * v / max;
      var r = svg("rect", { x: pad + i * bw + 1, y: H - pad - h, width: Math.max(bw - 2, 1), height: h, fill: "#0b5cad" });
      var t = svg("title", {}); t.textContent = weeks[i] + " 주: " + v + "건"; r.appendChild(t);
      g.appendChild(r);
      if (v === max && v > 0) {
        var lab = svg("text", { x: pad + i * bw + bw / 2, y: H - pad - h - 2, "font-size": 10, "text-anchor": "middle", fill: "#1d2733" });
        lab.textContent = String(v); g.appendChild(lab);
      }
    });
    var a = svg("text", { x: pad, y: H - 2, "font-size": 10, fill: "#5f6b7a" }); a.textContent = weeks[0].slice(5).replace("-", "/") + " 주";
    var b = svg("text", { x: W - pad, y: H - 2, "font-size": 10, fill: "#5f6b7a", "text-anchor": "end" }); b.textContent = weeks[weeks.length - 1].slice(5).replace("-", "/") + " 주";
    g.appendChild(a); g.appendChild(b);
    box.appendChild(g);
    return box;
  }

  function fillSelect(id, values) {
    var s = $(id), cur = s.value;
    if (s.options.length > 1) return;
    values.forEach(function (v) { var o = el("option", null, v); o.value = v; s.appendChild(o); });
    s.value = cur;
  }

  function render(data) {
    fillSelect("segment", data.segments);
    fillSelect("region", data.regions);
    var root = $("groups");
    root.textContent = "";
    var kinds = [];
    data.series.forEach(function (s) { if (kinds.indexOf(s.kind) < 0) kinds.push(s.kind); });
    if (!kinds.length) { root.appendChild(el("p", "muted", "이 조건에 해당하는 신호가 없습니다.")); return; }
    kinds.forEach(function (kind) {
      var items = data.series.filter(function (s) { return s.kind === kind; });
      var sec = el("section", "card");
      sec.appendChild(el("h2", null, items[0].kind_label));
      var grid = el("div", "charts");
      items.forEach(function (s) { grid.appendChild(chart(s, data.weeks)); });
      sec.appendChild(grid);
      root.appendChild(sec);
    });
  }

  function load() {
    var q = "?weeks=" + $("weeks").value;
    if ($("segment").value) q += "&segment=" + encodeURIComponent($("segment").value);
    if ($("region").value) q += "&region=" + encodeURIComponent($("region").value);
    show("error", false);
    api("/v1/market/trends" + q).then(render).catch(function (e) { $("error").textContent = e.message; show("error", true); });
  }

  $("key-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = $("api-key").value.trim();
    if (!v) return;
    sessionStorage.setItem(KEY, v);
    $("api-key").value = "";
    keyState();
  });
  $("filter-form").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  keyState();
})();
