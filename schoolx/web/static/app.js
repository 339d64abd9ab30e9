// The review page's only script: upload without leaving the page (also by dropping a file),
// live task progress from the /events stream, cancel/retry buttons. Text from the server
// is set with textContent, never innerHTML: file names and errors may come from untrusted
// PDFs.
"use strict";

(function () {
  const rows = new Map();
  // Which buttons a task of each status offers; templates/tasks.html follows the same rule.
  const ACTIONS = {
    pending: [["task-cancel", "Cancel"]],
    processing: [["task-cancel", "Cancel"]],
    failed: [["task-retry", "Retry"]],
    cancelled: [["task-retry", "Retry"]],
  };
  const CELLS = [
    ["task-id", "Task"], ["file", "File"], ["task-status", "Status"],
    ["progress-cell", "Progress"], ["task-stage", "Stage"], ["task-note", "Note"],
    ["task-actions", null],
  ];

  function cell(row, cls) {
    return row.querySelector("." + cls);
  }

  function newRow(id) {
    const tr = document.createElement("tr");
    tr.id = "task-" + id;
    tr.dataset.taskId = String(id);
    for (const [cls, label] of CELLS) {
      const td = document.createElement("td");
      td.className = cls;
      if (label) td.dataset.label = label;
      tr.appendChild(td);
    }
    cell(tr, "task-id").textContent = String(id);
    const bar = document.createElement("progress");
    bar.className = "task-progress";
    bar.max = 100;
    bar.value = 0;
    const pct = document.createElement("span");
    pct.className = "task-percent";
    pct.textContent = "0%";
    cell(tr, "progress-cell").append(bar, " ", pct);
    document.getElementById("task-rows").prepend(tr);
    const none = document.getElementById("no-tasks");
    if (none) none.hidden = true;
    rows.set(id, tr);
    return tr;
  }

  function rowFor(id) {
    return rows.get(id) || newRow(id);
  }

  function setStatus(row, status) {
    const td = cell(row, "task-status");
    td.textContent = status;
    td.className = "task-status status-" + status;
    const actions = cell(row, "task-actions");
    actions.replaceChildren();
    for (const [cls, label] of ACTIONS[status] || []) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.dataset.taskId = row.dataset.taskId;
      b.textContent = label;
      actions.appendChild(b);
    }
  }

  function setProgress(row, value) {
    const v = Math.max(0, Math.min(100, Number(value) || 0));
    cell(row, "task-progress").value = v;
    cell(row, "task-percent").textContent = v + "%";
  }

  // Status events applied per task. A task read by fetch (the upload's reply, a retry's, a
  // refresh) is a snapshot taken while events kept coming: one that a status event overtook
  // would put back an older status (the upload's "pending" after the event said "failed"),
  // and no event would come to correct it. Such a snapshot gives the file name only, and
  // the status if the row has none yet. (Progress events do not count: the next one
  // corrects what an older snapshot shows.)
  const STATUS_EVENTS = new Set([
    "task_queued", "task_started", "task_completed", "task_failed", "task_cancelled",
    "task_retrying",
  ]);
  const eventsSeen = new Map();
  const seen = (id) => eventsSeen.get(id) || 0;

  function showTask(task, since) {
    const row = rowFor(task.id);
    cell(row, "file").textContent = task.filename || "";
    if (seen(task.id) !== since) {
      if (!cell(row, "task-status").textContent) setStatus(row, task.status);
      return;
    }
    setStatus(row, task.status);
    cell(row, "task-stage").textContent = task.stage || "";
    cell(row, "task-note").textContent = task.error || "";
    setProgress(row, task.progress);
  }

  async function refreshTask(id) {
    const since = seen(id);
    const response = await fetch("/tasks/" + id);
    if (response.ok) showTask(await response.json(), since);
  }

  const HANDLERS = {
    task_queued(row) {  // new, or queued again by Retry: nothing of a past attempt shows
      setStatus(row, "pending");
      cell(row, "task-note").textContent = "";
      cell(row, "task-stage").textContent = "";
      setProgress(row, 0);
    },
    task_started(row) { setStatus(row, "processing"); },
    task_progress(row, data) {
      if (data.progress !== null && data.progress !== undefined) setProgress(row, data.progress);
      if (data.message) cell(row, "task-stage").textContent = String(data.message);
    },
    task_completed(row, data) {
      setStatus(row, "completed");
      setProgress(row, 100);
      const found = data.result && data.result.schools_found;
      const warnings = (data.result && data.result.warnings) || [];
      const note = found === undefined ? "" : found + " schools found";
      cell(row, "task-note").textContent = warnings.length ? note + " — warning: " + warnings.join("; ") : note;
      document.getElementById("tasks-done-hint").hidden = false;
    },
    task_failed(row, data) {
      setStatus(row, "failed");
      cell(row, "task-note").textContent = String(data.error || "");
    },
    task_cancelled(row) { setStatus(row, "cancelled"); },
    task_retrying(row, data) {
      setStatus(row, "pending");
      cell(row, "task-note").textContent = String(data.reason || data.error || "retrying");
    },
  };

  function onEvent(message) {
    const event = JSON.parse(message.data);
    const known = rows.has(event.task_id);
    const row = rowFor(event.task_id);
    if (STATUS_EVENTS.has(event.type)) eventsSeen.set(event.task_id, seen(event.task_id) + 1);
    const handle = HANDLERS[event.type];
    if (handle) handle(row, event.data || {});
    if (!known) refreshTask(event.task_id);  // a task from elsewhere (another tab, the CLI)
  }

  function listen(table) {
    const after = table.dataset.lastEventId || "0";
    const source = new EventSource("/events?after=" + encodeURIComponent(after));
    source.onmessage = onEvent;
  }

  async function upload(form) {
    const status = document.getElementById("upload-status");
    status.textContent = "Uploading…";
    let response;
    try {
      response = await fetch("/documents", { method: "POST", body: new FormData(form) });
    } catch (err) {
      status.textContent = "Upload failed: " + err;
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      status.textContent = "Refused (" + response.status + "): " + (body.detail || response.statusText);
      return;
    }
    showTask(body, 0);  // a new task: any event about it is newer than this reply
    status.textContent = body.duplicate
      ? "Already submitted before: task " + body.id
      : "Queued as task " + body.id;
    form.reset();
  }

  // A file dropped anywhere on the drop zone goes into the form's file input and is sent.
  function acceptDrops(form) {
    const zone = document.getElementById("dropzone");
    const input = document.getElementById("upload-file");
    const over = (on) => (e) => {
      e.preventDefault();
      zone.classList.toggle("over", on);
    };
    zone.addEventListener("dragenter", over(true));
    zone.addEventListener("dragover", over(true));
    zone.addEventListener("dragleave", over(false));
    zone.addEventListener("drop", (e) => {
      over(false)(e);
      const files = e.dataTransfer && e.dataTransfer.files;
      if (!files || files.length === 0) return;
      input.files = files;
      upload(form);
    });
  }

  async function taskAction(button) {
    const action = button.classList.contains("task-cancel") ? "cancel" : "retry";
    const id = Number(button.dataset.taskId);
    const since = seen(id);
    const response = await fetch("/tasks/" + id + "/" + action, { method: "POST" });
    const body = await response.json().catch(() => ({}));
    if (response.ok) showTask(body, since);
    else document.getElementById("upload-status").textContent = String(body.detail || response.statusText);
  }

  function init() {
    const table = document.getElementById("tasks");
    if (!table) return;
    for (const row of document.querySelectorAll("#task-rows tr")) {
      rows.set(Number(row.dataset.taskId), row);
    }
    const form = document.getElementById("upload-form");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      upload(e.target);
    });
    acceptDrops(form);
    table.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-task-id]");
      if (button) taskAction(button);
    });
    listen(table);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
