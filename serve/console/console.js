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
      headers: { "Authorization": "Bearer " + sessionStorage.getItem(KEY), "X-Purpose": $("purpose").value, "X-Cdna-Client": "console",
                 "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 401) {
          sessionStorage.removeItem(KEY);
          keyState();
          $("key-error").textContent = "API 키가 취소되었거나 유효하지 않습니다. 관리자에게 새 키를 받아 입력하세요.";
          show("key-error", true);
        }
        if (!r.ok) { throw new Error(problemText(body, r.status)); }
        return body;
      });
    });
  }

  // --- likelihood: a band a teller reads ("가입 가능성: 높음 · 평균 대비 3.2배"), never a raw score ---
  function likelihoodBadge(lk) {
    if (!lk) return el("span", "likelihood low", "가입 가능성: 정보 없음");
    var b = el("span", "likelihood " + lk.band, "가입 가능성: " + lk.label + " · " + lk.text);
    b.setAttribute("data-band", lk.band);
    return b;
  }

  // --- evidence: each id opens its masked snippet (call, web visit, transaction) ---
  var EV_KIND = { call: "통화", web: "방문", memo: "거래", txn: "거래" };
  function evidenceButtonText(id, i) {
    var kind = id.indexOf(":") > 0 ? id.split(":")[0] : (/^CL/.test(id) ? "call" : (/^W/.test(id) ? "web" : (/^T/.test(id) ? "txn" : "")));
    return "근거 " + (i + 1) + (EV_KIND[kind] ? " (" + EV_KIND[kind] + ")" : "");
  }
  function renderSnippet(box, s) {
    box.textContent = "";
    if (s.kind === "call") {
      box.appendChild(el("div", "what", "상담 통화 · " + (s.date || "") + " · " + (s.intent || "")));
      box.appendChild(el("div", "quote", "“" + (s.quote || "") + "”"));
    } else if (s.kind === "web") {
      box.appendChild(el("div", "what", (s.channel || "웹·앱") + " 방문 · " + (s.date || "")));
      box.appendChild(el("div", "quote", s.page + " 페이지"));
    } else {
      box.appendChild(el("div", "what", "거래 · " + (s.date || "")));
      box.appendChild(el("div", "quote", (s.memo || "") + " · " + (s.amount_text || "")));
    }
  }
  function evidenceList(customerId, ids) {
    var wrap = el("div", "ev-list");
    wrap.appendChild(el("span", "muted", "근거:"));
    var box = el("div", "snippet hidden");
    var unique = ids.filter(function (id, i) { return ids.indexOf(id) === i; });  // one button per source
    unique.slice(0, 5).forEach(function (id, i) {
      var b = el("button", "ev-btn", evidenceButtonText(id, i));
      b.type = "button";
      b.setAttribute("data-evidence", id);
      b.addEventListener("click", function () {
        box.classList.remove("hidden");
        box.textContent = "불러오는 중…";
        api("/v1/customers/" + encodeURIComponent(customerId) + "/evidence/" + encodeURIComponent(id))
          .then(function (s) { renderSnippet(box, s); })
          .catch(function (e) { box.textContent = e.message; });
      });
      wrap.appendChild(b);
    });
    var outer = el("div", "evidence");
    outer.appendChild(wrap);
    outer.appendChild(box);
    return outer;
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
      if (r.offer_id) box.setAttribute("data-offer", r.offer_id);  // outcome buttons: offers.js
      var head = el("div", "head");
      head.appendChild(el("span", "rank", r.rank + "위"));
      head.appendChild(el("span", "pname", r.product_name));
      head.appendChild(likelihoodBadge(r.likelihood));
      box.appendChild(head);
      var ul = el("ul", "reasons");
      r.reasons.forEach(function (t) { ul.appendChild(el("li", "reason", t)); });
      box.appendChild(ul);
      if (r.evidence_ids && r.evidence_ids.length) box.appendChild(evidenceList(data.customer_id, r.evidence_ids));
      list.appendChild(box);
    });
  }

  function renderProfile(p) {
    var dl = $("profile-facts");
    dl.textContent = "";
    function fact(k, v) { if (v === null || v === undefined || v === "") return; dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v)); }
    fact("고객 번호", p.customer_id);
    fact("세그먼트", p.segment ? (p.segment.label || p.segment.name) : "-");
    fact("이탈 위험", p.churn_risk === null ? "-" : (p.churn_risk * 100).toFixed(0) + "%");
    if (p.facts) {
      p.facts.forEach(function (f) { fact(f.label, f.value); });
    } else {
      Object.keys(DEMO).forEach(function (k) { if (p.demographics[k] !== undefined) fact(DEMO[k], fmtNum(p.demographics[k])); });
      Object.keys(SEG).forEach(function (k) { if (p.rfm[k] !== undefined) fact(SEG[k], fmtNum(p.rfm[k])); });
    }
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
    show("key-error", false);
    var v = $("api-key").value.trim();
    if (!v) return;
    sessionStorage.setItem(KEY, v);
    $("api-key").value = "";
    keyState();
    $("customer-id").focus();
  });
  $("logout").addEventListener("click", function () { sessionStorage.removeItem(KEY); keyState(); });

  function fail(e) { $("error").textContent = e.message; show("error", true); show("result", false); }

  function openCustomer(id) {
    var k = $("k").value;
    var enc = encodeURIComponent(id);
    show("hits", false);
    Promise.all([api("/v1/customers/" + enc + "/recommendations?k=" + k), api("/v1/customers/" + enc + "/profile")])
      .then(function (res) { renderRecs(res[0]); renderProfile(res[1]); show("result", true); })
      .catch(fail);
  }

  // --- search: id prefix (any case), 4-digit phone tail or name initials (김, ㄱㅁ); one hit opens directly ---
  var SEARCH_EMPTY = { id_prefix: "고객을 찾을 수 없습니다 — 이 번호로 시작하는 고객이 없습니다.",
                       phone_tail: "고객을 찾을 수 없습니다 — 이 전화번호 뒷자리의 고객이 없습니다.",
                       name_initial: "고객을 찾을 수 없습니다 — 이 성이나 초성의 고객이 없습니다.",
                       phone_tail_unavailable: "전화번호 검색은 연락처가 등록되고 권한이 있을 때만 됩니다.",
                       name_initial_unavailable: "이름 검색은 연락처가 등록되고 권한이 있을 때만 됩니다.",
                       invalid: "고객번호 앞부분, 전화번호 뒤 4자리, 성 한 글자 또는 이름 초성(예: ㄱㅁ)을 입력하세요." };
  function renderHits(res) {
    var ul = $("hits");
    ul.textContent = "";
    res.hits.forEach(function (h) {
      var li = el("li", "hit");
      var b = el("button", "secondary", h.customer_id);
      b.type = "button";
      b.addEventListener("click", function () { openCustomer(h.customer_id); });
      li.appendChild(b);
      var info = [h.name, h.phone, h.region, h.segment].filter(function (x) { return x; }).join(" · ");
      li.appendChild(el("span", "muted", info));
      ul.appendChild(li);
    });
    show("hits", true);
  }
  function searchCustomers(q) {
    return api("/v1/search/customers?q=" + encodeURIComponent(q)).then(function (res) {
      var exact = res.hits.filter(function (h) { return h.customer_id.toUpperCase() === q.toUpperCase(); });
      if (exact.length === 1 || res.hits.length === 1) { openCustomer((exact[0] || res.hits[0]).customer_id); return; }
      if (!res.hits.length) { fail(new Error(SEARCH_EMPTY[res.mode] || "고객을 찾을 수 없습니다")); show("hits", false); return; }
      show("result", false);
      renderHits(res);
    });
  }

  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = $("customer-id").value.trim();
    show("error", false);
    if (!q) return;
    searchCustomers(q).catch(fail);
  });

  keyState();
})();
