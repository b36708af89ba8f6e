"use strict";
// An officer's own notifications (dashboard/subscribe.py): overdue dossiers of the communes and
// flows they follow, by mail or webhook. Uses app.js's helpers ($, esc, operatorPost, operatorGet,
// say, refusal).

async function listSubscriptions() {
  const res = await operatorGet("/api/v1/subscriptions");
  if (res.status !== 200) { say($("#sub-result"), refusal(res), false); return; }
  const subs = res.data.subscriptions;
  $("#sub-table").innerHTML = subs.length
    ? `<div class="table-wrap" tabindex="0"><table><caption>Các đăng ký (${subs.length})</caption><thead><tr>` +
      `<th scope="col">Cán bộ</th><th scope="col">Kênh</th><th scope="col">Địa chỉ</th>` +
      `<th scope="col">Xã, phường</th><th scope="col">Luồng</th><th scope="col">Thao tác</th></tr></thead><tbody>` +
      subs.map((s) => `<tr><td>${esc(s.officer)}</td><td>${s.channel === "email" ? "Thư điện tử" : "Webhook"}</td>` +
        `<td>${esc(s.address)}</td><td>${esc(s.communes.join(", ") || "Tất cả")}</td>` +
        `<td>${esc(s.flows.map((f) => FLOW_VI[f]).join(", ") || "Tất cả")}</td>` +
        `<td><button type="button" class="sub-remove operator" data-sub="${esc(s.id)}">Huỷ đăng ký</button></td></tr>`).join("") +
      `</tbody></table></div>` + (res.data.applied ? "" : `<p>Cảnh báo chưa bật (lienthong up --alerting): các đăng ký được áp dụng khi bật.</p>`)
    : `<p>Chưa có đăng ký nào.</p>`;
}

document.addEventListener("click", async (ev) => {
  const t = ev.target.closest("button");
  if (!t) return;
  if (t.id === "sub-list") await listSubscriptions();
  if (t.id === "sub-add") {
    const body = {
      officer: $("#sub-officer").value.trim(),
      channel: $("#sub-channel").value,
      address: $("#sub-address").value.trim(),
      communes: $("#sub-communes").value.split(",").map((c) => c.trim()).filter((c) => c),
      flows: [...document.querySelectorAll('input[name="sub-flow"]:checked')].map((c) => c.value),
    };
    const res = await operatorPost("/api/v1/subscriptions", body);
    if (res.status === 201) { say($("#sub-result"), `Đã đăng ký #${res.data.id} cho ${res.data.officer}`, true); await listSubscriptions(); }
    else say($("#sub-result"), refusal(res), false);
  }
  if (t.matches("button.sub-remove")) {
    if (!window.confirm(`Huỷ đăng ký #${t.dataset.sub}?`)) return;
    const res = await operatorPost(`/api/v1/subscriptions/${t.dataset.sub}`, {}, "DELETE");
    if (res.status === 200) { say($("#sub-result"), `Đã huỷ đăng ký #${t.dataset.sub}`, true); await listSubscriptions(); }
    else say($("#sub-result"), refusal(res), false);
  }
});
