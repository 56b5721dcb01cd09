// Shared by the pages: the interface language, element building (text is always inserted as
// text, never as HTML), API calls with readable errors, and highlighted spans.

const STRINGS = {
  sv: {
    search: "Sök", searchLabel: "Sök i beslut och riktlinjer om AI", placeholder: "t.ex. Vad beslutade kommunen om AI i skolan?",
    organisation: "Organisation", body: "Organ", year: "År", from: "Från år", to: "Till år", doc_type: "Dokumenttyp",
    outcome: "Beslut", all: "Alla", results: (n) => `${n} träffar`, noResults: "Inga träffar.",
    groupsFound: (n, d) => `${n} ${n === 1 ? "träff" : "träffar"} i ${d} ${d === 1 ? "dokument" : "dokument"}`,
    page: "Sida", previous: "Föregående", next: "Nästa", openDocument: "Öppna dokumentet", loading: "Söker …",
    error: "Något gick fel", precedentTitle: "Prejudikat: hur andra beslutat", precedentLabel: "Ärende att jämföra",
    precedentPlaceholder: "t.ex. Ska kommunen ta fram en AI-strategi?", decisiveSentence: "Avgörande mening",
    date: "Datum", paragraph: "Paragraf", dnr: "Diarienummer", exportCsv: "Exportera CSV (Excel)", noDecisions: "Inga beslut hittades.",
    decisions: (n) => `${n} beslut`, language: "English", items: "Innehåll", searchNav: "Sök", precedentNav: "Prejudikat",
    citedPassage: "Citerat stycke", documentTitle: "Dokument", filterOutcome: "Visa beslut",
    filters: "Filter", resultsLabel: "Sökresultat", brand: "AI-beslut", mainMenu: "Huvudmeny", skip: "Hoppa till innehållet",
    limit: (n) => `Högst ${n} tecken`, limitLeft: (left, n) => `${left} av ${n} tecken kvar`,
    moreInItem: (n) => `${n} fler träffar i samma §`, moreInDocument: (n) => `${n} fler träffar i samma dokument`,
    fromQuery: "Från frågan", removeFilter: (v) => `Ta bort filtret ${v}`, activeFilters: "Aktiva filter",
    showFilters: "Visa filter", hideFilters: "Dölj filter",
    answerHeading: "Svar ur dokumenten", abstainHeading: "Inget säkert svar", answering: "Letar efter ett svar …",
    sources: "Källor", related: "Läs mer", confidence: "Säkerhet",
    coverTitle: "Det här kan du söka i", coverDocs: (d, o) => `${d} dokument från ${o} organisationer`,
    coverYears: (a, b) => (a === b ? `från ${a}` : `från ${a} till ${b}`), examples: "Exempel på frågor",
    emptyNoWords: "Frågan innehåller inga ord att söka på, bara småord eller tecken.",
    emptyUnknownWords: (w) => `Inget dokument innehåller ${w}.`,
    emptyUnknownPlace: (p) => `Inget dokument kommer från eller nämner ${p}.`,
    emptyUnknownDnr: (d) => `Inget ärende har diarienummer ${d}.`,
    emptyFilters: "Inget med de valda filtren matchar.",
    suggestions: "Förslag", suggestWords: "Pröva andra eller färre ord, eller ett av exemplen nedan.",
    suggestWithout: (w) => `Sök utan ”${w}”`, suggestOrganisations: "Organisationer som finns:",
    suggestClear: "Ta bort alla filter", suggestDnr: "Kontrollera numret, eller sök på ärendets rubrik.",
    sort: { ascending: "stigande", descending: "fallande", none: "osorterad" }, sortBy: (c) => `Sortera efter ${c}`,
    ocr: "Inläst från skannat papper: texten kan innehålla lästfel.", untitled: "Dokument utan rubrik",
    signIn: "Logga in (personal)", signOut: "Logga ut", signedInAs: (n) => `Inloggad: ${n}`, matter: "Ärende", link: "Länk", ocrBadge: "skannad text", readAs: "Läst som", original: "Rubriken i originalet", passage: "Stycke", facetCount: (n, d) => `${n} i ${d} dok.`, csvName: "prejudikat.csv",
  },
  en: {
    search: "Search", searchLabel: "Search decisions and guidelines on AI", placeholder: "e.g. What did the municipality decide about AI in schools?",
    organisation: "Organisation", body: "Body", year: "Year", from: "From year", to: "To year", doc_type: "Document type",
    outcome: "Decision", all: "All", results: (n) => `${n} results`, noResults: "No results.",
    groupsFound: (n, d) => `${n} ${n === 1 ? "result" : "results"} in ${d} ${d === 1 ? "document" : "documents"}`,
    page: "Page", previous: "Previous", next: "Next", openDocument: "Open the document", loading: "Searching …",
    error: "Something went wrong", precedentTitle: "Precedent: how others decided", precedentLabel: "Matter to compare",
    precedentPlaceholder: "e.g. Should the municipality adopt an AI strategy?", decisiveSentence: "Decisive sentence",
    date: "Date", paragraph: "Paragraph", dnr: "Case number", exportCsv: "Export CSV (Excel)", noDecisions: "No decisions found.",
    decisions: (n) => `${n} decisions`, language: "Svenska", items: "Contents", searchNav: "Search", precedentNav: "Precedent",
    citedPassage: "Cited passage", documentTitle: "Document", filterOutcome: "Show decisions",
    filters: "Filters", resultsLabel: "Search results", brand: "AI decisions", mainMenu: "Main menu", skip: "Skip to content",
    limit: (n) => `At most ${n} characters`, limitLeft: (left, n) => `${left} of ${n} characters left`,
    moreInItem: (n) => `${n} more results in the same §`, moreInDocument: (n) => `${n} more results in the same document`,
    fromQuery: "From the question", removeFilter: (v) => `Remove the filter ${v}`, activeFilters: "Active filters",
    showFilters: "Show filters", hideFilters: "Hide filters",
    answerHeading: "Answer from the documents", abstainHeading: "No certain answer", answering: "Looking for an answer …",
    sources: "Sources", related: "Read more", confidence: "Confidence",
    coverTitle: "What you can search", coverDocs: (d, o) => `${d} documents from ${o} organisations`,
    coverYears: (a, b) => (a === b ? `from ${a}` : `from ${a} to ${b}`), examples: "Example questions",
    emptyNoWords: "The question has no words to search for, only small words or symbols.",
    emptyUnknownWords: (w) => `No document contains ${w}.`,
    emptyUnknownPlace: (p) => `No document is from or mentions ${p}.`,
    emptyUnknownDnr: (d) => `No matter has case number ${d}.`,
    emptyFilters: "Nothing matches the selected filters.",
    suggestions: "Suggestions", suggestWords: "Try other or fewer words, or one of the examples below.",
    suggestWithout: (w) => `Search without “${w}”`, suggestOrganisations: "Organisations there are:",
    suggestClear: "Remove all filters", suggestDnr: "Check the number, or search for the matter's title.",
    sort: { ascending: "ascending", descending: "descending", none: "not sorted" }, sortBy: (c) => `Sort by ${c}`,
    ocr: "Read from scanned paper: the text may contain misreadings.", untitled: "Untitled document",
    signIn: "Sign in (staff)", signOut: "Sign out", signedInAs: (n) => `Signed in: ${n}`, matter: "Matter", link: "Link", ocrBadge: "scanned text", readAs: "Read as", original: "The title in the original", passage: "Passage", facetCount: (n, d) => `${n} in ${d} doc.`, csvName: "precedent.csv",
  },
};

// Example questions for the start states (the widget has its own copy).
export const EXAMPLES = {
  sv: ["Vad beslutade kommunfullmäktige om en AI-strategi?", "Får anställda använda generativ AI?", "Hur ofta ska AI-arbetet följas upp?"],
  en: ["What did the council decide about an AI strategy?", "May employees use generative AI?", "How often must the AI work be followed up?"],
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

// What the API's errors mean, in the page's language: chosen by the field the error names (the last
// element of its "loc") and its type, or by the HTTP status; the API's own English text is never shown.
const ERRORS = {
  sv: {
    tooLong: (n) => `Frågan är för lång: högst ${n} tecken. Korta den.`,
    empty: "Skriv en fråga eller några sökord.",
    date: "Året skrivs med fyra siffror, t.ex. 2024 (eller ÅÅÅÅ-MM-DD).",
    value: (field) => `Det finns inget dokument med det värdet för ${field}. Välj ett värde i listan.`,
    range: "Den sidan finns inte. Gå tillbaka till första sidan.",
    span: "Stället i dokumentet finns inte. Öppna dokumentet från början.",
    notFound: "Dokumentet finns inte. Det kan ha tagits bort; sök efter det igen.",
    tooBig: "Det du skickade är för stort. Korta frågan.",
    tooMany: (s) => `För många frågor på kort tid. Vänta ${s} sekunder och försök igen.`,
    auth: "Inloggningen gäller inte längre. Logga in igen eller ladda om sidan.",
    notReady: "Sökindexet byggs just nu. Försök igen om en stund.",
    server: "Något gick fel på servern. Försök igen om en stund.",
    network: "Servern svarar inte. Kontrollera anslutningen och försök igen.",
  },
  en: {
    tooLong: (n) => `The question is too long: at most ${n} characters. Shorten it.`,
    empty: "Write a question or a few words to search for.",
    date: "Write the year with four digits, e.g. 2024 (or YYYY-MM-DD).",
    value: (field) => `No document has that value for ${field}. Pick a value from the list.`,
    range: "That page does not exist. Go back to the first page.",
    span: "That place in the document does not exist. Open the document from the start.",
    notFound: "The document does not exist. It may have been removed; search for it again.",
    tooBig: "What you sent is too large. Shorten the question.",
    tooMany: (s) => `Too many questions in a short time. Wait ${s} seconds and try again.`,
    auth: "Your sign-in is no longer valid. Sign in again or reload the page.",
    notReady: "The search index is being built. Try again in a moment.",
    server: "Something went wrong on the server. Try again in a moment.",
    network: "The server does not answer. Check the connection and try again.",
  },
};

const FIELD_LABEL = { organisation: "organisation", body: "body", type: "doc_type", doc_type: "doc_type", outcome: "outcome" };

export let questionLimit = 1000; // replaced by the server's limit (limits())

// The server's limits and what the index covers (/api/stats), fetched once per page.
let statsPromise = null;
export function stats() {
  statsPromise ??= api("/api/stats").then((body) => { questionLimit = body.max_question_chars; return body; });
  return statsPromise;
}

// One readable sentence for a failed API call: {status, detail, retryAfter}.
export function errorMessage(status, detail, retryAfter) {
  const m = ERRORS[lang()];
  if (status === 0) return m.network;
  if (status === 422) {
    const first = Array.isArray(detail) ? detail[0] || {} : {};
    const loc = Array.isArray(first.loc) ? first.loc.filter((x) => typeof x === "string") : [];
    const field = loc.at(-1) || "";
    const kind = first.type || "";
    if (field === "q" || field === "question") {
      if (kind === "string_too_long" || /long/i.test(first.msg || "")) return m.tooLong(questionLimit);
      return m.empty;
    }
    if (field === "from" || field === "to" || field === "date_from" || field === "date_to") return m.date;
    if (FIELD_LABEL[field]) return m.value(t(FIELD_LABEL[field]).toLowerCase());
    if (field === "page" || field === "k") return m.range;
    if (field === "start" || field === "end" || field === "context") return m.span;
    return m.empty;
  }
  if (status === 404) return m.notFound;
  if (status === 413) return m.tooBig;
  if (status === 429) return m.tooMany(retryAfter || 60);
  if (status === 401 || status === 403) return m.auth;
  if (status === 503) return m.notReady;
  return m.server;
}

export class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(errorMessage(status, detail, retryAfter));
    this.status = status;
    this.detail = detail;
  }
}

export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (_) {
    throw new ApiError(0, null, null);
  }
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) throw new ApiError(response.status, body && body.detail, response.headers.get("retry-after"));
  return body;
}

// A question input with the server's length limit set and stated beside it ("högst 1000 tecken").
export function limitHint(input, id) {
  const hint = el("span", { class: "hint", id }, t("limit", questionLimit));
  input.setAttribute("maxlength", String(questionLimit));
  input.setAttribute("aria-describedby", id);
  const update = () => {
    const left = questionLimit - input.value.length;
    hint.textContent = left < 100 ? t("limitLeft", left, questionLimit) : t("limit", questionLimit);
  };
  input.addEventListener("input", update);
  update();
  return hint;
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
  const nav = el("nav", { "aria-label": t("mainMenu") },
    el("a", { href: withLang("/"), "aria-current": active === "search" ? "page" : null }, t("searchNav")),
    el("a", { href: withLang("/precedent"), "aria-current": active === "precedent" ? "page" : null }, t("precedentNav")),
  );
  document.documentElement.lang = lang();
  const skip = el("a", { class: "skip", href: "#main" }, t("skip"));
  const account = el("span", { class: "account" });
  fillAccount(account);
  return el("div", {}, skip, el("header", { class: "site" }, el("span", { class: "brand" }, t("brand")), nav, account, languageToggle()));
}

// Staff sign-in (OpenID Connect), when the server has it: a sign-in link, or who is signed in and sign-out.
async function fillAccount(holder) {
  let state;
  try { state = await api("/auth/session"); } catch (_) { return; }
  if (!state.enabled) return;
  const here = location.pathname + location.search;
  if (state.signed_in) {
    holder.replaceChildren(el("span", { class: "who" }, t("signedInAs", state.name)), " ",
      el("a", { href: "/auth/logout", class: "sign-out" }, t("signOut")));
  } else {
    holder.replaceChildren(el("a", { href: `/auth/login?${new URLSearchParams({ next: here })}`, class: "sign-in" }, t("signIn")));
  }
}

export function withLang(path) {
  return lang() === "sv" ? path : `${path}${path.includes("?") ? "&" : "?"}lang=${lang()}`;
}

const OUTCOME_LABELS = {
  sv: { bifall: "bifall", avslag: "avslag", besvarad: "besvarad", återremiss: "återremiss", "ingen åtgärd": "ingen åtgärd",
    uppdrag: "uppdrag", noterad: "noterad", bordlagd: "bordlagd", val: "val", other: "annat beslut" },
  en: { bifall: "approved", avslag: "rejected", besvarad: "answered", återremiss: "referred back", "ingen åtgärd": "no action",
    uppdrag: "assignment", noterad: "noted", bordlagd: "postponed", val: "election", other: "other decision" },
};

const TYPE_LABELS = {
  sv: {},
  en: { protokoll: "minutes", riktlinje: "guideline", motion: "motion", tjänsteskrivelse: "officer's report",
    policy: "policy", strategi: "strategy", rapport: "report", beslut: "decision", promemoria: "memorandum", dokument: "document" },
};

// A value of a facet as people read it in the page's language (the value itself stays in URLs).
export function valueLabel(facet, value) {
  if (facet === "outcome") return OUTCOME_LABELS[lang()][value] ?? value;
  if (facet === "doc_type" || facet === "type") return TYPE_LABELS[lang()][value] ?? value;
  return value;
}

export function badge(outcome) {
  return outcome ? el("span", { class: `badge ${outcome.replace(/ /g, "-")}` }, valueLabel("outcome", outcome)) : null;
}
