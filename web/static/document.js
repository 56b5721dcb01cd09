// The document view: metadata, the text with its items (§) and section headings, and the cited span
// (?start=&end=) highlighted and scrolled into view. All document text is inserted as text nodes.
import { api, badge, el, header, t, valueLabel, where } from "./common.js";

function docId() {
  return decodeURIComponent(location.pathname.replace(/^\/documents\//, ""));
}

function cited() {
  const p = new URLSearchParams(location.search);
  const start = parseInt(p.get("start"), 10);
  const end = parseInt(p.get("end"), 10);
  return Number.isInteger(start) && Number.isInteger(end) && start < end ? { start, end } : null;
}

let markedOnce = false; // the first piece of the cited span carries id="cited"

let hidden = []; // spans of markdown markup, not shown (offsets stay those of the source)

// The text of [from, to) as nodes: section heading lines in bold, the cited span in <mark>, markup left out.
function pieces(text, from, to, headings, span) {
  const cuts = new Set([from, to]);
  for (const h of hidden) { if (h.end > from && h.start < to) { cuts.add(Math.max(from, h.start)); cuts.add(Math.min(to, h.end)); } }
  for (const h of headings) { cuts.add(Math.max(from, Math.min(to, h.start))); cuts.add(Math.max(from, Math.min(to, h.end))); }
  if (span) { cuts.add(Math.max(from, Math.min(to, span.start))); cuts.add(Math.max(from, Math.min(to, span.end))); }
  const points = [...cuts].sort((a, b) => a - b);
  const nodes = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    if (a >= b) continue;
    if (hidden.some((h) => h.start <= a && b <= h.end)) continue;
    let node = document.createTextNode(text.slice(a, b));
    if (headings.some((h) => h.start <= a && b <= h.end)) node = el("span", { class: "section-heading" }, node);
    if (span && span.start <= a && b <= span.end) {
      node = el("mark", { id: markedOnce ? null : "cited" }, node);
      markedOnce = true;
    }
    nodes.push(node);
  }
  return nodes;
}

async function render() {
  const app = document.getElementById("app");
  const main = el("main", { id: "main", tabindex: "-1" });
  app.replaceChildren(header(""), main);
  let doc;
  try {
    doc = await api(`/api/documents/${encodeURIComponent(docId())}`);
  } catch (error) {
    main.append(el("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  hidden = doc.markup || [];
  const title = doc.repaired_title || doc.display_title || doc.title || doc.id;
  document.title = title;
  const span = cited();
  const text = doc.text;
  // each section heading is its first line
  const headings = doc.items.flatMap((item) => item.sections.map((s) => {
    const lineEnd = text.indexOf("\n", s.start);
    return { start: s.start, end: lineEnd < 0 || lineEnd > s.end ? s.end : lineEnd, heading: s.heading };
  }));
  const body = el("div", { class: "text" });
  let at = 0;
  const toc = el("ul", {});
  doc.items.forEach((item, i) => {
    if (item.start > at) body.append(...pieces(text, at, item.start, headings, span));
    const id = `item-${i + 1}`;
    const label = [item.paragraph, item.display_title || item.title].filter(Boolean).join(" ") || title;
    const sections = el("ul", {}, item.sections.map((s, j) => {
      const anchor = `${id}-s${j + 1}`;
      return el("li", {}, el("a", { href: `#${anchor}` }, s.heading));
    }));
    toc.append(el("li", {}, el("a", { href: `#${id}` }, label), item.sections.length ? sections : null));
    const block = el("section", { id, "aria-label": label },
      el("h2", { class: "item" }, label, badge(item.outcome)),
      el("div", { class: "meta" }, where(item)),
    );
    const content = el("div", { class: "text" }, ...pieces(text, item.start, item.end, headings, span));
    item.sections.forEach((s, j) => {
      // an anchor for each section, placed at its heading
      const target = [...content.querySelectorAll(".section-heading")].find((n) => n.textContent.trim() && text.startsWith(n.textContent, s.start));
      if (target) target.id = `${id}-s${j + 1}`;
    });
    block.append(content);
    body.append(block);
    at = item.end;
  });
  if (at < text.length) body.append(...pieces(text, at, text.length, headings, span));
  const meta = el("dl", { class: "meta" },
    el("dt", {}, t("organisation")), el("dd", {}, doc.organisation || "–"),
    el("dt", {}, t("body")), el("dd", {}, doc.body || "–"),
    el("dt", {}, t("date")), el("dd", {}, doc.date || "–"),
    el("dt", {}, t("doc_type")), el("dd", {}, valueLabel("doc_type", doc.doc_type)),
  );
  const ocrNote = doc.ocr ? el("p", { class: "ocr-note" }, t("ocr"),
    doc.repaired_title && doc.title ? el("span", { class: "original" }, ` ${t("original")}: ${doc.display_title || doc.title}`) : null) : null;
  main.append(...[
    el("h1", {}, title),
    ocrNote,
    el("div", { class: "doc-layout" },
      el("nav", { class: "toc", "aria-label": t("items") }, el("h2", {}, t("items")), toc, meta),
      el("article", { class: "document" }, body),
    ),
  ].filter(Boolean));
  const mark = document.getElementById("cited");
  if (mark) {
    mark.setAttribute("tabindex", "-1");
    mark.setAttribute("aria-label", t("citedPassage"));
    mark.scrollIntoView({ block: "center" });
    mark.focus({ preventScroll: true });
  }
}

render();
