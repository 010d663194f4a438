// Staff console: the API key lives in sessionStorage only (gone when the tab closes); every text is set
// with textContent, never innerHTML, so nothing the API returns can run as markup.
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
  function fmtNum(x) { return typeof x === "number" ? x.toLocaleString("ko-KR") : x; }

  var SEG = { recency_days: "최근 거래 경과일", txn_count_365d: "연간 거래 건수", spend_amount_365d: "연간 지출액(원)",
              txn_count_30d: "30일 거래 건수", spend_amount_30d: "30일 지출액(원)" };
  var DEMO = { age_band: "연령대", household: "가구 형태", income_band: "소득 구간", region_sido: "지역", tenure_days: "거래 기간(일)" };

  function keyState() {
    var has = !!sessionStorage.getItem(KEY);
    show("key-panel", !has);
    show("search-panel", has);
    show("logout", has);
    if (!has) show("result", false);
  }

  function problemText(body, status) {
    if (body && (body.title_ko || body.detail_ko)) {
      return (body.title_ko || "") + (body.detail_ko ? " — " + body.detail_ko : "") + " (" + status + ")";
    }
    return "요청에 실패했습니다 (" + status + ")";
  }

  function api(path) {
    return fetch(path, {
      headers: { "Authorization": "Bearer " + sessionStorage.getItem(KEY), "X-Purpose": $("purpose").value,
                 "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 401) { sessionStorage.removeItem(KEY); keyState(); }
        if (!r.ok) { throw new Error(problemText(body, r.status)); }
        return body;
      });
    });
  }

  function renderRecs(data) {
    var list = $("reco-list");
    list.textContent = "";
    $("reco-asof").textContent = data.as_of ? "(기준일 " + data.as_of + ")" : "";
    if (data.model_version) $("model-version").textContent = "모델 버전: " + data.model_version;
    if (!data.recommendations.length) { list.appendChild(el("p", "muted", "이 고객에게 추천할 상품이 아직 없습니다.")); return; }
    data.recommendations.forEach(function (r) {
      var box = el("div", "reco");
      box.setAttribute("data-product", r.product_id);
      var head = el("div", "head");
      head.appendChild(el("span", "rank", r.rank + "위"));
      head.appendChild(el("span", "pname", r.product_name));
      head.appendChild(el("span", "score", "점수 " + r.score.toFixed(3)));
      box.appendChild(head);
      var ul = el("ul", "reasons");
      r.reasons.forEach(function (t) { ul.appendChild(el("li", "reason", t)); });
      box.appendChild(ul);
      if (r.evidence_ids && r.evidence_ids.length) box.appendChild(el("div", "evidence", "근거: " + r.evidence_ids.join(", ")));
      list.appendChild(box);
    });
  }

  function renderProfile(p) {
    var dl = $("profile-facts");
    dl.textContent = "";
    function fact(k, v) { if (v === null || v === undefined || v === "") return; dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v)); }
    fact("고객 번호", p.customer_id);
    fact("세그먼트", p.segment ? p.segment.name : "-");
    fact("이탈 위험", p.churn_risk === null ? "-" : (p.churn_risk * 100).toFixed(0) + "%");
    Object.keys(DEMO).forEach(function (k) { if (p.demographics[k] !== undefined) fact(DEMO[k], fmtNum(p.demographics[k])); });
    Object.keys(SEG).forEach(function (k) { if (p.rfm[k] !== undefined) fact(SEG[k], fmtNum(p.rfm[k])); });
    fact("기준일", p.as_of);
    if (p.model_version) $("model-version").textContent = "모델 버전: " + p.model_version;

    var h = $("holdings"); h.textContent = "";
    if (!p.holdings.length) h.appendChild(el("span", "muted", "없음"));
    p.holdings.forEach(function (x) { h.appendChild(el("span", "chip", x.name)); });

    var i = $("intents"); i.textContent = "";
    if (p.recent_intents.length) {
      p.recent_intents.forEach(function (x) {
        var d = el("div", "intent");
        d.appendChild(el("strong", null, x.name));
        d.appendChild(el("small", null, "  " + (x.ts || "").slice(0, 10)));
        if (x.evidence) d.appendChild(el("div", "muted", "“" + x.evidence + "”"));
        i.appendChild(d);
      });
    } else if (p.intent_counts_90d.length) {
      p.intent_counts_90d.forEach(function (x) { i.appendChild(el("span", "chip", x.name + " " + x.count + "건")); });
    } else {
      i.appendChild(el("span", "muted", "최근 90일 분석된 상담 의도 없음"));
    }

    var s = $("interests"); s.textContent = "";
    if (!p.interests.length) s.appendChild(el("span", "muted", "없음"));
    p.interests.forEach(function (x) { s.appendChild(el("span", "chip", x.name)); });

    var m = $("spend-mix"); m.textContent = "";
    if (!p.spend_mix.length) m.appendChild(el("span", "muted", "없음"));
    p.spend_mix.forEach(function (x) { m.appendChild(el("span", "chip", x.name + " " + Math.round(x.share * 100) + "%")); });
  }

  $("key-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = $("api-key").value.trim();
    if (!v) return;
    sessionStorage.setItem(KEY, v);
    $("api-key").value = "";
    keyState();
    $("customer-id").focus();
  });
  $("logout").addEventListener("click", function () { sessionStorage.removeItem(KEY); keyState(); });

  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var id = $("customer-id").value.trim();
    var k = $("k").value;
    show("error", false);
    var enc = encodeURIComponent(id);
    Promise.all([api("/v1/customers/" + enc + "/recommendations?k=" + k), api("/v1/customers/" + enc + "/profile")])
      .then(function (res) { renderRecs(res[0]); renderProfile(res[1]); show("result", true); })
      .catch(function (e) { $("error").textContent = e.message; show("error", true); show("result", false); });
  });

  keyState();
})();
