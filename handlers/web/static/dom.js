// DOM helpers shared by the search page (app.js) and the editors' page
// (admin.js), loaded before either. They are the pages' one way of turning
// the API's text into the page, so both keep the same safety: strings
// become text nodes, never markup, and highlight fragments are split on
// the exact <mark> tags, the rest decoded as text.
"use strict";

(() => {
  // h builds an element; string children become text nodes, never markup.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "checked" || k === "value") el[k] = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c !== null && c !== undefined && c !== false) el.append(c);
    }
    return el;
  }

  // highlighted turns an API highlight fragment (HTML-escaped text with
  // <mark> around matches) into DOM nodes without parsing it as HTML: the
  // exact tags <mark> and </mark> become elements, everything else is text
  // with its character references decoded. Markup that should not be there
  // shows as characters and never reaches a parser.
  function highlighted(fragment) {
    const out = document.createDocumentFragment();
    let inMark = false;
    for (const part of String(fragment).split(/(<mark>|<\/mark>)/)) {
      if (part === "<mark>") inMark = true;
      else if (part === "</mark>") inMark = false;
      else if (part) out.append(inMark ? h("mark", null, decodeEntities(part)) : decodeEntities(part));
    }
    return out;
  }

  const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'", nbsp: "\u00a0" };
  function decodeEntities(s) {
    return s.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref) => {
      if (ref[0] !== "#") return ENTITIES[ref.toLowerCase()] ?? whole;
      const cp = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
    });
  }

  window.laborDOM = Object.freeze({ h, highlighted });
})();
