// The ops console: plain JavaScript, no framework and no CDN (it must work offline). The charts
// use uPlot, bundled from the npm registry into static/vendor (small, fast on a month of days,
// real time axes; scripts/vendor-js refreshes it).
"use strict";

const KIND_VI = {
  lost: "Thất lạc", stuck: "Ùn tắc, quá hạn", link: "Lỗi kết nối", agency: "Hệ thống im lặng",
  duplicate: "Trùng lặp", data_quality: "Chất lượng dữ liệu", contract: "Sai quy ước liên thông",
  infrastructure: "Sự cố hạ tầng",
};
const FLOW_VI = { birth: "Khai sinh", death: "Khai tử", lltp: "Lý lịch tư pháp", marriage: "Kết hôn" };
const AGENCY_VI = {
  portal: "Cổng DVC", motcua: "Một cửa", hotich: "Hộ tịch", cutru: "Cư trú", bhxh: "BHXH",
  btxh: "Bảo trợ xã hội", lltp: "Lý lịch tư pháp", dancu: "CSDLQG về dân cư", monitor: "Giám sát",
};
const SEVERITY_VI = { high: "Cao", medium: "Trung bình", low: "Thấp" };
const STATE_VI = { open: "Đang mở", resolved: "Đã xử lý", all: "Tất cả" };
const FILTERS = ["state", "kind", "flow", "agency", "severity", "commune"];
const LABELS = { kind: KIND_VI, flow: FLOW_VI, agency: AGENCY_VI, severity: SEVERITY_VI, state: STATE_VI };
const ANY = { state: null, kind: "Mọi loại", flow: "Mọi luồng", agency: "Mọi cơ quan", severity: "Mọi mức độ" };

const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (iso) => (iso ? new Date(iso).toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour12: false }) : "—");
const fold = (s) => String(s || "").replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();

const view = { sort: "overdue", dir: "desc", page: 1, size: 25, filters: {}, allWhenNoneOpen: false };
let role = { role: "viewer", reason: "Chỉ được xem: cần nhập mã vận hành để thao tác" };
let communes = [];
let openDossier = null;

// ----- the URL keeps the filters, the sort and the page

function readURL() {
  const p = new URLSearchParams(location.search);
  for (const f of FILTERS) if (p.get(f)) view.filters[f] = p.get(f);
  view.sort = p.get("sort") || "overdue";
  view.dir = p.get("dir") || "desc";
  view.page = Number(p.get("page") || 1);
  view.size = Number(p.get("size") || 25);
  if (p.get("dossier")) openDossier = p.get("dossier");
}

function queryString() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(view.filters)) if (v) p.set(k, v);
  if (!view.filters.state && view.allWhenNoneOpen) p.set("state", "all");
  if (view.sort !== "overdue") p.set("sort", view.sort);
  if (view.dir !== "desc") p.set("dir", view.dir);
  if (view.page !== 1) p.set("page", view.page);
  if (view.size !== 25) p.set("size", view.size);
  if (openDossier) p.set("dossier", openDossier);
  return p;
}

function writeURL() {
  const qs = queryString().toString();
  history.replaceState(null, "", qs ? `?${qs}` : location.pathname);
}

// ----- who is here: an operator (token and name) or a viewer

function token() { return $("#token-input").value.trim(); }
function operatorName() { return $("#operator-input").value.trim(); }

async function checkRole() {
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  role = await (await fetch("/api/v1/whoami", { headers })).json();
  const ok = role.role === "operator";
  $("#role").textContent = ok ? "Được thao tác" : "Chỉ xem";
  $("#role").className = `role ${ok ? "ok" : ""}`;
  applyRole();
}

function applyRole() {
  const ok = role.role === "operator";
  document.querySelectorAll("button.operator").forEach((b) => {
    b.disabled = !ok;
    b.title = ok ? "" : role.reason;
  });
  $("#viewer-reason").textContent = ok ? "" : role.reason;
}

async function operatorPost(url, body, method = "POST") {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const r = await fetch(url, { method, headers, body: JSON.stringify({ ...(body || {}), operator: operatorName() }) });
  return { status: r.status, data: await r.json().catch(() => ({})) };
}

async function operatorGet(url) {
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  const r = await fetch(url, { headers });
  return { status: r.status, data: await r.json().catch(() => ({})) };
}

function refusal(res) {
  return `Không thực hiện được (${res.status}): ${res.data.error || "lỗi không rõ"}`;
}

function say(el, text, ok) {
  el.textContent = text;
  el.className = ok ? "ok" : "error";
}

// ----- the work queue

function optionsFor(name, counts, total) {
  const select = document.querySelector(`#filters select[name="${name}"]`);
  const chosen = view.filters[name] || (name === "state" ? (view.allWhenNoneOpen ? "all" : "open") : "");
  const labels = LABELS[name] || {};
  const values = name === "state" ? ["open", "resolved", "all"] : Object.keys(labels).filter((k) => counts[k] || k === chosen);
  const opts = (ANY[name] ? [`<option value="">${esc(ANY[name])} (${total})</option>`] : [])
    .concat(values.map((v) => `<option value="${esc(v)}"${v === chosen ? " selected" : ""}>${esc(labels[v] || v)} (${counts[v] || 0})</option>`));
  const html = opts.join("");
  if (select.dataset.html !== html) { select.innerHTML = html; select.dataset.html = html; }
}

function rowHTML(r) {
  const stateNote = r.state === "resolved" ? `<div class="resolved-note">Đã xử lý: ${esc(r.resolved_vi)}</div>`
    : r.state === "acknowledged" ? `<div class="muted">Đã xác nhận bởi ${esc(r.acknowledged_by || "")}</div>` : "";
  return `<td><a href="?dossier=${esc(r.dossier_id || "")}" data-dossier="${esc(r.dossier_id || "")}">${esc(r.code || "—")}</a></td>` +
    `<td>${esc(r.kind_vi)}${r.findings > 1 ? ` <small>(${r.findings} phát hiện)</small>` : ""}</td>` +
    `<td>${esc(r.flow_vi || "—")}</td><td>${esc(r.commune || "—")}</td><td>${esc(r.where_vi)}</td>` +
    `<td class="n" data-overdue="${r.overdue_days ?? ""}">${esc(r.overdue_vi)}</td>` +
    `<td><span class="sev ${esc(r.severity)}">${esc(r.severity_vi)}</span></td>` +
    `<td><div class="verdict">${esc(r.verdict_vi)}</div><div class="action">→ ${esc(r.action_vi)}</div>${stateNote}</td>` +
    `<td>${esc(r.assignee || "—")}</td>`;
}

function renderRows(rows) {
  const body = $("#queue-table tbody");
  const keep = new Map([...body.children].map((tr) => [tr.dataset.id, tr]));
  const wanted = new Set(rows.map((r) => String(r.id)));
  for (const [id, tr] of keep) if (!wanted.has(id)) tr.remove();
  rows.forEach((r, i) => {
    const html = rowHTML(r);
    let tr = keep.get(String(r.id));
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.id = r.id;
    }
    // Rows update in place: an unchanged row keeps its node, so keyboard focus survives a refresh.
    if (tr.dataset.html !== html) { tr.innerHTML = html; tr.dataset.html = html; }
    tr.className = `sev-${r.severity}${r.state === "resolved" ? " resolved" : ""}`;
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
  });
  if (!rows.length && !body.querySelector("tr.empty")) {
    body.innerHTML = `<tr class="empty"><td colspan="8">Không có sự cố nào khớp bộ lọc.</td></tr>`;
  } else if (rows.length) {
    body.querySelectorAll("tr.empty").forEach((tr) => tr.remove());
  }
}

async function loadQueue() {
  const qs = queryString();
  qs.delete("dossier");
  const r = await fetch(`/api/v1/queue?${qs}`);
  const data = await r.json();
  if (!r.ok) { $("#queue-total").textContent = data.error || ""; return; }
  // Nothing open (a run redriven to the end): show the run's incidents, most overdue first,
  // rather than an empty table, and say so.
  const noneOpen = !view.filters.state && data.counts.state.open === 0 && data.counts.state.all > 0;
  if (noneOpen !== view.allWhenNoneOpen) { view.allWhenNoneOpen = noneOpen; return loadQueue(); }
  // Nothing needs action: say so plainly, and fold the history (resolved incidents) away.
  $("#empty-state").hidden = !noneOpen;
  $("#queue-history").hidden = noneOpen && !view.showHistory;
  $("#pager").hidden = $("#queue-history").hidden;  // no pages to turn while the history is folded
  $("#show-history").textContent = view.showHistory ? "Ẩn lịch sử sự cố" : `Xem lịch sử sự cố (${data.counts.state.all})`;
  $("#show-history").setAttribute("aria-expanded", String(Boolean(view.showHistory)));
  $("#queue-note").textContent = noneOpen && view.showHistory ? "Lịch sử: mọi sự cố của lượt chạy, đã xử lý, quá hạn nhiều nhất trước." : "";
  $("#clock").textContent = data.clock.text_vi;
  $("#clock").className = data.clock.running ? "" : "ended";
  // Only a stopped simulation can be resumed; nothing else on the page moves sim time.
  $("#resume-clock").hidden = data.clock.running || !data.clock.stopped_at;
  communes = data.communes;
  for (const name of ["state", "kind", "flow", "agency", "severity"]) optionsFor(name, data.counts[name] || {}, data.total);
  const open = data.counts.state.open || 0;
  $("#counts").innerHTML = `<span>${open} sự cố đang mở</span>`;
  $("#queue-total").textContent = `(${data.total} sự cố)`;
  renderRows(data.rows);
  // The exports carry the filters and the order on screen (every page of them).
  const filters = queryString();
  for (const k of ["dossier", "page", "size"]) filters.delete(k);
  if (noneOpen && !filters.get("state")) filters.set("state", "all");
  $("#export-xlsx").href = `/api/v1/queue.xlsx?${filters}`;
  $("#export-csv").href = `/api/v1/queue.csv?${filters}`;
  $("#print-stamp").textContent = `${data.clock.text_vi} · ${data.total} sự cố`;
  $("#page-info").textContent = `Trang ${data.page}/${data.pages}`;
  $("#prev-page").disabled = data.page <= 1;
  $("#next-page").disabled = data.page >= data.pages;
  document.querySelectorAll("#queue-table th[data-sort]").forEach((th) => {
    th.setAttribute("aria-sort", th.dataset.sort === view.sort ? (view.dir === "asc" ? "ascending" : "descending") : "none");
  });
  applyRole();
}

// ----- the commune picker: diacritics and case do not matter

function showCommunes() {
  const input = $("#commune-input");
  const list = $("#commune-list");
  const typed = fold(input.value);
  const hits = communes.filter((c) => fold(c).includes(typed)).slice(0, 12);
  list.innerHTML = hits.map((c, i) => `<li role="option" id="commune-${i}" data-value="${esc(c)}">${esc(c)}</li>`).join("");
  list.hidden = !hits.length || !typed;
  input.setAttribute("aria-expanded", String(!list.hidden));
}

function chooseCommune(value) {
  $("#commune-input").value = value;
  $("#commune-list").hidden = true;
  $("#commune-input").setAttribute("aria-expanded", "false");
  setFilter("commune", value);
}

function setFilter(name, value) {
  if (value) view.filters[name] = value; else delete view.filters[name];
  view.page = 1;
  writeURL();
  loadQueue().catch(() => {});
}

// ----- the dossier panel

let panelShown = 0;
async function showDossier(id) {
  // Opened again before the last answer came (the page's own ?dossier= and a click): only the
  // newest answer is drawn, so a slower older one cannot redraw the panel under the officer.
  const shown = ++panelShown;
  openDossier = id;
  writeURL();
  const panel = $("#panel");
  panel.hidden = false;
  $("#panel-result").textContent = "";
  const r = await fetch(`/api/v1/dossiers/${encodeURIComponent(id)}`);
  if (shown !== panelShown) return;
  const d = await r.json();
  if (shown !== panelShown) return;
  if (!r.ok) { $("#panel-title").textContent = "Không tìm thấy hồ sơ"; $("#panel-verdict").textContent = d.error || ""; return; }
  $("#panel-title").textContent = `Hồ sơ ${d.code}`;
  $("#panel-state").innerHTML = `Trạng thái: <b>${esc(d.state_vi)}</b>`;
  $("#panel-verdict").textContent = d.verdict_vi;
  $("#redrive-dossier").dataset.dossier = d.dossier_id;
  $("#open-people").dataset.dossier = d.dossier_id;
  $("#people-result").textContent = "";
  showPeople(d.people);
  $("#panel-alerts").innerHTML = d.alerts.length ? d.alerts.map((a) =>
    `<li><span class="badge ${esc(a.kind)}">${esc(a.kind_vi)}</span> ${esc(a.verdict_vi)}` +
    (a.state === "resolved" ? ` <span class="resolved-note">· đã xử lý: ${esc(a.resolved_vi)}</span>`
      : a.state === "acknowledged" ? ` <span class="muted">· đã xác nhận bởi ${esc(a.acknowledged_by || "")}</span>`
      : ` <button type="button" class="ack operator" data-alert="${a.id}">Xác nhận</button><span class="ack-result" role="status"></span>`) +
    (a.state !== "resolved" ? `<div class="worklog" data-incident="${a.id}"></div>` : "") +
    `</li>`).join("") : "<li>Không có sự cố</li>";
  $("#panel-deadline").innerHTML = d.deadline
    ? `Hạn trả kết quả: <b>${esc(d.deadline.due_vi)}</b> · <span class="${d.deadline.late ? "late" : ""}">${esc(d.deadline.text_vi)}</span>`
    : "";
  $("#panel-timeline").innerHTML = d.events.map((e) =>
    `<li>${e.gap_vi ? `<div class="gap">${esc(e.gap_vi)}</div>` : ""}<time datetime="${esc(e.occurred_at)}">${esc(e.at_vi)}</time> ${esc(e.text_vi)}</li>`).join("");
  $("#panel-tech-body").textContent = JSON.stringify({
    dossier_id: d.dossier_id,
    alerts: d.alerts.map((a) => ({ id: a.id, kind: a.kind, opened_at: a.opened_at, due_at: a.due_at })),
    events: d.events.map((e) => ({ event_id: e.event_id, type: e.type, agency: e.agency, step: e.step, occurred_at: e.occurred_at, payload: e.payload })),
  }, null, 1);
  applyRole();
  if (d.settled) {
    // A settled dossier has nothing waiting: its redrive is refused, so the button says why.
    $("#redrive-dossier").disabled = true;
    $("#redrive-dossier").title = `Hồ sơ đã ở trạng thái “${d.state_vi}”: không cần gửi lại`;
    $("#panel-result").textContent = $("#redrive-dossier").title;
  }
  if (window.showWorklog) window.showWorklog();
  $("#panel-close").focus();
}

function showPeople(people) {
  $("#panel-people").innerHTML = people.length ? people.map((p) =>
    `<li>${esc(p.role_vi)}: <b>${esc(p.full_name || "—")}</b>` +
    (p.personal_id ? ` · số định danh <span class="personal-id">${esc(p.personal_id)}</span>` : "") + `</li>`).join("")
    : "<li>Cổng dịch vụ công không có thông tin người trong hồ sơ này</li>";
}

function closePanel() {
  $("#panel").hidden = true;
  openDossier = null;
  writeURL();
}

// ----- search

async function search(q) {
  const list = $("#search-results");
  list.innerHTML = "";
  const r = await fetch(`/api/v1/search?q=${encodeURIComponent(q)}`);
  const data = await r.json();
  if (!r.ok) { list.innerHTML = `<li class="error">${esc(data.error)}</li>`; return; }
  if (!data.matches.length) { list.innerHTML = `<li>Không tìm thấy hồ sơ cho ${esc(data.query)}</li>`; return; }
  list.innerHTML = `<li class="muted">${data.count} hồ sơ</li>` + data.matches.map((m) =>
    `<li><a href="?dossier=${esc(m.dossier_id)}" data-dossier="${esc(m.dossier_id)}">${esc(m.code || m.dossier_id.slice(0, 8).toUpperCase())}</a>` +
    ` · ${esc(m.flow_vi || "—")} · ${esc(m.commune || "—")} · ${esc(m.state_vi || "—")}</li>`).join("");
  if (data.matches.length === 1) showDossier(data.matches[0].dossier_id);
}

// ----- live feed (server-sent events)

function feedItem(a) {
  const li = document.createElement("li");
  li.className = `k-${a.kind}` + (a.resolved_at ? " resolved" : "");
  li.dataset.id = a.id;
  const state = a.resolved_at ? `đã xử lý ${fmt(a.resolved_at)}` : a.acknowledged_at ? "đã xác nhận" : "đang mở";
  li.innerHTML = `<span class="badge ${esc(a.kind)}">${esc(KIND_VI[a.kind] || a.kind)}</span> ` +
    (a.dossier_id ? `hồ sơ <a href="?dossier=${esc(a.dossier_id)}" data-dossier="${esc(a.dossier_id)}">${esc(a.dossier_id.slice(0, 8).toUpperCase())}</a> · ` : "") +
    `${esc(FLOW_VI[a.flow] || "")} ${esc(a.commune || "")} · mở ${fmt(a.opened_at)} · ${state}`;
  return li;
}

function startFeed() {
  const source = new EventSource("/api/v1/alerts/stream");
  source.onopen = () => { $("#feed-state").textContent = "đã kết nối"; };
  source.onerror = () => { $("#feed-state").textContent = "mất kết nối, đang thử lại…"; };
  source.addEventListener("alert", (msg) => {
    const a = JSON.parse(msg.data);
    const feed = $("#feed");
    const old = feed.querySelector(`li[data-id="${a.id}"]`);
    const li = feedItem(a);
    if (old) old.replaceWith(li); else feed.prepend(li);
    while (feed.children.length > 100) feed.lastChild.remove();
  });
}

// ----- funnel and health

async function loadFunnel() {
  const { flows } = await (await fetch("/api/v1/funnel")).json();
  const html = flows.map((f) =>
    `<h3>${esc(f.title_vi)}</h3><p class="muted">Đã nộp ${f.submitted} · đã kết thúc ${f.closed} · ` +
    `thất lạc giữa các bước (đang mở) ${f.lost_between_steps} · ` +
    `<span class="legal">trả kết quả đúng hạn của hồ sơ: ${f.on_time_legal == null ? "—" : (100 * f.on_time_legal).toFixed(1).replace(".", ",") + " %"}</span></p>` +
    `<div class="table-wrap" tabindex="0"><table class="funnel" data-flow="${esc(f.flow)}"><thead><tr><th scope="col">Bước</th><th scope="col">Cơ quan</th>` +
    `<th scope="col">Đến</th><th scope="col">Xong</th><th scope="col">Đang chờ</th><th scope="col">Từ chối</th>` +
    `<th scope="col">Đúng hạn</th><th scope="col">Trung vị (giờ làm việc)</th><th scope="col">P90 (giờ làm việc)</th><th scope="col">Thời hạn</th></tr></thead><tbody>` +
    f.steps.map((s) => `<tr data-step="${esc(s.step)}"><td>${esc(s.label_vi)}</td><td>${esc(AGENCY_VI[s.agency] || s.agency)}</td>` +
      `<td class="n reached">${s.reached}</td><td class="n finished">${s.finished}</td><td class="n waiting">${s.waiting}</td>` +
      `<td class="n refused">${s.refused}</td>` +
      `<td class="n">${s.within_sla == null ? "—" : (100 * s.within_sla).toFixed(1).replace(".", ",") + " %"}</td>` +
      `<td class="n">${s.p50_working_hours ?? "—"}</td><td class="n">${s.p90_working_hours ?? "—"}</td>` +
      `<td class="n">${s.sla_working_days} ngày làm việc</td></tr>`).join("") +
    `</tbody></table></div>`).join("");
  if ($("#funnel").dataset.html !== html) { $("#funnel").innerHTML = html; $("#funnel").dataset.html = html; }
}

async function loadHealth() {
  const h = await (await fetch("/api/v1/health")).json();
  const beats = h.heartbeats || {};
  const names = [...new Set([...h.agencies.map((a) => a.agency), ...Object.keys(beats)])].sort();
  const byName = Object.fromEntries(h.agencies.map((a) => [a.agency, a]));
  const html = `<p class="muted">Trong ${h.window_hours ?? 24} giờ mô phỏng đến ${fmt(h.until)}</p>` +
    `<div class="table-wrap" tabindex="0"><table><thead><tr><th scope="col">Cơ quan</th><th scope="col">Bước xong</th><th scope="col">Từ chối</th><th scope="col">Sự kiện cuối</th><th scope="col">Tín hiệu hoạt động cuối</th></tr></thead><tbody>` +
    names.map((n) => `<tr><td>${esc(AGENCY_VI[n] || n)}</td><td class="n">${byName[n]?.completed ?? 0}</td>` +
      `<td class="n">${byName[n]?.refused ?? 0}</td><td>${fmt(byName[n]?.last_event)}</td><td>${fmt(beats[n])}</td></tr>`).join("") +
    `</tbody></table></div><div class="table-wrap" tabindex="0"><table><thead><tr><th scope="col">Kết nối</th><th scope="col">Đã chuyển</th><th scope="col">Lỗi</th><th scope="col">Tỷ lệ lỗi</th><th scope="col">Tồn đọng</th></tr></thead><tbody>` +
    h.links.map((l) => {
      const [a, b] = l.link.split("->");
      return `<tr><td>${esc(AGENCY_VI[a] || a)} → ${esc(AGENCY_VI[b] || b)}</td><td class="n">${l.sent}</td><td class="n">${l.errors}</td>` +
        `<td class="n">${l.error_rate == null ? "—" : (100 * l.error_rate).toFixed(1).replace(".", ",") + " %"}</td><td class="n">${l.backlog}</td></tr>`;
    }).join("") + `</tbody></table></div>`;
  if ($("#health-tables").dataset.html !== html) { $("#health-tables").innerHTML = html; $("#health-tables").dataset.html = html; }
}

// ----- charts: one time axis for all three, gridlines, units, values on hover, and a table

const charts = {};
const dayTs = (d) => Date.parse(`${d}T00:00:00+07:00`) / 1000;

function chart(id, title, unit, days, series) {
  const el = $(`#${id}`);
  const width = Math.max(280, el.clientWidth || 600);
  const data = [days.map(dayTs), ...series.map((s) => s.values)];
  const opts = {
    width, height: 200, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Asia/Ho_Chi_Minh"),
    scales: { x: { time: true, range: () => [dayTs(days[0]) - 43200, dayTs(days[days.length - 1]) + 43200] } },
    axes: [
      { label: "Ngày", values: (u, ticks) => ticks.map((t) => new Date(t * 1e3).toLocaleDateString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit" })) },
      { label: unit, grid: { show: true } },
    ],
    series: [{ label: "Ngày", value: (u, v) => (v == null ? "—" : new Date(v * 1e3).toLocaleDateString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" })) },
      ...series.map((s) => ({ label: s.label, stroke: s.colour, width: 2, points: { show: days.length < 40 } }))],
  };
  opts.plugins = [tooltip(unit)];
  if (charts[id]) charts[id].destroy();
  el.innerHTML = "";
  charts[id] = new uPlot(opts, data, el);
}

// A tooltip beside the cursor: the day and each series' value (uPlot's legend shows them too).
function tooltip(unit) {
  let tip;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement("div");
        tip.className = "chart-tip";
        tip.hidden = true;
        u.over.appendChild(tip);
      },
      setCursor: (u) => {
        const i = u.cursor.idx;
        if (i == null || u.cursor.left < 0) { tip.hidden = true; return; }
        const day = new Date(u.data[0][i] * 1e3).toLocaleDateString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" });
        tip.innerHTML = `<b>${esc(day)}</b>` + u.series.slice(1).map((s, k) =>
          `<div><span style="color:${esc(typeof s.stroke === "function" ? s.stroke(u, k + 1) : s.stroke)}">■</span> ${esc(s.label)}: ${u.data[k + 1][i] ?? "—"} ${esc(unit)}</div>`).join("");
        tip.hidden = false;
        tip.style.left = `${Math.min(u.cursor.left + 12, u.over.clientWidth - 160)}px`;
        tip.style.top = `${Math.max(0, u.cursor.top - 10)}px`;
      },
    },
  };
}

let chartsKey = "";
async function loadCharts() {
  const { series } = await (await fetch("/api/v1/series")).json();
  if (!series || !series.throughput) return;
  const seen = [...new Set([...series.throughput, ...series.alerts, ...series.step_hours].map((r) => r.day))].sort();
  // Every day from the first to the last, so a day without data is a gap in the step-time line
  // (and a 0 in the counts), not a line drawn across it.
  const days = [];
  if (seen.length) {
    for (let t = dayTs(seen[0]); t <= dayTs(seen[seen.length - 1]); t += 86400) {
      days.push(new Date((t + 7 * 3600) * 1e3).toISOString().slice(0, 10));
    }
  }
  const key = JSON.stringify(series);
  if (!days.length || key === chartsKey) return;
  chartsKey = key;
  const on = (rows, k) => { const m = Object.fromEntries(rows.map((r) => [r.day, r[k] ?? 0])); return days.map((d) => m[d] ?? 0); };
  const p50 = Object.fromEntries(series.step_hours.map((r) => [r.day, r.p50]));
  const colours = ["#b71c1c", "#a84300", "#ad1457", "#6a1b9a", "#455a64", "#00695c"];
  chart("chart-throughput", "", "hồ sơ", days, [
    { label: "nộp", colour: "#1565c0", values: on(series.throughput, "submitted") },
    { label: "hoàn thành", colour: "#2e7d32", values: on(series.throughput, "closed") }]);
  chart("chart-alerts", "", "sự cố", days, Object.keys(KIND_VI).map((k, i) => ({ label: KIND_VI[k], colour: colours[i], values: on(series.alerts, k) })));
  chart("chart-steps", "", "giờ", days, [{ label: "trung vị", colour: "#6d4c41", values: days.map((d) => p50[d] ?? null) }]);
  $("#chart-table").innerHTML = `<div class="table-wrap" tabindex="0"><table><thead><tr><th scope="col">Ngày</th><th scope="col">Nộp</th><th scope="col">Hoàn thành</th>` +
    Object.values(KIND_VI).map((k) => `<th scope="col">${esc(k)}</th>`).join("") + `<th scope="col">Trung vị bước (giờ)</th></tr></thead><tbody>` +
    days.map((d, i) => `<tr><td>${esc(new Date(dayTs(d) * 1e3).toLocaleDateString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" }))}</td>` +
      `<td class="n">${on(series.throughput, "submitted")[i]}</td><td class="n">${on(series.throughput, "closed")[i]}</td>` +
      Object.keys(KIND_VI).map((k) => `<td class="n">${on(series.alerts, k)[i]}</td>`).join("") +
      `<td class="n">${p50[d] ?? "—"}</td></tr>`).join("") + `</tbody></table></div>`;
}

// ----- wiring

document.addEventListener("click", async (ev) => {
  const t = ev.target.closest("a[data-dossier], button, li[role=option]");
  if (!t) return;
  if (t.matches("a[data-dossier]")) { ev.preventDefault(); if (t.dataset.dossier) showDossier(t.dataset.dossier); return; }
  if (t.matches("li[role=option]")) { chooseCommune(t.dataset.value); return; }
  if (t.closest("th[data-sort]")) {
    const key = t.closest("th").dataset.sort;
    view.dir = view.sort === key && view.dir === "desc" ? "asc" : "desc";
    view.sort = key;
    view.page = 1;
    writeURL();
    loadQueue();
    return;
  }
  if (t.matches("button.ack")) {
    const res = await operatorPost(`/api/v1/alerts/${t.dataset.alert}/ack`);
    const out = t.nextElementSibling;
    if (res.status === 200) { say(out, `Đã xác nhận (${res.data.acknowledged_by})`, true); loadQueue(); } else say(out, refusal(res), false);
  }
  if (t.id === "resume-clock") {
    if (!window.confirm("Cho mô phỏng chạy tiếp cho đến khi không còn hồ sơ đang xử lý?")) return;
    const res = await operatorPost("/api/v1/clock/resume");
    if (res.status === 202) say($("#bulk-result"), "Mô phỏng đang chạy tiếp cho đến khi mọi hồ sơ xử lý xong", true);
    else say($("#bulk-result"), refusal(res), false);
  }
  if (t.id === "redrive-dossier") {
    if (!window.confirm(`Gửi lại hồ sơ ${$("#panel-title").textContent.replace("Hồ sơ ", "")}? Nơi gửi sẽ gửi lại thông điệp của hồ sơ này.`)) {
      say($("#panel-result"), "Đã hủy, chưa gửi lại", false);
      return;
    }
    const res = await operatorPost("/api/v1/redrive", { dossier_id: t.dataset.dossier });
    if (res.status === 202) say($("#panel-result"), `Đã gửi lại hồ sơ: ${res.data.queued} thông điệp được gửi lại`, true);
    else say($("#panel-result"), refusal(res), false);
  }
  if (t.id === "open-people") {
    const res = await operatorPost(`/api/v1/dossiers/${encodeURIComponent(t.dataset.dossier)}/open`);
    if (res.status === 200) { showPeople(res.data.people); say($("#people-result"), "Đã mở thông tin đầy đủ (việc mở đã được ghi nhật ký)", true); }
    else say($("#people-result"), refusal(res), false);
  }
  if (t.id === "redrive-all") {
    if (!window.confirm("Gửi lại mọi hồ sơ đang thất lạc? Mỗi nơi gửi sẽ gửi lại thông điệp từ hộp thư đi của mình.")) {
      say($("#bulk-result"), "Đã hủy, chưa gửi lại hồ sơ nào", false);
      return;
    }
    const res = await operatorPost("/api/v1/redrive", { all_lost: true });
    if (res.status === 202) say($("#bulk-result"), `Đã gửi lại ${res.data.alerts} hồ sơ thất lạc (${res.data.queued} thông điệp)`, true);
    else say($("#bulk-result"), refusal(res), false);
  }
  if (t.id === "show-history") { view.showHistory = !view.showHistory; loadQueue(); }
  if (t.id === "panel-close") closePanel();
  if (t.id === "clear-filters") { view.filters = {}; $("#commune-input").value = ""; setFilter("state", ""); }
  if (t.id === "prev-page") { view.page = Math.max(1, view.page - 1); writeURL(); loadQueue(); }
  if (t.id === "next-page") { view.page += 1; writeURL(); loadQueue(); }
});
$("#filters").addEventListener("change", (ev) => { if (ev.target.tagName === "SELECT") setFilter(ev.target.name, ev.target.value); });
$("#filters").addEventListener("submit", (ev) => ev.preventDefault());
$("#commune-input").addEventListener("input", showCommunes);
$("#commune-input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter") { ev.preventDefault(); const first = $("#commune-list li"); chooseCommune(first && !$("#commune-list").hidden ? first.dataset.value : $("#commune-input").value.trim()); }
  if (ev.key === "Escape") $("#commune-list").hidden = true;
});
$("#page-size").addEventListener("change", (ev) => { view.size = Number(ev.target.value); view.page = 1; writeURL(); loadQueue(); });
$("#search-form").addEventListener("submit", (ev) => { ev.preventDefault(); search($("#search-input").value.trim()); });
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !$("#panel").hidden) closePanel(); });
$("#token-input").value = sessionStorage.getItem("lt-token") || "";
$("#operator-input").value = localStorage.getItem("lt-operator") || "";
$("#token-input").addEventListener("change", () => { sessionStorage.setItem("lt-token", token()); checkRole(); });
$("#operator-input").addEventListener("change", () => localStorage.setItem("lt-operator", operatorName()));

// ----- due today / on the next working day: unfinished dossiers against their legal deadline

function dueItems(list) {
  if (!list.length) return "<li class=\"muted\">Không có hồ sơ nào</li>";
  return list.slice(0, 20).map((d) =>
    `<li${d.late ? " class=\"late\"" : ""}><a href="?dossier=${esc(d.dossier_id)}" data-dossier="${esc(d.dossier_id)}">${esc(d.code)}</a>` +
    ` · ${esc(d.flow_vi)} · ${esc(d.commune || "—")} · hạn ${esc(d.due_vi)}${d.late ? " (đã quá hạn)" : ""}</li>`).join("") +
    (list.length > 20 ? `<li class="muted">và ${list.length - 20} hồ sơ khác</li>` : "");
}

async function loadDue() {
  const r = await fetch("/api/v1/due");
  if (!r.ok) return;
  const d = await r.json();
  $("#due-today").innerHTML = dueItems(d.today);
  $("#due-tomorrow").innerHTML = dueItems(d.tomorrow);
  $("#due-today-count").textContent = `(${d.today.length})`;
  $("#due-tomorrow-count").textContent = `(${d.tomorrow.length})`;
}

// ----- dossiers received and not yet taken up, by step (a desk's queue backs up here)

async function loadDesks() {
  const r = await fetch("/api/v1/desks");
  if (!r.ok) return;
  const d = await r.json();
  const total = d.desks.reduce((n, x) => n + x.waiting, 0);
  $("#desks-total").textContent = `(${total})`;
  $("#desks-table tbody").innerHTML = d.desks.length
    ? d.desks.map((x) => `<tr><td>${esc(x.flow_vi)}</td><td>${esc(x.agency_vi)}</td><td>${esc(x.step_vi)}</td>` +
      `<td class="n">${x.waiting}</td><td>${esc(x.waited_vi)} (từ ${esc(x.oldest_vi)})</td></tr>`).join("")
    : "<tr><td colspan=\"5\" class=\"muted\">Không có hồ sơ nào đang chờ tiếp nhận</td></tr>";
}

function refresh() {
  loadDue().catch(() => {});
  loadDesks().catch(() => {});
  loadQueue().catch(() => {});
  loadFunnel().catch(() => {});
  loadHealth().catch(() => {});
  loadCharts().catch(() => {});
}
readURL();
$("#commune-input").value = view.filters.commune || "";
$("#page-size").value = String(view.size);
checkRole().catch(() => {});
startFeed();
refresh();
if (openDossier) showDossier(openDossier);
setInterval(refresh, 10000);
