// The citizens' search page: one result per item (§) or document with its best passage as snippet
// and the others behind "fler träffar i samma §"; facet counts of items and documents; an
// organisation named in the question as an active, removable filter; the cited answer (or the
// abstention and why) above the results when the query is a question; "Inga träffar" with the
// reason and suggestions. The whole state lives in the URL, so a search can be shared or bookmarked.
import {
  EXAMPLES, api, badge, documentUrl, el, header, lang, limitHint, marked, stats, t, valueLabel, where,
} from "./common.js";

const FILTERS = ["organisation", "body", "type", "outcome"];
const FACET_OF = { organisation: "organisation", body: "body", type: "doc_type", outcome: "outcome" };
const PAGE_SIZE = 10;
const QUESTION_WORDS = /^(vad|vem|vilka|vilken|vilket|var|när|hur|varför|får|kan|ska|skall|har|hade|är|finns|fanns|gäller|what|who|which|where|when|how|why|may|can|does|did|do|is|are|has|have|should)\b/i;

function state() {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get("q") || "",
    page: Math.max(1, parseInt(p.get("page") || "1", 10) || 1),
    from: p.get("from") || "",
    to: p.get("to") || "",
    auto: p.get("auto") || "",
    ...Object.fromEntries(FILTERS.map((f) => [f, p.get(f) || ""])),
  };
}

function urlOf(next) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(next)) {
    if (value && !(key === "page" && value === 1)) params.set(key, value);
  }
  if (lang() !== "sv") params.set("lang", lang());
  return `${location.pathname}?${params}`;
}

function go(next, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", urlOf(next)); else history.pushState(null, "", urlOf(next));
  render();
}

export function isQuestion(q) {
  return q.trim().endsWith("?") || QUESTION_WORDS.test(q.trim());
}

function facetSelect(name, selected, counts, documents) {
  const select = el("select", { id: `f-${name}`, name });
  select.append(el("option", { value: "" }, t("all")));
  const values = { ...(counts || {}) };
  if (selected && !(selected in values)) values[selected] = 0;
  for (const [value, count] of Object.entries(values)) {
    const docs = (documents || {})[value] ?? 0;
    select.append(el("option", { value, selected: value === selected }, `${valueLabel(FACET_OF[name], value)} (${t("facetCount", count, docs)})`));
  }
  return [el("label", { for: `f-${name}` }, t(name === "type" ? "doc_type" : name)), select];
}

function snippetNodes(s) {
  const shown = s.display || { text: s.text, highlights: s.highlights.map((h) => ({ start: h.start - s.start, end: h.end - s.start })) };
  return marked(shown.text, 0, shown.highlights);
}

function titleOf(hit) {
  return hit.repaired_title || hit.display_title || hit.title || hit.doc;
}

function result(hit) {
  const more = hit.more || [];
  const sameLabel = hit.paragraph ? t("moreInItem", more.length) : t("moreInDocument", more.length);
  return el("li", {},
    el("h2", {}, el("a", { href: documentUrl(hit.doc, hit.start, hit.end) }, titleOf(hit)), badge(hit.outcome),
      hit.ocr ? el("span", { class: "ocr-note", title: t("ocr") }, t("ocrBadge")) : null),
    el("div", { class: "meta" }, where(hit)),
    el("p", { class: "snippet" }, "… ", ...snippetNodes(hit.snippet), " …"),
    hit.ocr && hit.snippet.display && hit.snippet.display.repaired
      ? el("p", { class: "repaired" }, `${t("readAs")}: … ${hit.snippet.display.repaired} …`) : null,
    more.length ? el("details", { class: "more" }, el("summary", {}, sameLabel),
      el("ol", {}, more.map((m) => el("li", {},
        el("a", { href: documentUrl(m.doc, m.start, m.end) }, m.section || t("passage")),
        el("p", { class: "snippet" }, "… ", ...snippetNodes(m.snippet), " …"))))) : null,
  );
}

function pages(current, count, st) {
  if (count <= 1) return null;
  const nav = el("nav", { class: "pages", "aria-label": t("page") });
  const link = (page, label) => {
    const a = el("a", { href: urlOf({ ...st, page }), "aria-current": page === current ? "page" : null }, label);
    a.addEventListener("click", (event) => { event.preventDefault(); go({ ...st, page }); });
    return a;
  };
  if (current > 1) nav.append(link(current - 1, t("previous")));
  for (let page = 1; page <= count; page++) nav.append(link(page, String(page)));
  if (current < count) nav.append(link(current + 1, t("next")));
  return nav;
}

function chips(st) {
  const active = [...FILTERS, "from", "to"].filter((name) => st[name]);
  if (!active.length) return null;
  return el("ul", { class: "chips", "aria-label": t("activeFilters") }, active.map((name) => {
    const label = `${t(name === "type" ? "doc_type" : name)}: ${valueLabel(FACET_OF[name], st[name])}`;
    const remove = el("button", { type: "button", "aria-label": t("removeFilter", label) }, "✕");
    remove.addEventListener("click", () => go({ ...st, [name]: "", page: 1, auto: name === "organisation" ? "0" : st.auto }));
    return el("li", { class: "chip" }, label,
      name === "organisation" && st.auto === "1" ? el("span", { class: "from-query" }, `(${t("fromQuery")})`) : null, remove);
  }));
}

function exampleLinks() {
  return el("ul", { class: "examples" }, EXAMPLES[lang()].map((q) => el("li", {}, el("a", { href: urlOf({ q }) }, q))));
}

async function cover(holder) {
  try {
    const s = await stats();
    const years = Object.keys(s.years);
    const organisations = Object.keys(s.organisations);
    holder.replaceChildren(el("section", { class: "cover", "aria-labelledby": "cover-title" },
      el("h2", { id: "cover-title" }, t("coverTitle")),
      el("p", {}, [t("coverDocs", s.documents, organisations.length), years.length ? t("coverYears", years[0], years.at(-1)) : null].filter(Boolean).join(", ") + "."),
      organisations.length ? el("p", { class: "meta" }, organisations.join(" · ")) : null,
      el("h2", {}, t("examples")), exampleLinks()));
  } catch (error) {
    holder.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}

function emptyState(body, st) {
  const reason = body.empty;
  const suggestions = el("ul", {});
  let why;
  const quoted = (values) => values.map((v) => `”${v}”`).join(", ");
  if (reason && reason.code === "no_words") {
    why = t("emptyNoWords");
    suggestions.append(el("li", {}, t("suggestWords")));
  } else if (reason && reason.code === "unknown_place") {
    why = t("emptyUnknownPlace", reason.values.join(", "));
    const without = reason.values.reduce((q, place) => q.replace(new RegExp(place.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi"), "").replace(/\s+/g, " ").trim(), st.q);
    if (without) suggestions.append(el("li", {}, el("a", { href: urlOf({ q: without }) }, t("suggestWithout", reason.values.join(", ")))));
    suggestions.append(el("li", { id: "known-organisations" }, t("suggestOrganisations"), " …"));
    stats().then((s) => {
      const item = suggestions.querySelector("#known-organisations");
      if (item) item.textContent = `${t("suggestOrganisations")} ${Object.keys(s.organisations).join(", ")}.`;
    }).catch(() => null);
  } else if (reason && reason.code === "unknown_dnr") {
    why = t("emptyUnknownDnr", reason.values.join(", "));
    suggestions.append(el("li", {}, t("suggestDnr")));
  } else if (reason && reason.code === "unknown_words") {
    why = t("emptyUnknownWords", quoted(reason.values));
    suggestions.append(el("li", {}, t("suggestWords")));
  } else {
    why = t("emptyFilters");
    suggestions.append(el("li", {}, el("a", { href: urlOf({ q: st.q, auto: "0" }) }, t("suggestClear"))));
  }
  return el("section", { class: "empty", role: "status", "aria-labelledby": "empty-title" },
    el("h2", { id: "empty-title" }, t("noResults")), el("p", { class: "reason" }, why),
    el("h3", {}, t("suggestions")), suggestions, el("h3", {}, t("examples")), exampleLinks());
}

// A passage's first words for a list, markup marks dropped and lines joined.
function shortText(text) {
  const flat = text.replace(/[#*_`>]+(?=\s|$)|(?<=\s|^)[#*_`>]+/g, " ").replace(/\s+/g, " ").trim();
  return flat.length > 180 ? `${flat.slice(0, 177).replace(/\s\S*$/, "")} …` : flat;
}

// The answer's text with its [n] markers as links to the numbered sources below it.
function answerText(text) {
  const nodes = [];
  let at = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    if (m.index > at) nodes.push(text.slice(at, m.index));
    nodes.push(el("a", { href: `#source-${m[1]}`, class: "marker" }, m[0]));
    at = m.index + m[0].length;
  }
  if (at < text.length) nodes.push(text.slice(at));
  return nodes;
}

function answerBox(body) {
  if (body.abstained) {
    const seen = new Set();
    const related = body.passages.filter((p) => !seen.has(p.doc) && seen.add(p.doc)).slice(0, 3);
    return el("section", { class: "answer abstained", "aria-labelledby": "answer-title" },
      el("h2", { id: "answer-title" }, t("abstainHeading")),
      el("p", { class: "reason" }, body.reason || ""),
      related.length ? el("h3", {}, t("related")) : null,
      related.length ? el("ul", {}, related.map((p) => el("li", {},
        el("a", { href: documentUrl(p.doc, p.start, p.end) }, titleOf(p)), " ", el("span", { class: "meta" }, where(p)),
        el("p", { class: "related-snippet" }, shortText(p.text))))) : null);
  }
  return el("section", { class: "answer", "aria-labelledby": "answer-title" },
    el("h2", { id: "answer-title" }, t("answerHeading")),
    el("p", { class: "text" }, ...answerText(body.answer || "")),
    el("h3", {}, t("sources")),
    el("ol", {}, body.citations.map((c) => el("li", { id: `source-${c.n}`, value: c.n },
      el("a", { href: documentUrl(c.doc, c.start, c.end) }, where(c) || c.doc), el("div", { class: "meta" }, c.display_title || c.title || "")))));
}

async function showAnswer(holder, st) {
  holder.replaceChildren(el("p", { class: "meta" }, t("answering")));
  const filters = {};
  for (const [key, name] of [["organisation", "organisation"], ["body", "body"], ["type", "type"], ["outcome", "outcome"], ["from", "from"], ["to", "to"]]) {
    if (st[key]) filters[name] = st[key];
  }
  try {
    const body = await api("/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: st.q, ...(Object.keys(filters).length ? { filters } : {}) }),
    });
    holder.replaceChildren(answerBox(body));
  } catch (error) {
    holder.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

async function render() {
  await stats().catch(() => null);
  const st = state();
  const app = document.getElementById("app");
  const input = el("input", { type: "search", name: "q", id: "q", value: st.q, placeholder: t("placeholder"), "aria-label": t("searchLabel") });
  const hint = limitHint(input, "q-limit");
  const form = el("form", { class: "query", role: "search" }, el("div", { class: "field" }, input, hint), el("button", { class: "primary", type: "submit" }, t("search")));
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const filters = el("fieldset", { class: "filters collapsed", id: "filters" }, el("legend", {}, t("filters")));
  const toggle = el("button", { type: "button", class: "secondary filters-toggle", "aria-expanded": "false", "aria-controls": "filters" }, t("showFilters"));
  toggle.addEventListener("click", () => {
    const open = filters.classList.toggle("collapsed") === false;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? t("hideFilters") : t("showFilters");
  });
  const answer = el("div", { class: "answer-holder", "aria-live": "polite" });
  const results = el("ol", { class: "results" });
  const pager = el("div");
  const extra = el("div");
  app.replaceChildren(header("search"), el("main", { id: "main", tabindex: "-1" }, el("h1", {}, t("searchLabel")), form,
    el("div", { class: "layout" }, el("div", {}, toggle, filters),
      el("section", { "aria-label": t("resultsLabel") }, chips(st), answer, status, results, extra, pager))));
  document.title = st.q ? `${st.q} – ${t("searchLabel")}` : t("searchLabel");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) { input.focus(); return; }
    go({ ...readFilters(filters, st), q, page: 1, auto: "" });
  });
  if (!st.q) { filters.append(...yearInputs(st)); wireFilters(filters, st); cover(extra); return; }
  status.textContent = t("loading");
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  results.setAttribute("aria-busy", "true");
  const params = new URLSearchParams({ q: st.q, k: PAGE_SIZE, page: st.page, group: "item" });
  for (const key of [...FILTERS, "from", "to"]) if (st[key]) params.set(key, st[key]);
  try {
    const body = await api(`/api/search?${params}`);
    const named = body.query_organisations || [];
    if (!st.organisation && st.auto !== "0" && named.length === 1 && !body.empty) {
      go({ ...st, organisation: named[0], auto: "1", page: 1 }, { replace: true });
      return;
    }
    if (body.total && isQuestion(st.q) && st.page === 1) showAnswer(answer, st);
    const documents = new Set(body.hits.map((h) => h.doc)).size;
    const allDocuments = Object.values(body.facet_documents.organisation || {}).reduce((a, b) => a + b, 0) || documents;
    status.textContent = body.total ? t("groupsFound", body.total, allDocuments) : "";
    for (const name of FILTERS) filters.append(...facetSelect(name, st[name], body.facets[FACET_OF[name]], body.facet_documents[FACET_OF[name]]));
    filters.append(...yearInputs(st, body.facets.year));
    results.replaceChildren(...body.hits.map(result));
    if (!body.total) extra.replaceChildren(emptyState(body, st));
    const nav = pages(body.page, body.pages, st);
    if (nav) pager.replaceChildren(nav);
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
    for (const name of FILTERS) filters.append(...facetSelect(name, st[name], {}, {}));
    filters.append(...yearInputs(st));
  }
  submit.disabled = false;
  results.removeAttribute("aria-busy");
  wireFilters(filters, st);
}

function yearInputs(st, years) {
  const known = Object.keys(years || {}).sort();
  return [
    el("label", { for: "f-from" }, t("from")),
    el("input", { id: "f-from", name: "from", inputmode: "numeric", pattern: "\\d{4}", maxlength: "10", value: st.from, placeholder: known[0] || "" }),
    el("label", { for: "f-to" }, t("to")),
    el("input", { id: "f-to", name: "to", inputmode: "numeric", pattern: "\\d{4}", maxlength: "10", value: st.to, placeholder: known.at(-1) || "" }),
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
    field.addEventListener("change", () => {
      if (!st.q) return;
      const next = { ...readFilters(filters, st), page: 1 };
      if (field.name === "organisation") next.auto = field.value ? "" : "0";
      go(next);
    });
  }
}

addEventListener("popstate", render);
render();
