"use strict";
// Views by district and commune (GET /api/v1/areas): totals, then one commune's overdue dossiers
// against their legal deadlines. Uses app.js's helpers ($, esc).

function areaCells(a) {
  const k = a.open_by_kind || {};
  return `<td class="n">${a.open}</td><td class="n">${k.lost || 0}</td><td class="n">${k.stuck || 0}</td>` +
    `<td class="n${a.overdue ? " late" : ""}">${a.overdue}</td><td class="n">${a.in_progress}</td>`;
}

async function loadAreas() {
  const r = await fetch("/api/v1/areas");
  if (!r.ok) return;
  const d = await r.json();
  $("#areas-table tbody").innerHTML = d.districts.map((dist) =>
    `<tr class="district"><th scope="row">${esc(dist.district === "—" ? "Không có cấp huyện" : dist.district)}</th>${areaCells(dist)}</tr>` +
    dist.communes.map((c) =>
      `<tr><td class="commune-name"><button type="button" class="linkish" data-commune="${esc(c.commune)}">${esc(c.commune)}</button></td>${areaCells(c)}</tr>`).join("")).join("") ||
    `<tr><td colspan="6">Chưa có hồ sơ nào</td></tr>`;
}

async function showCommune(commune) {
  const r = await fetch(`/api/v1/areas?commune=${encodeURIComponent(commune)}`);
  const d = await r.json();
  const list = d.overdue;
  $("#commune-overdue").innerHTML = `<h3>${esc(commune)}: ${list.length} hồ sơ quá hạn trả kết quả</h3>` +
    (list.length ? `<table class="commune-overdue"><thead><tr><th scope="col">Mã hồ sơ</th><th scope="col">Luồng</th>` +
      `<th scope="col">Nộp lúc</th><th scope="col">Hạn trả kết quả</th><th scope="col">Quá hạn</th></tr></thead><tbody>` +
      list.map((x) => `<tr><td><a href="?dossier=${esc(x.dossier_id)}" data-dossier="${esc(x.dossier_id)}">${esc(x.code)}</a></td>` +
        `<td>${esc(x.flow_vi)}</td><td>${esc(x.submitted_vi)}</td><td>${esc(x.due_vi)}</td><td class="late">${esc(x.overdue_vi)}</td></tr>`).join("") +
      `</tbody></table>` : `<p>Không có hồ sơ nào quá hạn.</p>`);
}

document.addEventListener("click", (ev) => {
  const t = ev.target.closest("button[data-commune]");
  if (t) showCommune(t.dataset.commune).catch(() => {});
});
loadAreas().catch(() => {});
setInterval(() => loadAreas().catch(() => {}), 10000);
