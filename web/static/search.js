// The citizens' search page: query, filters with facet counts, highlighted snippets, outcome
// badges and pages. The whole state lives in the URL, so a search can be shared or bookmarked.
import { api, documentUrl, el, header, marked, t, where } from "./common.js";

const FILTERS = ["organisation", "body", "type", "outcome"];
const FACET_OF = { organisation: "organisation", body: "body", type: "doc_type", outcome: "outcome" };
const PAGE_SIZE = 10;

function state() {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get("q") || "",
    page: Math.max(1, parseInt(p.get("page") || "1", 10) || 1),
    from: p.get("from") || "",
    to: p.get("to") || "",
    ...Object.fromEntries(FILTERS.map((f) => [f, p.get(f) || ""])),
  };
}

function go(next) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(next)) {
    if (value && !(key === "page" && value === 1)) params.set(key, value);
  }
  const lang = new URLSearchParams(location.search).get("lang");
  if (lang) params.set("lang", lang);
  history.pushState(null, "", `${location.pathname}?${params}`);
  render();
}

function facetSelect(name, selected, counts) {
  const select = el("select", { id: `f-${name}`, name });
  select.append(el("option", { value: "" }, t("all")));
  const values = { ...(counts || {}) };
  if (selected && !(selected in values)) values[selected] = 0;
  for (const [value, count] of Object.entries(values)) {
    select.append(el("option", { value, selected: value === selected }, `${value} (${count})`));
  }
  return [el("label", { for: `f-${name}` }, t(name === "type" ? "doc_type" : name)), select];
}

function result(hit) {
  const title = hit.title || hit.doc;
  const s = hit.snippet;
  return el("li", {},
    el("h2", {}, el("a", { href: documentUrl(hit.doc, hit.start, hit.end) }, title),
      hit.outcome ? el("span", { class: `badge ${hit.outcome.replace(/ /g, "-")}` }, hit.outcome) : null),
    el("div", { class: "meta" }, where(hit)),
    el("p", { class: "snippet" }, "… ", ...marked(s.text, s.start, s.highlights), " …"),
  );
}

function pages(current, count, st) {
  if (count <= 1) return null;
  const nav = el("nav", { class: "pages", "aria-label": t("page") });
  const link = (page, label) => {
    const a = el("a", { href: "#", "aria-current": page === current ? "page" : null }, label);
    a.addEventListener("click", (event) => { event.preventDefault(); go({ ...st, page }); });
    return a;
  };
  if (current > 1) nav.append(link(current - 1, t("previous")));
  for (let page = 1; page <= count; page++) nav.append(link(page, String(page)));
  if (current < count) nav.append(link(current + 1, t("next")));
  return nav;
}

async function render() {
  const st = state();
  const app = document.getElementById("app");
  const input = el("input", { type: "search", name: "q", id: "q", value: st.q, placeholder: t("placeholder"), "aria-label": t("searchLabel") });
  const form = el("form", { class: "query", role: "search" }, input, el("button", { class: "primary", type: "submit" }, t("search")));
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const filters = el("fieldset", { class: "filters" }, el("legend", {}, t("filters")));
  const results = el("ol", { class: "results" });
  const pager = el("div");
  app.replaceChildren(header("search"), el("main", {}, el("h1", {}, t("searchLabel")), form,
    el("div", { class: "layout" }, filters, el("section", { "aria-label": t("resultsLabel") }, status, results, pager))));
  form.addEventListener("submit", (event) => { event.preventDefault(); go({ ...readFilters(filters, st), q: input.value.trim(), page: 1 }); });
  if (!st.q) { filters.append(...yearInputs(st)); wireFilters(filters, st); return; }
  status.textContent = t("loading");
  const params = new URLSearchParams({ q: st.q, k: PAGE_SIZE, page: st.page });
  for (const key of [...FILTERS, "from", "to"]) if (st[key]) params.set(key, st[key]);
  try {
    const body = await api(`/api/search?${params}`);
    status.textContent = body.total ? t("results", body.total) : t("noResults");
    for (const name of FILTERS) filters.append(...facetSelect(name, st[name], body.facets[FACET_OF[name]]));
    filters.append(...yearInputs(st, body.facets.year));
    results.replaceChildren(...body.hits.map(result));
    const nav = pages(body.page, body.pages, st);
    if (nav) pager.replaceChildren(nav);
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
    for (const name of FILTERS) filters.append(...facetSelect(name, st[name], {}));
    filters.append(...yearInputs(st));
  }
  wireFilters(filters, st);
}

function yearInputs(st, years) {
  const known = Object.keys(years || {}).sort();
  return [
    el("label", { for: "f-from" }, t("from")),
    el("input", { id: "f-from", name: "from", inputmode: "numeric", pattern: "\\d{4}", value: st.from, placeholder: known[0] || "" }),
    el("label", { for: "f-to" }, t("to")),
    el("input", { id: "f-to", name: "to", inputmode: "numeric", pattern: "\\d{4}", value: st.to, placeholder: known.at(-1) || "" }),
    known.length ? el("p", { class: "meta", id: "year-counts" }, known.map((y) => `${y} (${years[y]})`).join(" · ")) : null,
  ].filter(Boolean);
}

function readFilters(filters, st) {
  const out = { ...st };
  for (const field of filters.querySelectorAll("select, input")) out[field.name] = field.value.trim();
  return out;
}

function wireFilters(filters, st) {
  for (const field of filters.querySelectorAll("select, input")) {
    field.addEventListener("change", () => { if (st.q) go({ ...readFilters(filters, st), page: 1 }); });
  }
}

addEventListener("popstate", render);
render();
