// The dashboard's page: plain JavaScript, no framework and no CDN (it must work offline).
"use strict";

const KIND_VI = {
  lost: "Thất lạc", stuck: "Ùn tắc, quá hạn", link: "Lỗi kết nối", agency: "Hệ thống im lặng",
  duplicate: "Trùng lặp", data_quality: "Chất lượng dữ liệu",
};
const FLOW_VI = { birth: "Khai sinh", death: "Khai tử", lltp: "Lý lịch tư pháp" };
const AGENCY_VI = {
  portal: "Cổng DVC", motcua: "Một cửa", hotich: "Hộ tịch", cutru: "Cư trú", bhxh: "BHXH",
  btxh: "Bảo trợ XH", lltp: "LLTP", monitor: "Giám sát",
};
let simNow = null;

const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (iso) => (iso ? new Date(iso).toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour12: false }) : "—");

function age(iso) {
  if (!iso || !simNow) return "—";
  const s = (new Date(simNow) - new Date(iso)) / 1000;
  if (s < 0) return "0 phút";
  if (s < 3600) return `${Math.round(s / 60)} phút`;
  if (s < 86400 * 2) return `${(s / 3600).toFixed(1)} giờ`;
  return `${(s / 86400).toFixed(1)} ngày`;
}

function token() {
  return $("#token-input").value.trim();
}

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
  return r.json();
}

async function operatorPost(url, body) {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const r = await fetch(url, { method: "POST", headers, body: JSON.stringify(body || {}) });
  const data = await r.json().catch(() => ({}));
  return { status: r.status, data };
}

function say(text, ok) {
  const el = $("#action-result");
  el.textContent = text;
  el.className = ok ? "ok" : "error";
}

function refusal(res) {
  if (res.status === 401) return `Từ chối (401): cần mã vận hành. ${res.data.error || ""}`;
  if (res.status === 403) return `Từ chối (403): mã vận hành không đúng. ${res.data.error || ""}`;
  return `Lỗi ${res.status}: ${res.data.error || ""}`;
}

// ----- live feed (server-sent events)

function feedItem(a, isNew) {
  const li = document.createElement("li");
  li.className = `k-${a.kind}` + (isNew ? " new" : "") + (a.resolved_at ? " resolved" : "");
  li.dataset.id = a.id;
  const state = a.resolved_at ? `đã xử lý ${fmt(a.resolved_at)}` : a.acknowledged_at ? "đã xác nhận" : "đang mở";
  li.innerHTML =
    `<span class="badge ${esc(a.kind)}">${esc(KIND_VI[a.kind] || a.kind)}</span> ` +
    `<b>${esc(a.subject)}</b> ${a.dossier_id ? `· hồ sơ <a href="#" data-dossier="${esc(a.dossier_id)}">${esc(a.dossier_id)}</a>` : ""}` +
    ` · mở ${fmt(a.opened_at)}${a.due_at ? ` · hạn ${fmt(a.due_at)}` : ""} · ${state}` +
    `<div class="muted">${esc(a.detail)}</div>`;
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
    const li = feedItem(a, !old);
    if (old) old.replaceWith(li); else feed.prepend(li);
    while (feed.children.length > 200) feed.lastChild.remove();
  });
}

// ----- open alerts, filtered

async function loadAlerts() {
  const params = new URLSearchParams(new FormData($("#filters")));
  for (const [k, v] of [...params]) if (!v) params.delete(k);
  const data = await getJSON(`/api/v1/alerts?${params}`);
  simNow = data.now;
  $("#clock").textContent = `Giờ mô phỏng: ${fmt(simNow)}`;
  $("#counts").innerHTML = Object.entries(data.open_by_kind)
    .map(([k, n]) => `<span>${esc(KIND_VI[k] || k)}: ${n}</span>`).join("");
  $("#alerts-table tbody").innerHTML = data.alerts.slice(0, 300).map((a) =>
    `<tr class="k-${esc(a.kind)}"><td><span class="badge ${esc(a.kind)}">${esc(KIND_VI[a.kind] || a.kind)}</span>` +
    `${a.findings > 1 ? ` <small title="các phát hiện cùng nguyên nhân trên hồ sơ này">${a.findings} phát hiện</small>` : ""}</td>` +
    `<td>${esc(a.subject)}</td>` +
    `<td>${a.dossier_id ? `<a href="#" data-dossier="${esc(a.dossier_id)}">${esc(a.dossier_id)}</a>` : ""}</td>` +
    `<td>${esc(FLOW_VI[a.flow] || a.flow || "")}</td><td>${esc(a.commune || "")}</td>` +
    `<td>${fmt(a.due_at)}</td><td>${fmt(a.opened_at)}</td><td>${age(a.opened_at)}</td>` +
    `<td>${a.acknowledged_at ? "đã xác nhận" : `<button class="ack operator" data-alert="${a.id}">Xác nhận</button>`}</td></tr>`
  ).join("");
}

// ----- search and timeline

async function search(q) {
  const list = $("#search-results");
  list.innerHTML = "";
  try {
    const data = await getJSON(`/api/v1/search?q=${encodeURIComponent(q)}`);
    if (!data.dossiers.length) { list.innerHTML = `<li>Không tìm thấy hồ sơ cho ${esc(data.query)}</li>`; return; }
    list.innerHTML = data.dossiers.map((id) => `<li><a href="#" data-dossier="${esc(id)}">${esc(id)}</a></li>`).join("");
    if (data.dossiers.length === 1) showDossier(data.dossiers[0]);
  } catch (e) {
    list.innerHTML = `<li class="error">${esc(e.message)}</li>`;
  }
}

async function showDossier(id) {
  const box = $("#timeline");
  try {
    const d = await getJSON(`/api/v1/dossiers/${encodeURIComponent(id)}`);
    box.innerHTML =
      `<h3>Hồ sơ ${esc(d.dossier_id)}</h3>` +
      `<button id="redrive-dossier" class="operator" data-dossier="${esc(d.dossier_id)}">Gửi lại hồ sơ này</button>` +
      `<ol>${d.events.map((e) =>
        `<li><span class="ev-agency">${esc(AGENCY_VI[e.agency] || e.agency)}</span> ${fmt(e.occurred_at)} · ` +
        `<code>${esc(e.type)}</code>${e.step ? ` · ${esc(e.step)}` : ""}` +
        `${e.payload && e.payload.state ? ` · ${esc(e.payload.state)}` : ""}` +
        `${e.payload && e.payload.reason ? ` · ${esc(e.payload.reason)}` : ""}</li>`).join("")}</ol>` +
      (d.alerts.length ? `<h4>Cảnh báo của hồ sơ</h4><ul>${d.alerts.map((a) =>
        `<li><span class="badge ${esc(a.kind)}">${esc(KIND_VI[a.kind] || a.kind)}</span> ${esc(a.subject)} · ${esc(a.detail)}` +
        ` · ${a.resolved_at ? `đã xử lý (${esc(a.resolved_how || "")})` : "đang mở"}</li>`).join("")}</ul>` : "");
  } catch (e) {
    box.innerHTML = `<p class="error">${esc(e.message)}</p>`;
  }
}

// ----- funnels, health, charts

async function loadFunnel() {
  const { flows } = await getJSON("/api/v1/funnel");
  $("#funnel").innerHTML = flows.map((f) =>
    `<h3>${esc(f.title_vi)}</h3><p class="muted">Đã nộp ${f.submitted} · đã đóng ${f.closed}</p>` +
    `<table><tr><th>Bước</th><th>Cơ quan</th><th>Đến</th><th>Xong</th><th>Đang chờ</th><th>Từ chối</th>` +
    `<th>Trung vị (giờ)</th><th>P90 (giờ)</th><th>Thời hạn</th><th>Đúng hạn</th></tr>` +
    f.steps.map((s) => `<tr><td>${esc(s.label_vi)}</td><td>${esc(AGENCY_VI[s.agency] || s.agency)}</td>` +
      `<td class="n">${s.reached}</td><td class="n">${s.finished}</td><td class="n">${s.waiting}</td>` +
      `<td class="n">${s.refused}</td><td class="n">${s.p50_hours ?? "—"}</td><td class="n">${s.p90_hours ?? "—"}</td>` +
      `<td class="n">${s.sla_working_days} ngày làm việc</td>` +
      `<td class="n">${s.within_sla == null ? "—" : (100 * s.within_sla).toFixed(1) + "%"}</td></tr>`).join("") +
    `</table>`).join("");
}

async function loadHealth() {
  const h = await getJSON("/api/v1/health");
  const beats = h.heartbeats || {};
  const names = [...new Set([...h.agencies.map((a) => a.agency), ...Object.keys(beats)])].sort();
  const byName = Object.fromEntries(h.agencies.map((a) => [a.agency, a]));
  $("#health-tables").innerHTML =
    `<p class="muted">Trong ${h.window_hours ?? 24} giờ mô phỏng gần nhất</p>` +
    `<table><tr><th>Cơ quan</th><th>Bước xong</th><th>Từ chối</th><th>Sự kiện cuối</th><th>Nhịp tim cuối</th></tr>` +
    names.map((n) => `<tr><td>${esc(AGENCY_VI[n] || n)}</td><td class="n">${byName[n]?.completed ?? 0}</td>` +
      `<td class="n">${byName[n]?.refused ?? 0}</td><td>${fmt(byName[n]?.last_event)}</td><td>${fmt(beats[n])}</td></tr>`).join("") +
    `</table><table><tr><th>Kết nối</th><th>Đã chuyển</th><th>Lỗi</th><th>Tỷ lệ lỗi</th><th>Tồn đọng</th></tr>` +
    h.links.map((l) => `<tr><td>${esc(l.link)}</td><td class="n">${l.sent}</td><td class="n">${l.errors}</td>` +
      `<td class="n">${l.error_rate == null ? "—" : (100 * l.error_rate).toFixed(1) + "%"}</td><td class="n">${l.backlog}</td></tr>`).join("") +
    `</table>`;
}

function lineChart(svg, rows, series) {
  const W = 640, H = 180, L = 40, B = 20;
  if (!rows.length) { svg.innerHTML = `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">Chưa có dữ liệu</text>`; return; }
  const max = Math.max(1, ...rows.flatMap((r) => series.map((s) => r[s.key] || 0)));
  const x = (i) => L + (rows.length === 1 ? 0 : (i * (W - L - 10)) / (rows.length - 1));
  const y = (v) => H - B - (v / max) * (H - B - 10);
  let out = `<line x1="${L}" y1="${H - B}" x2="${W}" y2="${H - B}" stroke="#999"/>` +
    `<text x="${L - 4}" y="14" text-anchor="end">${Math.round(max)}</text><text x="${L - 4}" y="${H - B}" text-anchor="end">0</text>` +
    `<text x="${L}" y="${H - 4}">${esc(rows[0].day)}</text><text x="${W - 4}" y="${H - 4}" text-anchor="end">${esc(rows[rows.length - 1].day)}</text>`;
  series.forEach((s, j) => {
    const pts = rows.map((r, i) => `${x(i).toFixed(1)},${y(r[s.key] || 0).toFixed(1)}`).join(" ");
    out += `<polyline fill="none" stroke="${s.colour}" stroke-width="1.6" points="${pts}"/>` +
      `<text x="${W - 8}" y="${14 + 12 * j}" text-anchor="end" style="fill:${s.colour}">${esc(s.label)}</text>`;
  });
  svg.innerHTML = out;
}

async function loadCharts() {
  const { series } = await getJSON("/api/v1/series");
  if (!series || !series.throughput) return;
  lineChart($("#chart-throughput"), series.throughput, [
    { key: "submitted", label: "nộp", colour: "#1565c0" }, { key: "closed", label: "hoàn thành", colour: "#2e7d32" }]);
  lineChart($("#chart-alerts"), series.alerts, Object.keys(KIND_VI).map((k, i) => (
    { key: k, label: KIND_VI[k], colour: ["#c62828", "#ef6c00", "#ad1457", "#6a1b9a", "#546e7a", "#00838f"][i] })));
  lineChart($("#chart-steps"), series.step_hours, [{ key: "p50", label: "trung vị (giờ)", colour: "#6d4c41" }]);
}

// ----- wiring

document.addEventListener("click", async (ev) => {
  const t = ev.target;
  if (t.matches("a[data-dossier]")) { ev.preventDefault(); showDossier(t.dataset.dossier); }
  if (t.matches("button.ack")) {
    const res = await operatorPost(`/api/v1/alerts/${t.dataset.alert}/ack`);
    if (res.status === 200) { say(`Đã xác nhận cảnh báo #${t.dataset.alert}`, true); loadAlerts(); } else say(refusal(res), false);
  }
  if (t.id === "redrive-dossier") {
    const res = await operatorPost("/api/v1/redrive", { dossier_id: t.dataset.dossier });
    if (res.status === 202) say(`Đã gửi lại hồ sơ ${t.dataset.dossier}: ${res.data.queued} thông điệp vào hàng đợi`, true);
    else say(refusal(res), false);
  }
  if (t.id === "redrive-all") {
    const res = await operatorPost("/api/v1/redrive", { all_lost: true });
    if (res.status === 202) say(`Đã gửi lại ${res.data.alerts} hồ sơ thất lạc (${res.data.queued} thông điệp)`, true);
    else say(refusal(res), false);
  }
});
$("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadAlerts(); });
$("#search-form").addEventListener("submit", (ev) => { ev.preventDefault(); search($("#search-input").value.trim()); });
$("#token-input").value = sessionStorage.getItem("lt-token") || "";
$("#token-input").addEventListener("change", () => sessionStorage.setItem("lt-token", token()));

function refresh() {
  loadAlerts().catch(() => {});
  loadFunnel().catch(() => {});
  loadHealth().catch(() => {});
  loadCharts().catch(() => {});
}
startFeed();
refresh();
setInterval(refresh, 10000);
