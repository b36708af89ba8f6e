"use strict";
// The officers' day beside the queue: assignment and notes on an open incident (in the dossier
// panel), and the shift handover ("Chuyển ca"). Uses app.js's helpers ($, esc, operatorPost,
// say, refusal, applyRole).

const typing = new Map();
// Each incident's unsent assignee and note, as typed: the panel redraws its boxes from scratch.
document.addEventListener("input", (ev) => {
  const field = ev.target.closest(".worklog .assign-to, .worklog .note-text");
  if (!field) return;
  const id = field.closest(".worklog").dataset.incident;
  typing.set(`${id}/${field.matches(".assign-to") ? "assign" : "note"}`, field.value);
});

async function showWorklog() {
  for (const box of document.querySelectorAll("#panel-alerts .worklog")) {
    const id = box.dataset.incident;
    const r = await fetch(`/api/v1/incidents/${id}/notes`);
    const w = r.ok ? await r.json() : { assignee: null, entries: [] };
    const notes = w.entries.filter((e) => e.action === "note");
    box.innerHTML =
      `<p class="assignee">Người được giao: <b>${esc(w.assignee || "chưa giao")}</b></p>` +
      (notes.length ? `<ul class="notes">${notes.map((n) =>
        `<li><time datetime="${esc(n.at)}">${esc(n.at_vi)}</time> · ${esc(n.actor)}: ${esc(n.detail.text)}</li>`).join("")}</ul>` : "") +
      `<div class="worklog-actions">` +
      `<label>Giao cho <input class="assign-to" size="18" placeholder="Họ và tên"></label> ` +
      `<button type="button" class="assign operator" data-incident="${esc(id)}">Giao việc</button> ` +
      `<label>Ghi chú <input class="note-text" size="28"></label> ` +
      `<button type="button" class="add-note operator" data-incident="${esc(id)}">Thêm ghi chú</button> ` +
      `<span class="worklog-result" role="status" aria-live="polite"></span></div>`;
    // What the officer was typing survives a redraw (the panel drawn again under them).
    box.querySelector(".assign-to").value = typing.get(`${id}/assign`) || "";
    box.querySelector(".note-text").value = typing.get(`${id}/note`) || "";
  }
  // Only these buttons: the panel's own (a settled dossier's redrive) keep what showDossier set.
  const ok = role.role === "operator";
  document.querySelectorAll("#panel-alerts .worklog button.operator").forEach((b) => {
    b.disabled = !ok;
    b.title = ok ? "" : role.reason;
  });
}
window.showWorklog = showWorklog;

function handoverHTML(d) {
  const item = (r) => r ? `${esc(r.code || "—")} · ${esc(r.kind_vi || "")} · ${esc(r.commune || "—")} · ${esc(r.where_vi || "")}` : "—";
  const acted = (title, list, extra) => list.length
    ? `<h3>${title} (${list.length})</h3><ul>${list.map((a) => `<li>${esc(a.at_vi)} · ${esc(a.by)} · ${item(a.incident)}${extra ? extra(a) : ""}</li>`).join("")}</ul>`
    : "";
  return `<div class="handover">` +
    d.summary_vi.map((l, i) => i === 0 ? `<p><b>${esc(l)}</b></p>` : `<p>${esc(l)}</p>`).join("") +
    acted("Đã xác nhận", d.acknowledged) +
    acted("Đã gửi lại", d.redriven, (a) => a.detail.queued !== undefined ? ` · ${a.detail.queued} thông điệp` : "") +
    acted("Đã giao việc", d.assigned, (a) => ` → ${esc(a.detail.assignee)}`) +
    acted("Ghi chú", d.notes, (a) => `: ${esc(a.detail.text)}`) +
    `<h3>Còn mở, bàn giao cho ca sau (${d.still_open.length})</h3>` +
    (d.still_open.length ? `<table class="handover-open"><thead><tr><th scope="col">Mã hồ sơ</th><th scope="col">Loại</th>` +
      `<th scope="col">Xã, phường</th><th scope="col">Nơi xử lý</th><th scope="col">Quá hạn</th><th scope="col">Người được giao</th></tr></thead><tbody>` +
      d.still_open.slice(0, 200).map((r) => `<tr><td>${esc(r.code || "—")}</td><td>${esc(r.kind_vi)}</td><td>${esc(r.commune || "—")}</td>` +
        `<td>${esc(r.where_vi)}</td><td>${esc(r.overdue_vi)}</td><td>${esc(r.assignee || "chưa giao")}</td></tr>`).join("") +
      `</tbody></table>` : `<p>Không còn sự cố nào mở.</p>`) +
    `</div>`;
}

document.addEventListener("click", async (ev) => {
  const t = ev.target.closest("button");
  if (!t) return;
  if (t.matches("button.assign, button.add-note")) {
    const box = t.closest(".worklog");
    const out = box.querySelector(".worklog-result");
    const res = t.matches(".assign")
      ? await operatorPost(`/api/v1/incidents/${t.dataset.incident}/assign`, { assignee: box.querySelector(".assign-to").value.trim() })
      : await operatorPost(`/api/v1/incidents/${t.dataset.incident}/notes`, { text: box.querySelector(".note-text").value.trim() });
    if (res.status === 200 || res.status === 201) {
      typing.delete(`${t.dataset.incident}/${t.matches(".assign") ? "assign" : "note"}`);
      await showWorklog();
      loadQueue().catch(() => {});
    }
    else say(out, refusal(res), false);
  }
  if (t.id === "shift-preview") {
    const r = await fetch("/api/v1/handover");
    $("#shift-document").innerHTML = handoverHTML(await r.json());
  }
  if (t.id === "shift-handover") {
    if (!window.confirm("Chuyển ca? Biên bản được ghi lại và ca mới bắt đầu từ bây giờ.")) return;
    const res = await operatorPost("/api/v1/handover", { to: $("#shift-to").value.trim() });
    if (res.status === 201) { $("#shift-document").innerHTML = handoverHTML(res.data); say($("#shift-result"), "Đã chuyển ca", true); }
    else say($("#shift-result"), refusal(res), false);
  }
});
