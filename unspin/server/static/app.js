// The unspin page. Everything that came from a submitted page is put into the DOM with
// textContent / createTextNode only, never through an HTML parser, never as attributes that run.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  const form = $("analyze-form");
  const input = $("page-input");
  const fileInput = $("file-input");
  const formatSelect = $("format-select");
  const analyzeButton = $("analyze-button");
  const clearButton = $("clear-button");
  const statusLine = $("status");
  const errorLine = $("error");
  const results = $("results");
  const scoreValue = $("score-value");
  const verdict = $("verdict");
  const summaryDetails = $("summary-details");
  const titleVariants = $("title-variants");
  const removedDetails = $("removed-details");
  const removedSummary = $("removed-summary");
  const removedList = $("removed-list");
  const toggle = $("toggle-restored");
  const articleHeading = $("article-heading");
  const articleHint = $("article-hint");
  const articleText = $("article-text");
  const sourcePanel = $("source-panel");
  const sourceContent = $("source-content");
  const columns = $("columns");

  let current = null; // the last /api/analyze result
  let tipCounter = 0;

  // ------------------------------------------------------------------ small DOM helpers

  function el(tag, options, children) {
    const node = document.createElement(tag);
    if (options) {
      if (options.className) node.className = options.className;
      if (options.text !== undefined) node.textContent = String(options.text);
      if (options.attrs) {
        for (const [name, value] of Object.entries(options.attrs)) node.setAttribute(name, value);
      }
    }
    for (const child of children || []) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function percent(value) {
    const number = Number(value);
    if (!Number.isFinite(number)) return "–";
    return Math.round(number * 100) + "%";
  }

  function confidenceClass(confidence) {
    const value = Number(confidence);
    if (value >= 0.8) return "conf-high";
    if (value >= 0.5) return "conf-medium";
    return "conf-low";
  }

  function confidenceWord(confidence) {
    return { "conf-high": "high", "conf-medium": "medium", "conf-low": "low" }[
      confidenceClass(confidence)
    ];
  }

  function evidenceList(evidence) {
    if (evidence === null || evidence === undefined) return [];
    if (Array.isArray(evidence)) return evidence.map((item) => describe(item));
    return [describe(evidence)];
  }

  // Evidence items are strings (older engines) or typed objects {source, relation, detail,
  // weight}: an object shows its one-line `detail`, else its fields.
  function describe(item) {
    if (item === null || item === undefined) return "";
    if (typeof item === "string") return item;
    if (typeof item === "object") {
      if (typeof item.detail === "string" && item.detail) return item.detail;
      return Object.entries(item)
        .map(([key, value]) => key + ": " + (typeof value === "object" ? JSON.stringify(value) : value))
        .join(", ");
    }
    return String(item);
  }

  // A phrase with its tooltip: <span class="site"><mark tabindex=0 aria-describedby>..</mark>
  // <span role="tooltip">..</span></span>. The tooltip shows on hover and on focus (CSS).
  function siteWithTip(tag, className, text, tipLines) {
    const id = "tip-" + ++tipCounter;
    const wrapper = el("span", { className: "site" });
    const marked = el(tag, {
      className: className,
      text: text,
      attrs: { tabindex: "0", "aria-describedby": id },
    });
    const tip = el("span", { className: "tip", attrs: { role: "tooltip", id: id } });
    for (const [label, value] of tipLines) {
      if (value === "" || value === null || value === undefined) continue;
      const line = el("span", { className: "tip-line" }, [
        el("span", { className: "tip-label", text: label + ": " }),
        el("span", { className: "tip-value", text: value }),
      ]);
      tip.appendChild(line);
    }
    wrapper.appendChild(marked);
    wrapper.appendChild(tip);
    return wrapper;
  }

  // Non-overlapping, in-range items sorted by start; overlapping ones are dropped (kept first).
  function orderedRanges(items, length) {
    const sorted = (items || [])
      .filter((item) => Number.isInteger(item.start) && Number.isInteger(item.end))
      .filter((item) => item.start >= 0 && item.end <= length && item.start <= item.end)
      .slice()
      .sort((a, b) => a.start - b.start || a.end - b.end);
    const kept = [];
    let last = 0;
    for (const item of sorted) {
      if (item.start < last) continue;
      kept.push(item);
      last = item.end;
    }
    return kept;
  }

  // ------------------------------------------------------------------ the two article views

  function renderSpun(text, spans) {
    const fragment = document.createDocumentFragment();
    let position = 0;
    for (const span of orderedRanges(spans, text.length)) {
      if (span.start > position) fragment.appendChild(document.createTextNode(text.slice(position, span.start)));
      const phrase = text.slice(span.start, span.end);
      const evidence = evidenceList(span.evidence).filter(Boolean).join("; ");
      fragment.appendChild(
        siteWithTip("mark", "spun " + confidenceClass(span.confidence), phrase, [
          ["Suggested original", span.suggestion || "(none)"],
          ["Confidence", percent(span.confidence) + " (" + confidenceWord(span.confidence) + ")"],
          ["Evidence", evidence],
        ])
      );
      position = span.end;
    }
    if (position < text.length) fragment.appendChild(document.createTextNode(text.slice(position)));
    return fragment;
  }

  function renderRestored(text, edits) {
    const fragment = document.createDocumentFragment();
    let position = 0;
    for (const edit of orderedRanges(edits, text.length)) {
      if (edit.start > position) fragment.appendChild(document.createTextNode(text.slice(position, edit.start)));
      const before = edit.before !== undefined ? edit.before : text.slice(edit.start, edit.end);
      const change = el("span", { className: "change" });
      if (before) {
        change.appendChild(el("del", {}, [el("span", { className: "sr-only", text: "removed: " }), before]));
      }
      const evidence = evidenceList(edit.evidence).filter(Boolean).join("; ");
      const alternatives = (Array.isArray(edit.alternatives) ? edit.alternatives : [])
        .map((item) => (item && typeof item === "object" ? item.text : item))
        .filter((item) => typeof item === "string" && item)
        .join(", ");
      const inserted = siteWithTip("ins", confidenceClass(edit.confidence), edit.after || "", [
        ["Spun text", before || "(nothing)"],
        ["Confidence", percent(edit.confidence) + " (" + confidenceWord(edit.confidence) + ")"],
        ["Evidence", evidence],
        ["Also considered", alternatives],
      ]);
      inserted.firstChild.insertBefore(
        el("span", { className: "sr-only", text: "restored: " }),
        inserted.firstChild.firstChild
      );
      change.appendChild(inserted);
      fragment.appendChild(change);
      position = edit.end;
    }
    if (position < text.length) fragment.appendChild(document.createTextNode(text.slice(position)));
    return fragment;
  }

  function showArticle() {
    if (!current) return;
    const restored = toggle.getAttribute("aria-pressed") === "true";
    const text = current.text || "";
    clearOutline();
    articleText.replaceChildren();
    tipCounter = 0;
    if (restored) {
      const edits = (current.restoration && current.restoration.edits) || [];
      articleHeading.textContent = "Article restored";
      articleHint.textContent = edits.length
        ? "Struck-through words were replaced by the underlined restoration. Hover or focus a restored word to see its evidence."
        : "No edits: the text comes back unchanged.";
      articleText.appendChild(renderRestored(text, edits));
    } else {
      const spans = (current.detection && current.detection.spans) || [];
      articleHeading.textContent = "Article as submitted";
      articleHint.textContent = spans.length
        ? "Highlighted phrases look substituted. Hover or focus one (Tab) to see the suggested original and the evidence; Escape hides it."
        : "No substituted phrases found.";
      articleText.appendChild(renderSpun(text, spans));
    }
  }

  // ------------------------------------------------------------------ summary and source

  function showSummary(result) {
    const detection = result.detection || {};
    scoreValue.textContent = percent(detection.score);
    verdict.textContent = detection.spun ? "likely spun" : "no sign of spinning";
    verdict.className = "verdict " + (detection.spun ? "verdict-spun" : "verdict-clean");
    const spans = (detection.spans || []).length;
    const edits = ((result.restoration || {}).edits || []).length;
    const parts = [
      spans + (spans === 1 ? " substituted phrase" : " substituted phrases"),
      edits + (edits === 1 ? " edit" : " edits") + " in the restoration",
    ];
    if (detection.language && detection.language !== "en" && !spans) {
      parts.push("not analysed: the text is in '" + detection.language + "', and unspin reads English");
    }
    if (detection.family) {
      const share = detection.family_share == null ? "" : " (" + Math.round(100 * detection.family_share) + "% of the phrases)";
      parts.push("spinner family: " + detection.family + share);
    }
    // The record's `clean` part: title variants and what extraction removed.
    const article = result.clean || {};
    if (article.removed && article.removed.length) {
      const count = article.removed.length;
      parts.push(count + (count === 1 ? " piece" : " pieces") + " of boilerplate removed");
    }
    summaryDetails.textContent = parts.join(" · ");

    // A title repeated at the top in another wording is evidence too (original, then spun).
    const variants = (article.title_variants || []).filter((item) => typeof item === "string");
    titleVariants.replaceChildren();
    titleVariants.hidden = !variants.length;
    if (variants.length) {
      titleVariants.appendChild(el("span", { className: "tip-label", text: "The page also carried the title: " }));
      titleVariants.appendChild(el("q", { text: variants.join(" / ") }));
    }

    // What extraction removed (scripts, trackers, trailers, credits, spintax braces), as text.
    const removed = article.removed || [];
    removedList.replaceChildren();
    removedDetails.hidden = !removed.length;
    removedSummary.textContent = "Removed from the page (" + removed.length + ")";
    for (const item of removed) {
      removedList.appendChild(
        el("li", {}, [
          el("span", { className: "removed-kind", text: String(item.kind || "removed") }),
          el("span", { className: "removed-text", text: String(item.text || "") }),
        ])
      );
    }
  }

  function showSource(result) {
    sourceContent.replaceChildren();
    const trace = result.trace;
    if (!trace) {
      sourcePanel.hidden = true;
      columns.classList.remove("with-source");
      return;
    }
    sourcePanel.hidden = false;
    columns.classList.add("with-source");
    const matches = trace.matches || [];
    if (!matches.length) {
      sourceContent.appendChild(el("p", { text: "No source in the index matches this page." }));
      return;
    }
    const text = result.text || "";
    matches.forEach((match, rank) => {
      const source = (result.sources || {})[match.source_id] || {};
      const section = el("section", { className: "match" });
      section.appendChild(
        el("h4", { text: (rank + 1) + ". " + (match.title || source.title || match.source_id) })
      );
      const meta = el("p", { className: "match-meta" }, [
        "id " + match.source_id + " · match " + percent(match.score),
      ]);
      if (match.url) {
        meta.appendChild(document.createTextNode(" · "));
        meta.appendChild(el("span", { className: "url", text: match.url }));
      }
      section.appendChild(meta);
      const passages = match.passages || [];
      if (passages.length) {
        if (rank === 0) {
          section.appendChild(
            el("p", { className: "hint", text: "Hover or focus a passage to outline it in the article." })
          );
        }
        const list = el("ol", { className: "passages", attrs: { "aria-label": "Aligned passages" } });
        for (const passage of passages) {
          const pageExcerpt = text.slice(passage.page_start, passage.page_end);
          const sourceExcerpt = (source.text || "").slice(passage.source_start, passage.source_end);
          const item = el("li", { className: "passage", attrs: { tabindex: "0" } });
          const outline = () => outlinePassage(passage.page_start, passage.page_end);
          item.addEventListener("mouseenter", outline);
          item.addEventListener("focus", outline);
          item.addEventListener("mouseleave", clearOutline);
          item.addEventListener("blur", clearOutline);
          list.appendChild(
            fill(item, [
              el("p", { className: "similarity", text: "similarity " + percent(passage.similarity) }),
              el("div", { className: "pair" }, [
                el("figure", { className: "excerpt page-excerpt" }, [
                  el("figcaption", { text: "This page" }),
                  el("blockquote", { text: pageExcerpt }),
                ]),
                el("figure", { className: "excerpt source-excerpt" }, [
                  el("figcaption", { text: "Source" }),
                  el("blockquote", { text: sourceExcerpt || "(source text not stored)" }),
                ]),
              ]),
            ])
          );
        }
        section.appendChild(list);
      }
      sourceContent.appendChild(section);
    });
  }

  function fill(node, children) {
    for (const child of children) node.appendChild(child);
    return node;
  }

  // Outline a passage of the page in the article (CSS Custom Highlight API: no DOM change, so
  // the marks and tooltips stay as they are). Offsets are into the submitted text, so only the
  // view "as submitted" can show them.
  function outlinePassage(start, end) {
    if (!window.CSS || !CSS.highlights || typeof Highlight === "undefined") return;
    if (toggle.getAttribute("aria-pressed") === "true") return;
    const range = rangeForOffsets(articleText, start, end);
    if (range) CSS.highlights.set("passage", new Highlight(range));
  }

  function clearOutline() {
    if (window.CSS && CSS.highlights) CSS.highlights.delete("passage");
  }

  // The DOM range covering characters [start, end) of the article text, skipping the
  // tooltips and screen-reader labels that are not part of it.
  function rangeForOffsets(root, start, end) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: (node) =>
        node.parentElement.closest(".tip, .sr-only, del") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
    });
    const range = document.createRange();
    let position = 0;
    let started = false;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const length = node.data.length;
      if (!started && start <= position + length) {
        range.setStart(node, start - position);
        started = true;
      }
      if (started && end <= position + length) {
        range.setEnd(node, end - position);
        return range;
      }
      position += length;
    }
    return null;
  }

  // ------------------------------------------------------------------ talking to the server

  function setBusy(busy, message) {
    analyzeButton.disabled = busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
    statusLine.textContent = message || "";
  }

  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  const statusMessages = {
    413: "The document is larger than this server accepts.",
    415: "The request type is not supported.",
    429: "The server is busy with other documents. Please try again in a moment.",
    504: "The document took too long to analyse.",
  };

  async function analyze(event) {
    if (event) event.preventDefault();
    showError("");
    const file = fileInput.files && fileInput.files[0];
    const text = input.value;
    if (!file && !text.trim()) {
      showError("Paste some text or HTML, or choose a file.");
      input.focus();
      return;
    }
    let request;
    if (file) {
      const body = new FormData();
      body.append("file", file);
      body.append("format", formatSelect.value);
      request = { method: "POST", body: body };
    } else {
      request = {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: text, format: formatSelect.value }),
      };
    }
    setBusy(true, "Analysing…");
    try {
      const response = await fetch("/api/analyze", request);
      let payload = null;
      try {
        payload = await response.json();
      } catch (ignored) {
        payload = null;
      }
      if (!response.ok) {
        const detail = payload && payload.detail ? String(payload.detail) : "";
        showError((statusMessages[response.status] || "The document could not be analysed.") +
          (detail ? " (" + detail + ")" : ""));
        setBusy(false, "");
        return;
      }
      current = payload;
      toggle.setAttribute("aria-pressed", "false");
      showSummary(payload);
      showArticle();
      showSource(payload);
      results.hidden = false;
      setBusy(false, "Done.");
      results.focus();
    } catch (error) {
      showError("The server could not be reached.");
      setBusy(false, "");
    }
  }

  form.addEventListener("submit", analyze);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) analyze(event);
  });
  clearButton.addEventListener("click", () => {
    form.reset();
    showError("");
    statusLine.textContent = "";
    input.focus();
  });
  toggle.addEventListener("click", () => {
    const pressed = toggle.getAttribute("aria-pressed") === "true";
    toggle.setAttribute("aria-pressed", pressed ? "false" : "true");
    showArticle();
  });

  // Escape hides the tooltip of the focused or hovered phrase (WCAG 1.4.13: dismissible).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const site of document.querySelectorAll(".site:hover, .site:focus-within")) {
      site.classList.add("tip-dismissed");
    }
  });
  articleText.addEventListener("focusout", (event) => {
    const site = event.target.closest && event.target.closest(".site");
    if (site) site.classList.remove("tip-dismissed");
  });
  articleText.addEventListener("mouseout", (event) => {
    const site = event.target.closest && event.target.closest(".site");
    if (site && !site.contains(event.relatedTarget)) site.classList.remove("tip-dismissed");
  });
})();
