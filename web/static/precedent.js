// The coordinators' precedent view: one row per decision (organisation, body, date, §, outcome,
// decisive sentence linking to the document), sortable (the sort is in the URL), filterable by
// outcome, exportable as CSV for Swedish Excel. On a phone each row is a card with labelled fields.
import { api, badge, documentUrl, el, header, limitHint, stats, t, valueLabel } from "./common.js";

const COLUMNS = [
  ["organisation", () => t("organisation")],
  ["body", () => t("body")],
  ["date", () => t("date")],
  ["paragraph", () => t("paragraph")],
  ["outcome", () => t("outcome")],
  ["quote", () => t("decisiveSentence")],
];
const ARROW = { ascending: "▲", descending: "▼", none: "↕" };

function params() {
  const p = new URLSearchParams(location.search);
  const sort = COLUMNS.some(([key]) => key === p.get("sort")) ? p.get("sort") : null;
  return { q: p.get("q") || "", sort, dir: p.get("dir") === "desc" ? -1 : 1, outcome: p.get("outcome") || "" };
}

function setParams(changes) {
  const url = new URL(location.href);
  for (const [key, value] of Object.entries(changes)) {
    if (value) url.searchParams.set(key, value); else url.searchParams.delete(key);
  }
  history.replaceState(null, "", url);
}

function shownText(row) {
  return row.citation.display ?? row.citation.quote;
}

function value(row, key) {
  return key === "quote" ? shownText(row) : row[key] || "";
}

// A CSV cell for Excel: quoted, on one line, and never read as a formula.
function cell(v) {
  let text = String(v ?? "").replace(/\s+/g, " ").trim();
  if (/^[=+@\t\r]|^-(?!\s)/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

// The rows as Swedish Excel opens them: UTF-8 with a byte-order mark, semicolons, headers in the
// page's language, one line per decision with a link to the cited place in the document.
export function csv(list) {
  const head = [t("organisation"), t("body"), t("date"), t("paragraph"), t("dnr"), t("outcome"), t("matter"),
    t("decisiveSentence"), t("link")];
  const lines = list.map((r) => [r.organisation, r.body, r.date, r.paragraph, r.dnr, valueLabel("outcome", r.outcome),
    r.display_title || r.title, shownText(r), new URL(documentUrl(r.citation.doc, r.citation.start, r.citation.end), location.origin).href]
    .map(cell).join(";"));
  return "\ufeff" + [head.map(cell).join(";"), ...lines].join("\r\n") + "\r\n";
}

function table(list, st, refresh) {
  const headRow = el("tr", {}, COLUMNS.map(([key, label]) => {
    const sort = st.sort === key ? (st.dir > 0 ? "ascending" : "descending") : "none";
    const button = el("button", { type: "button", class: "sort", "aria-label": `${label()}, ${t("sort")[sort]}` },
      label(), el("span", { class: "arrow", "aria-hidden": "true" }, ARROW[sort]));
    button.addEventListener("click", () => {
      const dir = st.sort === key && st.dir > 0 ? "desc" : null;
      setParams({ sort: key, dir });
      refresh(key);
    });
    return el("th", { scope: "col", "aria-sort": sort }, button);
  }));
  const labelled = (key, ...content) => el("td", { "data-label": COLUMNS.find(([k]) => k === key)[1]() }, ...content);
  const body = el("tbody", {}, list.map((r) => el("tr", {},
    labelled("organisation", r.organisation || "–"),
    labelled("body", r.body || "–"),
    labelled("date", r.date || "–"),
    labelled("paragraph", [r.paragraph, r.dnr ? `Dnr ${r.dnr}` : null].filter(Boolean).join(" · ") || "–"),
    labelled("outcome", badge(r.outcome) || "–"),
    labelled("quote", el("a", { href: documentUrl(r.citation.doc, r.citation.start, r.citation.end) }, shownText(r))),
  )));
  return el("table", { class: "precedent" }, el("thead", {}, headRow), body);
}

async function render() {
  await stats().catch(() => null);
  const app = document.getElementById("app");
  const st = params();
  const input = el("input", { type: "search", name: "q", id: "q", value: st.q, placeholder: t("precedentPlaceholder"), "aria-label": t("precedentLabel") });
  const hint = limitHint(input, "q-limit");
  const form = el("form", { class: "query" }, el("div", { class: "field" }, input, hint), el("button", { class: "primary", type: "submit" }, t("search")));
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const holder = el("div", {});
  const toolbar = el("div", { class: "toolbar" });
  app.replaceChildren(header("precedent"), el("main", { id: "main", tabindex: "-1" }, el("h1", {}, t("precedentTitle")), form, status, toolbar, holder));
  document.title = t("precedentTitle");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(location.href);
    url.searchParams.set("q", input.value.trim());
    history.pushState(null, "", url);
    render();
  });
  if (!st.q) return;
  status.textContent = t("loading");
  let rows;
  try {
    rows = (await api(`/api/precedent?${new URLSearchParams({ q: st.q })}`)).decisions;
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
    return;
  }
  const outcomes = [...new Set(rows.map((r) => r.outcome).filter(Boolean))].sort();
  const filter = el("select", { id: "outcome-filter" }, el("option", { value: "" }, t("all")),
    outcomes.map((o) => el("option", { value: o, selected: o === st.outcome }, valueLabel("outcome", o))));
  const exportButton = el("button", { type: "button", class: "secondary" }, t("exportCsv"));
  toolbar.replaceChildren(el("label", { for: "outcome-filter" }, t("filterOutcome")), filter, exportButton);
  const shown = () => {
    const now = params();
    let list = rows.filter((r) => !filter.value || r.outcome === filter.value);
    if (now.sort) list = [...list].sort((a, b) => value(a, now.sort).localeCompare(value(b, now.sort), "sv") * now.dir);
    return list;
  };
  const refresh = (focusKey) => {
    const list = shown();
    status.textContent = list.length ? t("decisions", list.length) : t("noDecisions");
    holder.replaceChildren(list.length ? table(list, params(), refresh) : "");
    if (focusKey) holder.querySelectorAll("th button")[COLUMNS.findIndex(([k]) => k === focusKey)]?.focus();
  };
  filter.addEventListener("change", () => { setParams({ outcome: filter.value }); refresh(); });
  exportButton.addEventListener("click", () => {
    const blob = new Blob([csv(shown())], { type: "text/csv;charset=utf-8" });
    const link = el("a", { href: URL.createObjectURL(blob), download: t("csvName") });
    document.body.append(link);
    link.click();
    link.remove();
  });
  refresh();
}

addEventListener("popstate", render);
render();
