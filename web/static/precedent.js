// The coordinators' precedent view: one row per decision (organisation, body, date, §, outcome,
// decisive sentence linking to the document), sortable, filterable by outcome, exportable as CSV.
import { api, documentUrl, el, header, t } from "./common.js";

const COLUMNS = [
  ["organisation", () => t("organisation")],
  ["body", () => t("body")],
  ["date", () => t("date")],
  ["paragraph", () => t("paragraph")],
  ["outcome", () => t("outcome")],
  ["quote", () => t("decisiveSentence")],
];

let rows = [];
let sortKey = null;
let sortDir = 1;

function value(row, key) {
  return key === "quote" ? row.citation.quote : row[key] || "";
}

function csv(list) {
  const cell = (v) => `"${String(v ?? "").replace(/"/g, '""')}"`;
  const head = ["organisation", "body", "date", "paragraph", "dnr", "outcome", "decisive_sentence", "document", "start", "end"];
  const lines = list.map((r) => [r.organisation, r.body, r.date, r.paragraph, r.dnr, r.outcome, r.citation.quote,
    r.citation.doc, r.citation.start, r.citation.end].map(cell).join(","));
  return [head.map(cell).join(","), ...lines].join("\r\n") + "\r\n";
}

function table(list, refresh) {
  const headRow = el("tr", {}, COLUMNS.map(([key, label]) => {
    const button = el("button", { type: "button" }, label());
    button.addEventListener("click", () => {
      sortDir = sortKey === key ? -sortDir : 1;
      sortKey = key;
      refresh();
    });
    const sort = sortKey === key ? (sortDir > 0 ? "ascending" : "descending") : "none";
    return el("th", { scope: "col", "aria-sort": sort }, button);
  }));
  const body = el("tbody", {}, list.map((r) => el("tr", {},
    el("td", {}, r.organisation || "–"),
    el("td", {}, r.body || "–"),
    el("td", {}, r.date || "–"),
    el("td", {}, [r.paragraph, r.dnr ? `Dnr ${r.dnr}` : null].filter(Boolean).join(" · ") || "–"),
    el("td", {}, r.outcome ? el("span", { class: `badge ${r.outcome.replace(/ /g, "-")}` }, r.outcome) : "–"),
    el("td", {}, el("a", { href: documentUrl(r.citation.doc, r.citation.start, r.citation.end) }, r.citation.quote)),
  )));
  return el("table", { class: "precedent" }, el("thead", {}, headRow), body);
}

async function render() {
  const app = document.getElementById("app");
  const q = new URLSearchParams(location.search).get("q") || "";
  const input = el("input", { type: "search", name: "q", value: q, placeholder: t("precedentPlaceholder"), "aria-label": t("precedentLabel") });
  const form = el("form", { class: "query" }, input, el("button", { class: "primary", type: "submit" }, t("search")));
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const holder = el("div", {});
  const toolbar = el("div", { class: "toolbar" });
  app.replaceChildren(header("precedent"), el("main", {}, el("h1", {}, t("precedentTitle")), form, status, toolbar, holder));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(location.href);
    url.searchParams.set("q", input.value.trim());
    history.pushState(null, "", url);
    render();
  });
  if (!q) return;
  status.textContent = t("loading");
  try {
    rows = (await api(`/api/precedent?${new URLSearchParams({ q })}`)).decisions;
  } catch (error) {
    status.textContent = error.message;
    return;
  }
  const outcomes = [...new Set(rows.map((r) => r.outcome).filter(Boolean))].sort();
  const filter = el("select", { id: "outcome-filter" }, el("option", { value: "" }, t("all")),
    outcomes.map((o) => el("option", { value: o }, o)));
  const exportButton = el("button", { type: "button" }, t("exportCsv"));
  toolbar.replaceChildren(el("label", { for: "outcome-filter" }, t("filterOutcome")), filter, exportButton);
  const shown = () => {
    let list = rows.filter((r) => !filter.value || r.outcome === filter.value);
    if (sortKey) list = [...list].sort((a, b) => value(a, sortKey).localeCompare(value(b, sortKey), "sv") * sortDir);
    return list;
  };
  const refresh = () => {
    const list = shown();
    status.textContent = list.length ? t("decisions", list.length) : t("noDecisions");
    holder.replaceChildren(list.length ? table(list, refresh) : "");
  };
  filter.addEventListener("change", refresh);
  exportButton.addEventListener("click", () => {
    const blob = new Blob([csv(shown())], { type: "text/csv;charset=utf-8" });
    const link = el("a", { href: URL.createObjectURL(blob), download: "prejudikat.csv" });
    document.body.append(link);
    link.click();
    link.remove();
  });
  refresh();
}

addEventListener("popstate", render);
render();
