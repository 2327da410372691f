// memsvc web UI: plain JS against the REST API, nothing loaded from elsewhere.
// Every id call names the scope (the API answers 404 for another owner's ids), and all text
// from the server goes through textContent, never innerHTML.
"use strict";

const $ = (selector) => document.querySelector(selector);
const SVG = "http://www.w3.org/2000/svg";
const state = { scope: {}, key: "", memories: [], config: null, selected: null };

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "onclick") node.addEventListener("click", value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function status(message, error = false) {
  const box = $("#status");
  box.textContent = message;
  box.className = error ? "error" : "";
}

// API paths are relative to /ui/, so the UI also works behind a proxy prefix.
function url(path, extra = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...state.scope, ...extra })) {
    if (v !== undefined && v !== null && v !== "") params.set(k, v);
  }
  const query = params.toString();
  return new URL("../" + path + (query ? "?" + query : ""), location.href);
}

async function api(method, path, { body, query } = {}) {
  const headers = { "content-type": "application/json" };
  if (state.key) headers.authorization = "Bearer " + state.key;
  const res = await fetch(url(path, query), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error && data.error.message) || res.statusText);
  return data;
}

async function run(task) {
  try {
    await task();
  } catch (err) {
    status(String(err.message || err), true);
  }
}

// -- scope and lists ----------------------------------------------------------------------
async function openScope() {
  state.scope = {};
  for (const name of ["user_id", "agent_id", "session_id"]) {
    const value = $("#" + name).value.trim();
    if (value) state.scope[name] = value;
  }
  state.key = $("#api_key").value.trim();
  if (!Object.keys(state.scope).length) throw new Error("name a user_id, agent_id or session_id");
  state.config = state.config || (await (await fetch("config.json")).json());
  const all = [];
  let cursor = null;
  do {  // a few pages are plenty for browsing; the graph uses the first ones
    const page = await api("GET", "v1/memories", {
      query: { include_forgotten: "true", limit: "200", cursor },
    });
    all.push(...page.results);
    cursor = page.next_cursor;
  } while (cursor && all.length < 1000);
  state.memories = all;
  renderMemories();
  $("#results").replaceChildren();
  $("#detail").hidden = true;
  status(`${all.length} memories in this scope`);
  await drawGraph();
}

function memoryItem(m) {
  return el("li", { class: "memory" + (m.status === "forgotten" ? " forgotten" : ""),
    "data-id": m.id, onclick: () => run(() => openMemory(m.id)) },
  m.memory, el("span", { class: "badge", text: `${m.kind} · ${m.event_time.slice(0, 10)}` }));
}

function renderMemories() {
  $("#count").textContent = `(${state.memories.length})`;
  $("#memories").replaceChildren(...state.memories.map(memoryItem));
}

async function search() {
  const query = $("#query").value.trim();
  if (!query) return;
  const result = await api("POST", "v1/memories/search", {
    body: { query, ...state.scope, top_k: 10, explain: true, reinforce: false,
      include_forgotten: $("#forgotten").checked },
  });
  $("#results").replaceChildren(...result.results.map(hitItem));
  status(`${result.results.length} hits in ${result.took_ms.toFixed(1)} ms`);
}

function hitItem(hit) {
  const parts = Object.entries(hit.explain || {});
  const top = Math.max(1e-9, ...parts.map(([, v]) => Math.abs(v)));
  const bars = el("div", { class: "bars" });
  for (const [name, value] of parts) {
    const width = (100 * Math.abs(value)) / top;
    bars.append(
      el("span", { text: name }),
      el("div", { class: "bar-track" },
        el("div", { class: "bar" + (value < 0 ? " neg" : ""), "data-part": name,
          style: `width:${width.toFixed(1)}%` })),
      el("span", { text: value.toFixed(3) }),
    );
  }
  return el("li", { class: "hit", "data-id": hit.id, onclick: () => run(() => openMemory(hit.id)) },
    el("span", { class: "score", text: hit.score.toFixed(3) }), hit.memory, bars);
}

// -- one memory ---------------------------------------------------------------------------
async function openMemory(id) {
  const m = await api("GET", `v1/memories/${encodeURIComponent(id)}`);
  const [history, links, episodes] = await Promise.all([
    api("GET", `v1/memories/${encodeURIComponent(id)}/history`),
    api("GET", `v1/memories/${encodeURIComponent(id)}/links`),
    Promise.all(m.episode_ids.map((e) => api("GET", `v1/episodes/${encodeURIComponent(e)}`)
      .catch(() => ({ id: e, role: "?", content: `(episode ${e})`, event_time: "" })))),
  ]);
  state.selected = m;
  $("#detail").hidden = false;
  $("#d-text").textContent = m.memory;
  $("#d-edit").value = m.memory;
  $("#d-forget").hidden = m.status === "forgotten";
  $("#d-restore").hidden = m.status !== "forgotten";
  const meta = [["status", m.status], ["kind", m.kind], ["event time", m.event_time],
    ["strength", String(m.strength)], ["recalls", String(m.recall_count)],
    ["last recalled", m.last_recalled_at || "never"], ["keywords", m.keywords.join(", ")],
    ["tags", m.tags.join(", ")], ["session", m.session_id || ""], ["id", m.id]];
  $("#d-meta").replaceChildren(...meta.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  $("#d-episodes").replaceChildren(...episodes.map((e) => el("li", { class: "episode" },
    el("strong", { text: (e.name || e.role) + ": " }), e.content,
    el("span", { class: "badge", text: e.event_time.slice(0, 16) }))));
  $("#d-history").replaceChildren(...history.map((h) => el("li", { class: "history" },
    el("strong", { text: h.event }), ` ${h.created_at.slice(0, 19)} `,
    h.old_memory && h.new_memory && h.old_memory !== h.new_memory
      ? `“${h.old_memory}” → “${h.new_memory}”` : "")));
  $("#d-links").replaceChildren(...links.map((l) => el("li", { class: "link memory",
    "data-id": l.id, onclick: () => run(() => openMemory(l.id)) },
  `${l.direction === "out" ? "→" : "←"} ${l.memory}`, el("span", { class: "badge", text: l.reason }))));
  drawRetention(m);
  for (const node of document.querySelectorAll(".node")) {
    node.classList.toggle("selected", node.dataset.id === m.id);
  }
}

async function change(body) {
  const m = state.selected;
  await api("PATCH", `v1/memories/${encodeURIComponent(m.id)}`, { body });
  await openScope();
  await openMemory(m.id);
}

async function remove() {
  const button = $("#d-delete");
  if (button.dataset.armed !== "1") {  // two clicks, no modal dialog
    button.dataset.armed = "1";
    button.textContent = "Really delete?";
    return;
  }
  button.dataset.armed = "";
  button.textContent = "Delete";
  await api("DELETE", `v1/memories/${encodeURIComponent(state.selected.id)}`);
  await openScope();
  status("deleted");
}

// -- retention: MemoryBank's R = exp(-t / (S * scale)) from the last recall ---------------
function drawRetention(m) {
  const svg = $("#retention");
  const { time_scale_days: scale, threshold } = state.config.decay;
  const tau = m.strength * scale;
  const horizon = Math.max(1, tau * Math.log(1 / threshold) * 1.25);  // days shown
  const start = new Date(m.last_recalled_at || m.event_time);
  const [W, H, L, B] = [420, 160, 34, 22];
  const x = (d) => L + ((W - L - 8) * d) / horizon;
  const y = (r) => 8 + (H - B - 8) * (1 - r);
  const points = [];
  for (let i = 0; i <= 60; i++) {
    const d = (horizon * i) / 60;
    points.push(`${x(d).toFixed(1)},${y(Math.exp(-d / tau)).toFixed(1)}`);
  }
  const forgetAt = tau * Math.log(1 / threshold);
  const when = new Date(start.getTime() + forgetAt * 86400e3).toISOString().slice(0, 10);
  svg.replaceChildren(
    el("svg:line", { class: "axis", x1: L, y1: y(0), x2: W - 8, y2: y(0) }),
    el("svg:line", { class: "axis", x1: L, y1: y(0), x2: L, y2: y(1) }),
    el("svg:line", { class: "threshold", x1: L, y1: y(threshold), x2: W - 8, y2: y(threshold) }),
    el("svg:polyline", { class: "curve", points: points.join(" ") }),
    el("svg:text", { class: "tick", x: 2, y: y(1) + 3, text: "1.0" }),
    el("svg:text", { class: "tick", x: 2, y: y(threshold) + 3, text: threshold.toFixed(2) }),
    el("svg:text", { class: "tick", x: L, y: H - 6, text: start.toISOString().slice(0, 10) }),
    el("svg:text", { class: "tick", x: W - 150, y: H - 6,
      text: `forgotten after ${forgetAt.toFixed(0)} d (${when})` }),
  );
}

// -- link graph: a small force layout (repulsion, springs on links, pull to the centre) ----
async function drawGraph() {
  const svg = $("#graph");
  const nodes = state.memories.slice(0, 80).map((m, i) => ({
    m, x: 260 + 150 * Math.cos(i * 2.4), y: 210 + 150 * Math.sin(i * 2.4), vx: 0, vy: 0,
  }));
  const index = new Map(nodes.map((n, i) => [n.m.id, i]));
  const lists = await Promise.all(nodes.map((n) =>
    api("GET", `v1/memories/${encodeURIComponent(n.m.id)}/links`).catch(() => [])));
  const edges = [];
  lists.forEach((links, i) => {
    for (const l of links) {
      const j = index.get(l.id);
      if (l.direction === "out" && j !== undefined) edges.push([i, j]);
    }
  });
  for (let step = 0; step < 300; step++) {
    for (const a of nodes) {
      for (const b of nodes) {
        if (a === b) continue;
        const dx = a.x - b.x, dy = a.y - b.y, d2 = Math.max(dx * dx + dy * dy, 25);
        a.vx += (300 * dx) / d2; a.vy += (300 * dy) / d2;
      }
      a.vx += (260 - a.x) * 0.03; a.vy += (210 - a.y) * 0.03;
    }
    for (const [i, j] of edges) {
      const a = nodes[i], b = nodes[j], dx = b.x - a.x, dy = b.y - a.y;
      const pull = 0.02 * (1 - 60 / Math.max(60, Math.hypot(dx, dy)));  // rest length 60
      a.vx += dx * pull; a.vy += dy * pull; b.vx -= dx * pull; b.vy -= dy * pull;
    }
    for (const n of nodes) {
      n.x = Math.min(505, Math.max(15, n.x + n.vx * 0.5));
      n.y = Math.min(405, Math.max(15, n.y + n.vy * 0.5));
      n.vx *= 0.6; n.vy *= 0.6;
    }
  }
  svg.replaceChildren(
    ...edges.map(([i, j]) => el("svg:line", { class: "edge", x1: nodes[i].x, y1: nodes[i].y,
      x2: nodes[j].x, y2: nodes[j].y })),
    ...nodes.map((n) => el("svg:circle", { class: "node" + (n.m.status === "forgotten" ? " forgotten" : ""),
      "data-id": n.m.id, cx: n.x, cy: n.y, r: 7, onclick: () => run(() => openMemory(n.m.id)) },
    el("svg:title", { text: n.m.memory }))),
    ...nodes.map((n) => el("svg:text", { class: "node-label", y: n.y + 3,
      x: n.x > 380 ? n.x - 9 : n.x + 9, "text-anchor": n.x > 380 ? "end" : "start",
      text: n.m.memory.slice(0, 28) })),
  );
}

// -- wiring -------------------------------------------------------------------------------
$("#scope-form").addEventListener("submit", (e) => { e.preventDefault(); run(openScope); });
$("#search-form").addEventListener("submit", (e) => { e.preventDefault(); run(search); });
$("#d-save").addEventListener("click", () => run(() => change({ text: $("#d-edit").value })));
$("#d-forget").addEventListener("click", () => run(() => change({ status: "forgotten" })));
$("#d-restore").addEventListener("click", () => run(() => change({ status: "active" })));
$("#d-delete").addEventListener("click", () => run(remove));
for (const [name, value] of new URLSearchParams(location.search)) {
  const input = document.getElementById(name);
  if (input && name !== "api_key") input.value = value;
}
if ($("#user_id").value || $("#agent_id").value || $("#session_id").value) run(openScope);
