// Shared by the pages: the interface language, element building (text is always inserted as
// text, never as HTML), API calls with readable errors, and highlighted spans.

const STRINGS = {
  sv: {
    search: "Sök", searchLabel: "Sök i beslut och riktlinjer om AI", placeholder: "t.ex. Vad beslutade kommunen om AI i skolan?",
    organisation: "Organisation", body: "Organ", year: "År", from: "Från år", to: "Till år", doc_type: "Dokumenttyp",
    outcome: "Beslut", all: "Alla", results: (n) => `${n} träffar`, noResults: "Inga träffar. Pröva andra ord eller färre filter.",
    page: "Sida", previous: "Föregående", next: "Nästa", openDocument: "Öppna dokumentet", loading: "Söker …",
    error: "Något gick fel", precedentTitle: "Prejudikat: hur andra beslutat", precedentLabel: "Ärende att jämföra",
    precedentPlaceholder: "t.ex. Ska kommunen ta fram en AI-strategi?", decisiveSentence: "Avgörande mening",
    date: "Datum", paragraph: "§", dnr: "Dnr", exportCsv: "Exportera CSV", noDecisions: "Inga beslut hittades.",
    decisions: (n) => `${n} beslut`, language: "English", items: "Innehåll", searchNav: "Sök", precedentNav: "Prejudikat",
    citedPassage: "Citerat stycke", documentTitle: "Dokument", filterOutcome: "Visa beslut",
    filters: "Filter", resultsLabel: "Sökresultat",
  },
  en: {
    search: "Search", searchLabel: "Search decisions and guidelines on AI", placeholder: "e.g. What did the municipality decide about AI in schools?",
    organisation: "Organisation", body: "Body", year: "Year", from: "From year", to: "To year", doc_type: "Document type",
    outcome: "Decision", all: "All", results: (n) => `${n} results`, noResults: "No results. Try other words or fewer filters.",
    page: "Page", previous: "Previous", next: "Next", openDocument: "Open the document", loading: "Searching …",
    error: "Something went wrong", precedentTitle: "Precedent: how others decided", precedentLabel: "Matter to compare",
    precedentPlaceholder: "e.g. Should the municipality adopt an AI strategy?", decisiveSentence: "Decisive sentence",
    date: "Date", paragraph: "§", dnr: "Case no.", exportCsv: "Export CSV", noDecisions: "No decisions found.",
    decisions: (n) => `${n} decisions`, language: "Svenska", items: "Contents", searchNav: "Search", precedentNav: "Precedent",
    citedPassage: "Cited passage", documentTitle: "Document", filterOutcome: "Show decisions",
    filters: "Filters", resultsLabel: "Search results",
  },
};

export function lang() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl === "sv" || fromUrl === "en") return fromUrl;
  try {
    const stored = localStorage.getItem("rag-lang");
    if (stored === "sv" || stored === "en") return stored;
  } catch (_) { /* storage can be off */ }
  return "sv";
}

export function t(key, ...args) {
  const value = STRINGS[lang()][key] ?? STRINGS.sv[key] ?? key;
  return typeof value === "function" ? value(...args) : value;
}

// A button that switches the interface language and reloads the page in it.
export function languageToggle() {
  const button = el("button", { type: "button", class: "lang-toggle", lang: lang() === "sv" ? "en" : "sv" }, t("language"));
  button.addEventListener("click", () => {
    const next = lang() === "sv" ? "en" : "sv";
    try { localStorage.setItem("rag-lang", next); } catch (_) { /* storage can be off */ }
    const url = new URL(location.href);
    url.searchParams.set("lang", next);
    location.assign(url);
  });
  return button;
}

// el("a", {href: "/x", class: "c"}, "text", otherNode): children that are strings become text nodes.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const detail = body && body.detail;
    const message = Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : detail || response.statusText;
    throw new Error(`${t("error")}: ${message}`);
  }
  return body;
}

// `text` (which starts at document offset `offset`) as nodes, with the spans in `marks` (document
// offsets) wrapped in <mark>. Text nodes only: document text can never become markup.
export function marked(text, offset, marks) {
  const nodes = [];
  let at = 0;
  const sorted = [...marks].sort((a, b) => a.start - b.start);
  for (const m of sorted) {
    const s = Math.max(m.start - offset, at);
    const e = Math.min(m.end - offset, text.length);
    if (e <= s) continue;
    if (s > at) nodes.push(document.createTextNode(text.slice(at, s)));
    nodes.push(el("mark", {}, text.slice(s, e)));
    at = e;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

export function where(item) {
  return [item.organisation, item.body, item.date, item.paragraph, item.dnr ? `Dnr ${item.dnr}` : null]
    .filter(Boolean).join(" · ");
}

export function documentUrl(doc, start, end) {
  const url = new URL(`/documents/${encodeURIComponent(doc)}`, location.origin);
  if (start !== undefined && end !== undefined) {
    url.searchParams.set("start", start);
    url.searchParams.set("end", end);
  }
  if (lang() !== "sv") url.searchParams.set("lang", lang());
  return url.pathname + url.search;
}

export function header(active) {
  const nav = el("nav", { "aria-label": "Huvudmeny" },
    el("a", { href: "/", "aria-current": active === "search" ? "page" : null }, t("searchNav")),
    el("a", { href: "/precedent", "aria-current": active === "precedent" ? "page" : null }, t("precedentNav")),
  );
  document.documentElement.lang = lang();
  return el("header", { class: "site" }, el("span", { class: "brand" }, "AI-beslut"), nav, languageToggle());
}
