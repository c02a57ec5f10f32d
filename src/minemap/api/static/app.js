/* minemap web page: the map, the dashboards and the forms, over minemap's own API.
 *
 * Everything is served by minemap (MapLibre GL, Chart.js and PMTiles from
 * /static/vendor), so the page works with no internet at all.
 */
"use strict";

const state = {
  token: sessionStorage.getItem("minemap.token"),
  me: null,
  lang: localStorage.getItem("minemap.lang") || "en",
  messages: {},
  config: null,
  map: null,
  formMap: null,
  charts: {},
  dashboard: null,
  activeForm: "nts",
  drawing: { nts: [], accident: null, eore: null },
};
window.minemap = state;

// --- small helpers ---------------------------------------------------------------------

function t(key) {
  return state.messages[key] || key;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

function fmt(n, digits = 0) {
  if (n == null || Number.isNaN(n)) return "–";
  return Number(n).toLocaleString(state.lang === "en" ? "en-GB" : state.lang, {
    maximumFractionDigits: digits,
  });
}

function ha(m2) {
  return m2 == null ? null : m2 / 10000;
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.detail)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  let body = options.body;
  if (body && !(body instanceof URLSearchParams) && typeof body !== "string") {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  const response = await fetch(path, { method: options.method || "GET", headers, body });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// --- language ------------------------------------------------------------------------------

async function setLanguage(lang) {
  state.lang = lang;
  localStorage.setItem("minemap.lang", lang);
  state.messages = await api(`/api/i18n/${lang}`);
  document.documentElement.lang = lang;
  document.getElementById("lang").value = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  fillChoices(document);
  renderSession();
  if (state.map && state.map.loaded()) buildLayerList();
  renderLegend();
  if (state.dashboard) renderDashboard(state.dashboard);
}

// --- session ---------------------------------------------------------------------------------

async function loadMe() {
  try {
    state.me = await api("/api/auth/me");
  } catch (err) {
    if (err.status === 401) {
      state.token = null;
      sessionStorage.removeItem("minemap.token");
      state.me = await api("/api/auth/me");
    } else throw err;
  }
  renderSession();
}

function renderSession() {
  const who = document.getElementById("who");
  const loggedIn = state.me && state.me.name;
  document.getElementById("login-btn").classList.toggle("hidden", !!loggedIn);
  document.getElementById("logout-btn").classList.toggle("hidden", !loggedIn);
  who.textContent = "";
  if (loggedIn) who.append(el("b", { text: state.me.name }), ` · ${state.me.role}`);
  else who.textContent = t("public_view");
  const canWrite = loggedIn && state.me.may.includes("write");
  document.getElementById("form-login-needed").classList.toggle("hidden", !!canWrite);
  for (const b of document.querySelectorAll(".form button[type=submit]")) b.disabled = !canWrite;
}

function setupLogin() {
  const dialog = document.getElementById("login-dialog");
  const form = document.getElementById("login-form");
  document.getElementById("login-btn").addEventListener("click", () => {
    form.querySelector(".status").textContent = "";
    dialog.showModal();
  });
  document.getElementById("login-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("logout-btn").addEventListener("click", async () => {
    state.token = null;
    sessionStorage.removeItem("minemap.token");
    await loadMe();
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new URLSearchParams(new FormData(form));
    const status = form.querySelector(".status");
    try {
      const token = await api("/api/auth/token", { method: "POST", body: data });
      state.token = token.access_token;
      sessionStorage.setItem("minemap.token", state.token);
      dialog.close();
      form.reset();
      await loadMe();
    } catch (err) {
      status.className = "status bad";
      status.textContent = `${t("login_failed")}: ${err.message}`;
    }
  });
}

// --- the map -------------------------------------------------------------------------------------

const COLOURS = {
  hazard: { open: "#d7301f", closed: "#9ca3af", handed_over: "#2e7d32" },
  release: { cancelled: "#b7e4c7", reduced: "#52b788", cleared: "#1b7f4b" },
  find: { AP: "#7f1d1d", AT: "#1e3a8a", UXO: "#92400e", AXO: "#a16207", submunition: "#6b21a8", IED: "#111827" },
};

function match(property, table, fallback) {
  const out = ["match", ["get", property]];
  for (const [k, v] of Object.entries(table)) out.push(k, v);
  out.push(fallback);
  return out;
}

function tileUrl(path) {
  return `${location.origin}${path}`;
}

function mapStyle() {
  const cfg = state.config;
  const sources = {
    base: {
      type: "vector",
      tiles: [tileUrl("/api/tiles/districts,rivers,roads,front_line/{z}/{x}/{y}.pbf")],
      minzoom: 5,
      maxzoom: 16,
    },
    records: {
      type: "vector",
      tiles: [tileUrl("/api/tiles/hazards,releases,finds,accidents,eore_sessions/{z}/{x}/{y}.pbf")],
      minzoom: 5,
      maxzoom: 16,
    },
  };
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#efece4" } }];
  if (cfg.basemap_pmtiles) {
    sources.pmtiles = { type: "raster", url: `pmtiles://${location.origin}${cfg.basemap_pmtiles}`, tileSize: 256 };
    layers.push({ id: "pmtiles", type: "raster", source: "pmtiles" });
  }
  if (cfg.hillshade) {
    sources.hillshade = { type: "raster", tiles: [tileUrl("/api/basemap/hillshade/{z}/{x}/{y}.png")], tileSize: 256, maxzoom: 15 };
    layers.push({ id: "hillshade", type: "raster", source: "hillshade", paint: { "raster-opacity": 0.9 } });
  }
  layers.push(
    { id: "districts-line", type: "line", source: "base", "source-layer": "districts",
      paint: { "line-color": "#6b7280", "line-width": 1.2, "line-dasharray": [4, 2] } },
    { id: "rivers", type: "line", source: "base", "source-layer": "rivers",
      paint: { "line-color": "#4a90c2", "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1, 14, 3] } },
    { id: "roads", type: "line", source: "base", "source-layer": "roads",
      paint: {
        "line-color": match("class", { main: "#f59e0b", secondary: "#ffffff", track: "#a8a29e" }, "#ffffff"),
        "line-width": match("class", { main: 2.6, secondary: 1.6, track: 1 }, 1.2),
      } },
  );
  if (cfg.risk) {
    sources.risk = { type: "raster", tiles: [tileUrl("/api/risk/tiles/{z}/{x}/{y}.png")], tileSize: 256, maxzoom: 16 };
    layers.push({ id: "risk", type: "raster", source: "risk", paint: { "raster-opacity": 0.72, "raster-resampling": "nearest" } });
  }
  layers.push(
    { id: "front-line", type: "line", source: "base", "source-layer": "front_line",
      paint: { "line-color": "#7c2d12", "line-width": 2.2, "line-dasharray": [3, 1.5] } },
    { id: "releases-fill", type: "fill", source: "records", "source-layer": "releases",
      paint: { "fill-color": match("method", COLOURS.release, "#52b788"), "fill-opacity": 0.6 } },
    { id: "hazards-fill", type: "fill", source: "records", "source-layer": "hazards",
      paint: { "fill-color": match("status", COLOURS.hazard, "#d7301f"), "fill-opacity": 0.22 } },
    { id: "hazards-line", type: "line", source: "records", "source-layer": "hazards",
      paint: { "line-color": match("status", COLOURS.hazard, "#d7301f"), "line-width": ["match", ["get", "type"], "CHA", 2.2, 1.4] } },
    { id: "hazards-sha", type: "line", source: "records", "source-layer": "hazards", filter: ["==", ["get", "type"], "SHA"],
      paint: { "line-color": "#ffffff", "line-width": 1, "line-dasharray": [2, 2] } },
    { id: "eore", type: "circle", source: "records", "source-layer": "eore_sessions",
      paint: { "circle-radius": 4.5, "circle-color": "#0ea5e9", "circle-stroke-color": "#fff", "circle-stroke-width": 1.2 } },
    { id: "finds", type: "circle", source: "records", "source-layer": "finds",
      paint: { "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 1.2, 13, 2.5, 16, 5], "circle-color": match("category", COLOURS.find, "#7f1d1d"),
               "circle-stroke-color": "#fff", "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 12, 0, 14, 0.8] } },
    { id: "accidents", type: "circle", source: "records", "source-layer": "accidents",
      paint: { "circle-radius": 6, "circle-color": "#fde047", "circle-stroke-color": "#b91c1c", "circle-stroke-width": 2.4 } },
  );
  sources.settlements = { type: "geojson", data: { type: "FeatureCollection", features: [] } };
  layers.push({ id: "settlements", type: "circle", source: "settlements",
    paint: { "circle-radius": ["interpolate", ["linear"], ["get", "size"], 0, 3, 1, 7],
             "circle-color": match("status", { inhabited: "#374151", partly_ruined: "#9ca3af", ruined: "#ffffff" }, "#374151"),
             "circle-stroke-color": "#374151", "circle-stroke-width": 1.4 } });
  if (cfg.plan) {
    sources.priorities = { type: "geojson", data: { type: "FeatureCollection", features: [] } };
    layers.push({ id: "priorities", type: "line", source: "priorities", layout: { visibility: "none" },
      paint: { "line-color": ["interpolate", ["linear"], ["coalesce", ["get", "priority"], 0], 0, "#c4b5fd", 0.5, "#7c3aed", 1, "#3b0764"],
               "line-width": 2.5, "line-offset": -1.5 } });
  }
  return { version: 8, sources, layers };
}

const LAYER_LIST = [
  { group: "basemap", key: "layer_hillshade", layers: ["hillshade"], swatch: "#9ca3af", need: "hillshade" },
  { group: "basemap", key: "layer_pmtiles", layers: ["pmtiles"], swatch: "#d6d3d1", need: "basemap_pmtiles" },
  { group: "basemap", key: "layer_base", layers: ["districts-line", "rivers", "roads"], swatch: "#4a90c2", kind: "line" },
  { group: "basemap", key: "layer_settlements", layers: ["settlements"], swatch: "#374151", kind: "dot", count: "settlements" },
  { group: "basemap", key: "layer_front_line", layers: ["front-line"], swatch: "#7c2d12", kind: "line" },
  { group: "layers", key: "layer_risk", layers: ["risk"], swatch: "linear-gradient(90deg,#ffffcc,#fd8d3c,#800026)", need: "risk" },
  { group: "layers", key: "layer_hazards", layers: ["hazards-fill", "hazards-line", "hazards-sha"], swatch: "#d7301f", count: "hazards" },
  { group: "layers", key: "layer_releases", layers: ["releases-fill"], swatch: "#52b788", count: "releases" },
  { group: "layers", key: "layer_finds", layers: ["finds"], swatch: "#7f1d1d", kind: "dot", count: "finds" },
  { group: "layers", key: "layer_accidents", layers: ["accidents"], swatch: "#fde047", kind: "dot", count: "accidents" },
  { group: "layers", key: "layer_eore", layers: ["eore"], swatch: "#0ea5e9", kind: "dot", count: "eore_sessions" },
  { group: "layers", key: "layer_priorities", layers: ["priorities"], swatch: "#6d28d9", kind: "line", need: "plan" },
];
const counts = {};

function buildLayerList() {
  const list = document.getElementById("layer-list");
  list.textContent = "";
  let group = null;
  for (const item of LAYER_LIST) {
    if (item.need && !state.config[item.need]) continue;
    if (item.group !== group) {
      group = item.group;
      list.append(el("div", { class: "layer-group", text: t(group) }));
    }
    const present = item.layers.filter((id) => state.map.getLayer(id));
    if (!present.length) continue;
    const visible = state.map.getLayoutProperty(present[0], "visibility") !== "none";
    const box = el("input", { type: "checkbox", "data-layer": item.key });
    box.checked = visible;
    box.addEventListener("change", () => {
      for (const id of present) state.map.setLayoutProperty(id, "visibility", box.checked ? "visible" : "none");
      if (item.key === "layer_settlements") updateSettlementLabels();
    });
    const swatch = el("span", { class: `swatch ${item.kind || ""}` });
    swatch.style.background = item.swatch;
    const count = item.count && counts[item.count] != null ? el("span", { class: "count", text: fmt(counts[item.count]) }) : null;
    list.append(el("label", { class: "layer" }, box, swatch, el("span", { text: t(item.key) }), count));
  }
}

async function loadCounts() {
  await Promise.all(
    ["hazards", "releases", "finds", "accidents", "eore_sessions", "settlements"].map(async (kind) => {
      try {
        const r = await fetch(`/api/${kind}?limit=1`);
        counts[kind] = Number(r.headers.get("X-Total-Count"));
      } catch {
        /* a count is a nicety */
      }
    }),
  );
}

async function renderLegend() {
  const panel = document.getElementById("risk-legend-panel");
  if (!state.config || !state.config.risk) {
    panel.classList.add("hidden");
    return;
  }
  const legend = await api("/api/risk/legend");
  const box = document.getElementById("risk-legend");
  box.textContent = "";
  const ramp = el("div", { class: "ramp" });
  ramp.style.background = `linear-gradient(90deg, ${legend.ramp.map((r) => r.colour).join(",")})`;
  box.append(ramp, el("div", { class: "ticks" }, el("span", { text: "0" }), el("span", { text: "0.5" }), el("span", { text: "1" })));
  box.append(el("div", { class: "classes" }, ...legend.classes.map((c) => el("span", { text: t(c.label) }))));
}

const settlementMarkers = [];

async function loadSettlements() {
  const data = await api("/api/settlements?limit=5000");
  const maxPop = Math.max(1, ...data.features.map((f) => (f.properties.population || 0) + (f.properties.displaced || 0)));
  for (const f of data.features) {
    f.properties.size = Math.sqrt(((f.properties.population || 0) + (f.properties.displaced || 0)) / maxPop);
  }
  state.map.getSource("settlements").setData(data);
  for (const f of data.features) {
    const label = el("div", { class: "settlement-label", text: f.properties.name || "" });
    const marker = new maplibregl.Marker({ element: label, anchor: "bottom" }).setLngLat(f.geometry.coordinates);
    marker._size = f.properties.size;
    settlementMarkers.push(marker);
  }
  state.map.on("zoomend", updateSettlementLabels);
  updateSettlementLabels();
}

function updateSettlementLabels() {
  const z = state.map.getZoom();
  const shown = state.map.getLayoutProperty("settlements", "visibility") !== "none";
  for (const m of settlementMarkers) {
    // big places from afar, every village when close
    const want = shown && (z >= 11 || (z >= 9 && m._size > 0.35) || m._size > 0.7);
    if (want && !m._on) m.addTo(state.map);
    if (!want && m._on) m.remove();
    m._on = want;
  }
}

async function loadPriorities() {
  try {
    const data = await api("/api/plan-layer");
    state.plan = Object.fromEntries(data.features.map((f) => [f.properties.hazard_id, f.properties]));
    state.map.getSource("priorities").setData(data);
  } catch {
    /* the plan folder may hold no hazard layer */
  }
}

function initMap() {
  const cfg = state.config;
  const bounds = cfg.bounds || [44.5, 39.0, 47.5, 40.6];
  if (cfg.basemap_pmtiles && window.pmtiles) {
    const protocol = new pmtiles.Protocol();
    maplibregl.addProtocol("pmtiles", protocol.tile);
  }
  const map = new maplibregl.Map({
    container: "map",
    style: mapStyle(),
    bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]],
    fitBoundsOptions: { padding: 30 },
    attributionControl: false,
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  state.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  map.on("load", async () => {
    await loadCounts();
    buildLayerList();
    await loadSettlements();
    if (cfg.plan) await loadPriorities();
    map.once("idle", () => {
      document.body.dataset.mapReady = "1";
    });
  });
  map.on("click", onMapClick);
  for (const id of ["hazards-fill", "finds", "accidents", "eore", "settlements"]) {
    map.on("mouseenter", id, () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", id, () => (map.getCanvas().style.cursor = ""));
  }
}

function kv(rows) {
  const dl = el("dl", { class: "kv" });
  for (const [k, v] of rows) {
    if (v == null || v === "") continue;
    dl.append(el("dt", { text: k }), el("dd", {}, v instanceof Node ? v : String(v)));
  }
  return dl;
}

function badge(value) {
  return el("span", { class: `badge ${value}`, text: t(value) });
}

function table(rows, columns) {
  if (!rows || !rows.length) return el("p", { class: "hint", text: t("none") });
  const tbl = el("table", { class: "tbl" });
  tbl.append(el("tr", {}, ...columns.map((c) => el("th", { text: c[1] }))));
  for (const row of rows) tbl.append(el("tr", {}, ...columns.map((c) => el("td", { text: row[c[0]] == null ? "" : String(row[c[0]]) }))));
  return tbl;
}

async function onMapClick(ev) {
  const map = state.map;
  const layers = ["accidents", "finds", "eore", "settlements", "hazards-fill", "priorities"].filter((id) => map.getLayer(id));
  const hits = map.queryRenderedFeatures(ev.point, { layers });
  const details = document.getElementById("details");
  const hit = hits[0];
  if (hit && hit.layer.id === "hazards-fill") return showHazard(hit.properties.id);
  if (hit) {
    const p = hit.properties;
    const rows = Object.entries(p).filter(([k]) => !["size", "organisation_id"].includes(k));
    new maplibregl.Popup({ maxWidth: "280px" }).setLngLat(ev.lngLat).setDOMContent(kv(rows)).addTo(map);
    return;
  }
  if (!state.config.risk) {
    details.replaceChildren(el("p", { class: "hint", text: t("no_map") }));
    return;
  }
  details.replaceChildren(el("p", { class: "hint", text: t("loading") }));
  try {
    const why = await api(`/api/risk/explain?lon=${ev.lngLat.lng.toFixed(6)}&lat=${ev.lngLat.lat.toFixed(6)}`);
    showExplanation(why);
  } catch (err) {
    details.replaceChildren(el("p", { class: "hint", text: err.status === 404 ? t("outside_map") : err.message }));
  }
}

function showExplanation(why) {
  const details = document.getElementById("details");
  const risk = why.probability;
  const box = el("div", { class: "explain" });
  box.append(el("div", { class: "hint", text: t("cell_risk") }));
  box.append(el("div", { class: "bigrisk", text: risk == null ? "–" : `${(risk * 100).toFixed(1)} %` }));
  box.append(el("div", { class: "hint", text: `${why.lat.toFixed(5)}, ${why.lon.toFixed(5)}` }));
  const contributions = why.contributions || why.top || [];
  if (contributions.length) {
    box.append(el("h4", { text: t("why_high") }));
    box.append(el("p", { class: "hint", text: t("why_note") }));
    const maxAbs = Math.max(...contributions.map((c) => Math.abs(c.log_odds ?? c.contribution ?? 0)), 1e-9);
    const bars = el("div", { class: "bars" });
    for (const c of contributions) {
      const v = c.log_odds ?? c.contribution ?? 0;
      const fill = el("div", { class: `fill ${v < 0 ? "neg" : ""}` });
      const w = (Math.abs(v) / maxAbs) * 50;
      fill.style.width = `${w}%`;
      fill.style.left = v < 0 ? `${50 - w}%` : "50%";
      const label = c.feature || c.name;
      const shown = c.value != null ? ` = ${fmt(c.value, 1)}${c.unit && c.unit !== "class" ? " " + c.unit : ""}` : "";
      bars.append(
        el("div", { class: "bar", title: c.rationale || "" },
          el("div", {}, el("div", { class: "feat" }, el("b", { text: label }), shown), el("div", { class: "track" }, fill),
             c.rationale ? el("div", { class: "why", text: c.rationale }) : null),
          el("div", { class: "contrib", text: (v >= 0 ? "+" : "") + v.toFixed(2) })),
      );
    }
    box.append(bars);
  }
  details.replaceChildren(box);
}

function planRows(id) {
  const plan = state.plan && state.plan[id];
  if (!plan) return [];
  const when = [plan.planned_start, plan.planned_end].filter(Boolean).join(" → ");
  return [
    [t("field_priority"), plan.priority != null ? fmt(plan.priority, 2) : null],
    [t("field_planned"), when || null],
  ];
}

async function showHazard(id) {
  const details = document.getElementById("details");
  details.replaceChildren(el("p", { class: "hint", text: t("loading") }));
  const story = await api(`/api/hazards/${id}/story`);
  const p = story.hazard.properties;
  const box = el("div");
  box.append(el("h4", { text: `${t("hazard")} ${p.ref || ""}${p.name ? " · " + p.name : ""}` }));
  box.append(kv([
    [t("field_type"), p.type],
    [t("field_status"), badge(p.status)],
    [t("field_contamination"), p.contamination],
    [t("field_evidence"), p.evidence && t(p.evidence)],
    [t("field_area"), p.area_m2 != null ? `${fmt(ha(p.area_m2), 2)} ${t("unit_ha")}` : null],
    [t("field_land_use"), p.land_use && t(p.land_use)],
    [t("field_recorded_on"), p.recorded_on],
    [t("field_workflow"), badge(p.workflow)],
    [t("field_version"), p.version],
    ...planRows(story.hazard.id),
  ]));
  const hist = story.history.map((h) => ({ ...h, when: (h.at || h.changed_at || h.date || "").toString().slice(0, 10) }));
  box.append(el("h4", { text: t("history") }));
  box.append(table(hist, [["when", "date"], ["type", t("field_type")], ["status", t("field_status")], ["area_m2", "m²"]]));
  box.append(el("h4", { text: t("activities") }));
  box.append(table(story.activities.features.map((f) => f.properties), [["ref", "ref"], ["type", t("field_type")], ["start_date", "start"], ["end_date", "end"], ["status", t("field_status")]]));
  box.append(el("h4", { text: t("finds") }));
  box.append(table(story.finds, [["ref", "ref"], ["category", "cat."], ["model", "model"], ["found_on", "date"]]));
  if (story.accidents.length) {
    box.append(el("h4", { text: t("accidents") }));
    box.append(table(story.accidents, [["ref", "ref"], ["occurred_on", "date"], ["activity", "activity"]]));
  }
  details.replaceChildren(box);
}

// --- dashboards ---------------------------------------------------------------------------------------

const GROUP_COLOURS = { civilian: "#d97706", military: "#4b5563", deminer: "#b91c1c", unknown: "#a8a29e" };
const METHOD_COLOURS = { cancelled: "#b7e4c7", reduced: "#52b788", cleared: "#1b7f4b" };
const PEOPLE_COLOURS = { men: "#1d4e89", women: "#c026d3", boys: "#38bdf8", girls: "#f472b6" };

async function loadDashboard() {
  // the first answer on a large store takes seconds (it reads every record); say so meanwhile
  document.getElementById("kpis").replaceChildren(el("p", { class: "hint", text: t("loading") }));
  state.dashboard = await api("/api/dashboard");
  renderDashboard(state.dashboard);
}

function chart(id, config) {
  if (state.charts[id]) state.charts[id].destroy();
  config.options = Object.assign(
    { responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } },
    config.options || {},
  );
  state.charts[id] = new Chart(document.getElementById(id), config);
}

function renderDashboard(d) {
  const f = d.figures;
  const released = (f.area_cancelled_m2 || 0) + (f.area_reduced_m2 || 0) + (f.area_cleared_m2 || 0);
  const kpis = [
    [`${fmt(ha(released), 0)} ${t("unit_ha")}`, t("kpi_released"), "good"],
    [fmt(f.devices_found), t("kpi_devices"), ""],
    [fmt(f.hazards_remaining), t("kpi_hazards"), ""],
    [fmt(f.victims_killed), t("kpi_killed"), "warn"],
    [fmt(f.victims_injured), t("kpi_injured"), "warn"],
    [fmt(f.eore_beneficiaries), t("kpi_eore"), ""],
  ];
  document.getElementById("kpis").replaceChildren(
    ...kpis.map(([v, l, c]) => el("div", { class: `kpi ${c}` }, el("div", { class: "v", text: v }), el("div", { class: "l", text: l }))),
  );
  const stacked = { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };

  const cas = d.casualties_by_month;
  chart("chart-casualties", {
    type: "bar",
    data: { labels: cas.months, datasets: Object.entries(cas.groups).map(([g, values]) => ({ label: t(g), data: values, backgroundColor: GROUP_COLOURS[g] || "#888", maxBarThickness: 36 })) },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });

  const rel = d.released_by_month;
  chart("chart-released", {
    type: "bar",
    data: { labels: rel.map((r) => r.month), datasets: ["cancelled", "reduced", "cleared"].map((m) => ({ label: t(m), data: rel.map((r) => ha(r[m] || 0)), backgroundColor: METHOD_COLOURS[m] })) },
    options: stacked,
  });

  const eore = d.eore_by_month;
  chart("chart-eore", {
    type: "bar",
    data: { labels: eore.map((r) => r.month), datasets: ["men", "women", "boys", "girls"].map((p) => ({ label: t(p), data: eore.map((r) => r[p] || 0), backgroundColor: PEOPLE_COLOURS[p] })) },
    options: stacked,
  });

  renderProgress(d.progress);
  document.body.dataset.dashboardReady = "1";
}

function forecastCurve(forecast) {
  // the planner's monthly curve of land released from its start: a list of
  // {month, ...p10, ...p50, ...p90} in m² (e.g. released_m2_p50)
  if (!forecast) return null;
  for (const value of Object.values(forecast)) {
    if (!Array.isArray(value) || !value.length || typeof value[0] !== "object") continue;
    const keys = Object.keys(value[0]);
    const pick = (q) => keys.find((k) => k.endsWith(q));
    if (!pick("p50")) continue;
    return value.map((v) => ({ month: String(v.month || v.date).slice(0, 7), p10: v[pick("p10")], p50: v[pick("p50")], p90: v[pick("p90")] }));
  }
  return null;
}

function renderProgress(progress) {
  const actual = progress.actual;
  const curve = forecastCurve(progress.forecast);
  document.getElementById("forecast-note").classList.toggle("hidden", !!curve);
  const months = new Set(actual.map((a) => a.month));
  if (curve) for (const c of curve) months.add(c.month);
  const labels = [...months].sort();
  const byMonth = Object.fromEntries(actual.map((a) => [a.month, ha(a.cumulative_m2)]));
  const datasets = [{ label: t("actual"), data: labels.map((m) => byMonth[m] ?? null), borderColor: "#1b7f4b", backgroundColor: "#1b7f4b", pointRadius: 0, borderWidth: 2.5, spanGaps: true }];
  if (curve) {
    const done = actual.length ? actual[actual.length - 1].cumulative_m2 : 0;
    const at = Object.fromEntries(curve.map((c) => [c.month, c]));
    // the forecast counts land released from its start: add what was released before
    const series = (k) => labels.map((m) => (at[m] ? ha(at[m][k] + done) : null));
    datasets.push({ label: t("forecast_band"), data: series("p90"), borderColor: "rgba(29,78,137,0)", backgroundColor: "rgba(29,78,137,.15)", fill: "+1", pointRadius: 0 });
    datasets.push({ label: "P10", data: series("p10"), borderColor: "rgba(29,78,137,0)", pointRadius: 0 });
    datasets.push({ label: t("forecast_p50"), data: series("p50"), borderColor: "#1d4e89", borderDash: [6, 4], pointRadius: 0, borderWidth: 2 });
  }
  chart("chart-progress", {
    type: "line",
    data: { labels, datasets },
    options: { scales: { y: { beginAtZero: true } }, plugins: { legend: { position: "bottom", labels: { boxWidth: 12, filter: (i) => i.text !== "P10" } } } },
  });
}

// --- forms -----------------------------------------------------------------------------------------

function fillChoices(root) {
  if (!state.config) return;
  for (const select of root.querySelectorAll("select[data-choices]")) {
    const [kind, name] = select.dataset.choices.split(".");
    const field = (state.config.fields[kind] || []).find((f) => f.name === name);
    const current = select.value;
    select.textContent = "";
    select.append(el("option", { value: "", text: t("choose") }));
    for (const c of (field && field.choices) || []) select.append(el("option", { value: c, text: state.messages[c] || c }));
    select.value = current;
  }
}

function initFormMap() {
  if (state.formMap) {
    state.formMap.resize();
    return;
  }
  const bounds = state.config.bounds || [44.5, 39.0, 47.5, 40.6];
  const style = mapStyle();
  style.layers = style.layers.filter((l) => !["risk", "priorities", "settlements"].includes(l.id));
  delete style.sources.risk;
  style.sources.draft = { type: "geojson", data: { type: "FeatureCollection", features: [] } };
  style.layers.push(
    { id: "draft-fill", type: "fill", source: "draft", filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#c2410c", "fill-opacity": 0.25 } },
    { id: "draft-line", type: "line", source: "draft", paint: { "line-color": "#c2410c", "line-width": 2 } },
    { id: "draft-points", type: "circle", source: "draft", filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 6, "circle-color": "#c2410c", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } },
  );
  const map = new maplibregl.Map({ container: "form-map", style, bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]], attributionControl: false, canvasContextAttributes: { preserveDrawingBuffer: true } });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.on("click", (ev) => {
    const p = [Number(ev.lngLat.lng.toFixed(6)), Number(ev.lngLat.lat.toFixed(6))];
    if (state.activeForm === "nts") state.drawing.nts.push(p);
    else state.drawing[state.activeForm] = p;
    drawDraft();
  });
  map.on("load", () => {
    document.body.dataset.formMapReady = "1";
  });
  state.formMap = map;
}

function draftGeometry(form) {
  if (form === "nts") {
    const pts = state.drawing.nts;
    if (pts.length < 3) return null;
    return { type: "Polygon", coordinates: [[...pts, pts[0]]] };
  }
  const p = state.drawing[form];
  return p ? { type: "Point", coordinates: p } : null;
}

function drawDraft() {
  if (!state.formMap || !state.formMap.getSource("draft")) return;
  const features = [];
  if (state.activeForm === "nts") {
    const pts = state.drawing.nts;
    for (const p of pts) features.push({ type: "Feature", geometry: { type: "Point", coordinates: p }, properties: {} });
    if (pts.length >= 2) features.push({ type: "Feature", geometry: pts.length >= 3 ? draftGeometry("nts") : { type: "LineString", coordinates: pts }, properties: {} });
  } else if (state.drawing[state.activeForm]) {
    features.push({ type: "Feature", geometry: draftGeometry(state.activeForm), properties: {} });
  }
  state.formMap.getSource("draft").setData({ type: "FeatureCollection", features });
}

function formValues(root) {
  const out = {};
  for (const input of root.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (input.closest("fieldset.victim") && !root.matches("fieldset.victim")) continue;
    const v = input.value.trim();
    if (v === "") continue;
    out[input.name] = input.type === "number" ? Number(v) : v;
  }
  return out;
}

function clearErrors(form) {
  for (const label of form.querySelectorAll("label.invalid")) label.classList.remove("invalid");
  for (const e of form.querySelectorAll("label .err")) e.remove();
  for (const e of form.querySelectorAll(".err[data-for]")) e.textContent = "";
  const status = form.querySelector(":scope > .status");
  status.className = "status";
  status.textContent = "";
}

// Show the API's answer next to the fields it names: the same messages as the API.
function showErrors(form, root, err) {
  const status = form.querySelector(":scope > .status");
  status.className = "status bad";
  status.textContent = `${t("form_error")}: ${err.message}`;
  const detail = err.body && Array.isArray(err.body.detail) ? err.body.detail : [];
  for (const d of detail) {
    const field = d.field;
    if (!field) continue;
    if (field === "geometry") {
      form.querySelector(".err[data-for=geometry]").textContent = d.msg;
      continue;
    }
    const input = root.querySelector(`[name="${field}"]`);
    if (!input) continue;
    const label = input.closest("label");
    label.classList.add("invalid");
    label.append(el("span", { class: "err", text: d.msg }));
  }
}

async function submitNts(form) {
  const values = formValues(form);
  const geometry = draftGeometry("nts");
  if (!geometry) throw new ApiError(422, { message: "field 'geometry': " + t("form_pick_polygon"), detail: [{ field: "geometry", msg: t("form_pick_polygon") }] });
  const hazard = await api("/api/hazards", { method: "POST", body: { type: "Feature", geometry, properties: { status: "open", ...values } } });
  const props = { type: "NTS", hazard_id: hazard.id, status: "completed" };
  if (values.recorded_on) {
    props.start_date = values.recorded_on;
    props.end_date = values.recorded_on;
  }
  const activity = await api("/api/activities", { method: "POST", body: { type: "Feature", geometry, properties: props } });
  return `${hazard.properties.ref} · ${activity.properties.ref}`;
}

async function submitAccident(form) {
  const values = formValues(form);
  const geometry = draftGeometry("accident");
  const body = { type: "Feature", geometry: geometry || null, properties: values };
  const accident = await api("/api/accidents", { method: "POST", body });
  const made = [];
  const fieldsets = [...form.querySelectorAll("fieldset.victim")];
  try {
    for (const fs of fieldsets) {
      try {
        made.push(await api("/api/victims", { method: "POST", body: { accident_id: accident.id, ...formValues(fs) } }));
      } catch (err) {
        err.root = fs;
        throw err;
      }
    }
  } catch (err) {
    // all or nothing: take back what this submission wrote
    for (const v of made.reverse()) await api(`/api/victims/${v.id}?version=${v.version}`, { method: "DELETE" });
    await api(`/api/accidents/${accident.id}?version=${accident.properties.version}`, { method: "DELETE" });
    throw err;
  }
  return `${accident.properties.ref} (${made.length} × ${t("victim")})`;
}

async function submitEore(form) {
  const values = formValues(form);
  const geometry = draftGeometry("eore");
  const session = await api("/api/eore_sessions", { method: "POST", body: { type: "Feature", geometry: geometry || null, properties: values } });
  return session.properties.ref;
}

function addVictim() {
  const tpl = document.getElementById("victim-template");
  const node = tpl.content.firstElementChild.cloneNode(true);
  for (const n of node.querySelectorAll("[data-i18n]")) n.textContent = t(n.dataset.i18n);
  fillChoices(node);
  node.querySelector("[data-action=remove-victim]").addEventListener("click", () => {
    node.remove();
    numberVictims();
  });
  document.getElementById("victims").append(node);
  numberVictims();
}

function numberVictims() {
  [...document.querySelectorAll("fieldset.victim")].forEach((fs, i) => (fs.querySelector(".victim-no").textContent = `#${i + 1}`));
}

function setupForms() {
  for (const tab of document.querySelectorAll(".subtab")) {
    tab.addEventListener("click", () => {
      state.activeForm = tab.dataset.form;
      for (const t2 of document.querySelectorAll(".subtab")) t2.classList.toggle("active", t2 === tab);
      for (const f of document.querySelectorAll(".form")) f.classList.toggle("active", f.id === `form-${state.activeForm}`);
      drawDraft();
    });
  }
  const submitters = { nts: submitNts, accident: submitAccident, eore: submitEore };
  for (const [name, submit] of Object.entries(submitters)) {
    const form = document.getElementById(`form-${name}`);
    form.querySelector("[data-action=clear]").addEventListener("click", () => {
      form.reset();
      clearErrors(form);
      state.drawing[name] = name === "nts" ? [] : null;
      if (name === "accident") document.getElementById("victims").textContent = "";
      drawDraft();
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const ref = await submit(form);
        const status = form.querySelector(":scope > .status");
        status.className = "status ok";
        status.textContent = `${t("form_saved")}: ${ref}`;
        form.dataset.saved = ref;
        state.dashboard = null;
        if (state.map && state.map.getSource("records")) {
          // reload the record tiles so the new record shows
          const src = state.map.getSource("records");
          src.setTiles(src.tiles);
        }
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        showErrors(form, err.root || form, err);
      }
    });
  }
  document.querySelector("[data-action=add-victim]").addEventListener("click", addVictim);
}

// --- views ----------------------------------------------------------------------------------------------

function showView(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.view === name);
  for (const view of document.querySelectorAll(".view")) view.classList.toggle("active", view.id === `view-${name}`);
  if (name === "map" && state.map) state.map.resize();
  if (name === "dashboard" && !state.dashboard) loadDashboard();
  if (name === "record") initFormMap();
  location.hash = name;
}

async function main() {
  state.config = await api("/api/config");
  await setLanguage(state.lang);
  document.getElementById("lang").addEventListener("change", (ev) => setLanguage(ev.target.value));
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showView(tab.dataset.view));
  setupLogin();
  setupForms();
  await loadMe();
  initMap();
  renderLegend();
  const start = location.hash.replace("#", "");
  if (["dashboard", "record"].includes(start)) showView(start);
}

main().catch((err) => {
  console.error(err);
  document.body.dataset.error = String(err && err.message);
});
