/* The chat widget for intranet pages. Embed with one tag:
 *   <script src="https://HOST/widget.js" data-api="https://HOST"></script>
 * A button opens a panel; answers show their [n] markers as links to citations, each citation
 * opens its passage in context. The conversation is sent as history, so follow-ups work.
 * Everything lives in a shadow root (the host page's styles do not leak in), and all text from
 * the API is inserted as text, never as HTML. Its styles are a constructed stylesheet, so a host
 * page whose Content-Security-Policy forbids inline styles shows it as designed.
 * data-token="..." sends a staff token (RAG_STAFF_TOKEN), so internal documents are answered from
 * too: put it only on pages that only staff can open, since anyone who can read the page can read it. */
(function () {
  "use strict";
  var script = document.currentScript;
  var API = ((script && script.dataset.api) || (script ? new URL(script.src, location.href).origin : "")).replace(/\/$/, "");
  var AUTH = script && script.dataset.token ? { Authorization: "Bearer " + script.dataset.token } : {};
  var STRINGS = {
    sv: {
      open: "Fråga om AI-beslut", title: "Fråga dokumenten om AI", close: "Stäng", send: "Skicka",
      label: "Din fråga", placeholder: "t.ex. Får jag använda Copilot för sekretessuppgifter?",
      thinking: "Söker svar …", noAnswer: "Dokumenten svarar inte på den här frågan.", related: "Relaterad läsning:",
      sources: "Källor", openDocument: "Öppna dokumentet", showPassage: "Visa stycket", hidePassage: "Dölj stycket",
      searched: "Sökte: ", error: "Något gick fel: ", language: "English", you: "Du", assistant: "Svar",
      starters: "Pröva att fråga:", limit: function (n) { return "Högst " + n + " tecken"; },
      examples: ["Vad beslutade kommunfullmäktige om en AI-strategi?", "Får anställda använda generativ AI?", "Hur ofta ska AI-arbetet följas upp?"],
      errTooLong: function (n) { return "Frågan är för lång: högst " + n + " tecken. Korta den."; },
      errEmpty: "Skriv en fråga.", errTooMany: function (s) { return "För många frågor på kort tid. Vänta " + s + " sekunder och försök igen."; },
      errAuth: "Inloggningen gäller inte längre. Logga in igen eller ladda om sidan.", errNotReady: "Sökindexet byggs just nu. Försök igen om en stund.",
      errServer: "Något gick fel på servern. Försök igen om en stund.", errNetwork: "Servern svarar inte. Kontrollera anslutningen och försök igen.",
      errNotFound: "Stycket finns inte längre. Ställ frågan igen.", errFilter: "Ett filter har ett värde som inget dokument har.",
    },
    en: {
      open: "Ask about AI decisions", title: "Ask the documents about AI", close: "Close", send: "Send",
      label: "Your question", placeholder: "e.g. May I use Copilot for confidential information?",
      thinking: "Looking for an answer …", noAnswer: "The documents do not answer this question.", related: "Related reading:",
      sources: "Sources", openDocument: "Open the document", showPassage: "Show the passage", hidePassage: "Hide the passage",
      searched: "Searched: ", error: "Something went wrong: ", language: "Svenska", you: "You", assistant: "Answer",
      starters: "Try asking:", limit: function (n) { return "At most " + n + " characters"; },
      examples: ["What did the council decide about an AI strategy?", "May employees use generative AI?", "How often must the AI work be followed up?"],
      errTooLong: function (n) { return "The question is too long: at most " + n + " characters. Shorten it."; },
      errEmpty: "Write a question.", errTooMany: function (s) { return "Too many questions in a short time. Wait " + s + " seconds and try again."; },
      errAuth: "Your sign-in is no longer valid. Sign in again or reload the page.", errNotReady: "The search index is being built. Try again in a moment.",
      errServer: "Something went wrong on the server. Try again in a moment.", errNetwork: "The server does not answer. Check the connection and try again.",
      errNotFound: "The passage no longer exists. Ask the question again.", errFilter: "A filter has a value no document has.",
    },
  };
  var lang = "sv";
  try { lang = localStorage.getItem("rag-lang") === "en" ? "en" : (script && script.dataset.lang === "en" ? "en" : "sv"); } catch (e) { /* storage off */ }
  function t(key) { return STRINGS[lang][key]; }
  var limit = 1000; // the server's RAG_MAX_QUESTION_CHARS, from /api/stats

  // A failed request as one sentence in the widget's language, from the status and the field the
  // API names; the API's own English text is never shown.
  function errorText(status, detail, retryAfter) {
    if (status === 0) return t("errNetwork");
    if (status === 422) {
      var first = Array.isArray(detail) && detail[0] ? detail[0] : {};
      var loc = (first.loc || []).filter(function (x) { return typeof x === "string"; });
      var field = loc[loc.length - 1] || "";
      if (field === "question") return /long/i.test(first.msg || "") || first.type === "string_too_long" ? t("errTooLong")(limit) : t("errEmpty");
      return t("errFilter");
    }
    if (status === 429) return t("errTooMany")(retryAfter || 60);
    if (status === 401 || status === 403) return t("errAuth");
    if (status === 404) return t("errNotFound");
    if (status === 503) return t("errNotReady");
    return t("errServer");
  }

  function request(url, options) {
    return fetch(url, options).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        if (!r.ok) { var e = new Error(errorText(r.status, body && body.detail, r.headers.get("retry-after"))); e.status = r.status; throw e; }
        return body;
      });
    }, function () { throw new Error(errorText(0)); });
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : String(value));
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      (Array.isArray(child) ? child : [child]).forEach(function (c) {
        node.append(c instanceof Node ? c : document.createTextNode(String(c)));
      });
    }
    return node;
  }

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }",
    ".launcher { min-height: 2.75rem; position: fixed; right: 1.2rem; bottom: 1.2rem; z-index: 2147483000; background: #0b5cad; color: #fff; border: 0; border-radius: 999px; padding: .8rem 1.2rem; font-size: 1rem; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); }",
    ".panel { position: fixed; right: 1.2rem; bottom: 4.8rem; z-index: 2147483000; width: min(28rem, calc(100vw - 2rem)); height: min(36rem, calc(100vh - 6.5rem)); background: #fff; color: #1d2329; border: 1px solid #c9d1d8; border-radius: 10px; display: flex; flex-direction: column; box-shadow: 0 8px 28px rgba(0,0,0,.25); }",
    ".panel[hidden] { display: none; }",
    "@media (max-width: 40rem) { .panel { inset: 0; right: 0; bottom: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; border: 0; } }",
    ".starters { margin: 0 0 .8rem; }",
    ".starters p { margin: 0 0 .4rem; color: #5b6670; font-size: .9rem; }",
    ".starters button { display: block; width: 100%; text-align: left; background: #fff; border: 1px solid #0b5cad; color: #0b5cad; border-radius: 8px; padding: .45rem .6rem; margin-bottom: .4rem; cursor: pointer; font: inherit; min-height: 2.25rem; }",
    ".hint { display: block; color: #5b6670; font-size: .8rem; padding: 0 .6rem .4rem; }",
    ".related-snippet { color: #1d2329; font-size: .85rem; margin: .1rem 0 0; }",
    "button:disabled { opacity: .6; cursor: progress; }",
    ".head { display: flex; align-items: center; gap: .5rem; padding: .6rem .8rem; border-bottom: 1px solid #e1e6ea; }",
    ".head h2 { font-size: 1rem; margin: 0; flex: 1; }",
    ".head button { background: none; border: 1px solid #6b7680; border-radius: 4px; padding: .15rem .5rem; cursor: pointer; font-size: .85rem; min-height: 1.75rem; min-width: 1.75rem; }",
    ".log { flex: 1; overflow-y: auto; padding: .8rem; line-height: 1.45; font-size: .95rem; }",
    ".turn { margin-bottom: 1rem; }",
    ".q { background: #eef4fb; border-radius: 8px; padding: .45rem .65rem; margin-left: 2rem; }",
    ".a { margin-top: .45rem; white-space: pre-wrap; }",
    ".marker { background: none; border: 0; color: #0b5cad; text-decoration: underline; cursor: pointer; padding: 0 .1em; font: inherit; }",
    ".sources { margin: .5rem 0 0; padding-left: 0; list-style: none; font-size: .85rem; }",
    ".sources li { border-left: 3px solid #c9d1d8; padding: .2rem .5rem; margin-bottom: .35rem; }",
    ".sources li.active { border-color: #0b5cad; background: #f4f8fc; }",
    ".cite { background: none; border: 0; padding: 0; color: #0b5cad; cursor: pointer; text-align: left; font: inherit; text-decoration: underline; }",
    ".passage { white-space: pre-wrap; background: #fafafa; border: 1px solid #e1e6ea; border-radius: 4px; padding: .4rem; margin-top: .3rem; font-family: Georgia, serif; }",
    "mark { background: #ffe58a; color: inherit; }",
    ".meta { color: #5b6670; font-size: .8rem; }",
    ".none { color: #6b5b00; font-weight: 600; }",
    "form { display: flex; gap: .4rem; padding: .6rem; border-top: 1px solid #e1e6ea; }",
    "textarea { flex: 1; resize: none; font-size: .95rem; padding: .45rem; border: 1px solid #6b7680; border-radius: 6px; height: 2.8rem; }",
    "form button { background: #0b5cad; color: #fff; border: 0; border-radius: 6px; padding: 0 .9rem; cursor: pointer; font-size: .95rem; }",
    ":focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }",
    ".sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }",
  ].join("\n");

  var host = el("div", { id: "rag-chat-widget" });
  var root = host.attachShadow({ mode: "open" });
  var history = [];
  var launcher, panel, log, input, form, title, closeButton, langButton, announcer, sendButton, hint, starters;

  // The interface strings in the current language; the conversation itself stays as it was.
  function label() {
    launcher.textContent = t("open");
    title.textContent = t("title");
    langButton.textContent = t("language");
    langButton.setAttribute("lang", lang === "sv" ? "en" : "sv");
    closeButton.setAttribute("aria-label", t("close"));
    input.setAttribute("aria-label", t("label"));
    input.setAttribute("placeholder", t("placeholder"));
    sendButton.textContent = t("send");
    host.setAttribute("lang", lang);
    hint.textContent = t("limit")(limit);
    input.setAttribute("maxlength", String(limit));
    if (starters) showStarters();
  }

  // Example questions as buttons while the conversation is empty.
  function showStarters() {
    if (history.length || log.querySelector(".turn")) { if (starters) { starters.remove(); starters = null; } return; }
    var box = el("div", { class: "starters" }, el("p", {}, t("starters")), t("examples").map(function (q) {
      var b = el("button", { type: "button" }, q);
      b.addEventListener("click", function () { ask(q); });
      return b;
    }));
    if (starters) starters.replaceWith(box); else log.prepend(box);
    starters = box;
  }

  function build() {
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(el("style", {}, CSS)); // older browsers; a strict style-src blocks this
    }
    launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "rag-panel" });
    title = el("h2", { id: "rag-title" });
    langButton = el("button", { type: "button" });
    closeButton = el("button", { type: "button" }, "✕");
    log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-labelledby": "rag-title" });
    announcer = el("div", { class: "sr", role: "status", "aria-live": "polite" });
    input = el("textarea", { id: "rag-question", rows: "2", maxlength: String(limit), "aria-describedby": "rag-limit" });
    sendButton = el("button", { type: "submit" });
    form = el("form", {}, input, sendButton);
    hint = el("span", { class: "hint", id: "rag-limit" });
    panel = el("section", { class: "panel", id: "rag-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "rag-title", hidden: true },
      el("div", { class: "head" }, title, langButton, closeButton), log, announcer, form, hint);
    starters = null;
    root.append(launcher, panel);
    label();
    showStarters();
    request(API + "/api/stats", { headers: AUTH }).then(function (s) { limit = s.max_question_chars || limit; label(); }, function () { /* keep the default */ });
    launcher.addEventListener("click", function () { panel.hidden ? open() : close(); });
    closeButton.addEventListener("click", close);
    langButton.addEventListener("click", function () {
      lang = lang === "sv" ? "en" : "sv";
      try { localStorage.setItem("rag-lang", lang); } catch (e) { /* storage off */ }
      label();
    });
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { event.stopPropagation(); close(); } });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); ask(input.value.trim()); });
  }

  function open() { panel.hidden = false; launcher.setAttribute("aria-expanded", "true"); input.focus(); }
  function close() { panel.hidden = true; launcher.setAttribute("aria-expanded", "false"); launcher.focus(); }

  function documentUrl(c) {
    return API + "/documents/" + encodeURIComponent(c.doc) + "?start=" + c.start + "&end=" + c.end + (lang === "en" ? "&lang=en" : "");
  }

  function where(c) {
    return [c.organisation, c.body, c.date, c.paragraph, c.dnr ? "Dnr " + c.dnr : null].filter(Boolean).join(" · ");
  }

  function showPassage(item, c, toggle) {
    var existing = item.querySelector(".passage");
    if (existing) { existing.remove(); toggle.setAttribute("aria-expanded", "false"); item.classList.remove("active"); return; }
    toggle.setAttribute("aria-expanded", "true");
    item.classList.add("active");
    request(API + "/api/documents/" + encodeURIComponent(c.doc) + "/passage?start=" + c.start + "&end=" + c.end + "&context=250", { headers: AUTH })
      .then(function (p) {
        item.append(el("div", { class: "passage", tabindex: "-1" }, "… " + p.before.replace(/^\s+/, ""), el("mark", {}, p.text), p.after.replace(/\s+$/, "") + " …"),
          el("a", { href: documentUrl(c), target: "_blank", rel: "noopener" }, t("openDocument")));
        item.querySelector(".passage").focus();
      })
      .catch(function (e) { item.append(el("div", { class: "meta" }, e.message)); });
  }

  function answerNodes(text, byN) {
    var nodes = [], at = 0, re = /\[(\d+)\]/g, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > at) nodes.push(document.createTextNode(text.slice(at, m.index)));
      var n = m[1];
      var marker = el("button", { type: "button", class: "marker", "aria-label": (lang === "sv" ? "Källa " : "Source ") + n }, "[" + n + "]");
      marker.addEventListener("click", (function (n) { return function () { var s = byN[n]; if (s) { s.scrollIntoView({ block: "nearest" }); s.querySelector(".cite").click(); } }; })(n));
      nodes.push(marker);
      at = re.lastIndex;
    }
    if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
    return nodes;
  }

  function renderAnswer(turn, body) {
    var box = el("div", { class: "a" });
    if (body.abstained) {
      box.append(el("p", { class: "none" }, body.reason || t("noAnswer")));
      var seen = {};
      var related = body.passages.filter(function (p) { if (seen[p.doc]) return false; seen[p.doc] = true; return true; });
      if (related.length) {
        box.append(el("p", {}, t("related")), el("ul", { class: "sources" }, related.map(function (p) {
          var text = p.text.replace(/[#*_`>]+/g, " ").replace(/\s+/g, " ").trim();
          return el("li", {}, el("a", { href: documentUrl(p), target: "_blank", rel: "noopener" }, p.display_title || p.title || p.doc),
            el("div", { class: "meta" }, where(p)), el("p", { class: "related-snippet" }, text.length > 160 ? text.slice(0, 157) + " …" : text));
        })));
      }
    } else {
      var byN = {};
      var list = el("ol", { class: "sources", "aria-label": t("sources") }, body.citations.map(function (c) {
        var toggle = el("button", { type: "button", class: "cite", "aria-expanded": "false" }, "[" + c.n + "] " + where(c));
        var item = el("li", { id: "rag-cite-" + c.n }, toggle, el("div", { class: "meta" }, c.display_title || c.title || c.doc));
        toggle.addEventListener("click", function () { showPassage(item, c, toggle); });
        byN[c.n] = item;
        return item;
      }));
      box.append(el("div", {}, answerNodes(body.answer, byN)), list);
    }
    if (body.standalone_question && body.standalone_question !== body.question) {
      box.append(el("p", { class: "meta" }, t("searched") + body.standalone_question));
    }
    turn.append(box);
    announcer.textContent = body.abstained ? body.reason || t("noAnswer") : body.answer;
  }

  function ask(question) {
    if (!question || sendButton.disabled) return;
    input.value = "";
    if (starters) { starters.remove(); starters = null; }
    sendButton.disabled = true;
    var turn = el("div", { class: "turn" }, el("div", { class: "q" }, el("span", { class: "sr" }, t("you") + ": "), question));
    var waiting = el("p", { class: "meta" }, t("thinking"));
    turn.append(waiting);
    log.append(turn);
    log.scrollTop = log.scrollHeight;
    request(API + "/api/ask", {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, AUTH),
      body: JSON.stringify({ question: question, history: history.slice(-6) }),
    })
      .then(function (body) {
        sendButton.disabled = false;
        waiting.remove();
        renderAnswer(turn, body);
        history.push({ question: question, answer: body.answer, standalone_question: body.standalone_question });
        log.scrollTop = Math.max(0, turn.offsetTop - log.offsetTop - 8); // the answer's start stays in view
      })
      .catch(function (e) { sendButton.disabled = false; waiting.textContent = e.message; waiting.classList.add("error"); });
  }

  build();
  (document.body || document.documentElement).append(host);
})();
