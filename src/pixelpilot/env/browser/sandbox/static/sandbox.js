// Shared helpers of the web sandbox: state lives in localStorage under "sandbox.<key>", so a
// task's success check can read it from any page of the sandbox.
"use strict";
const Sandbox = {
  load(key, fallback) {
    const raw = localStorage.getItem("sandbox." + key);
    return raw === null ? fallback : JSON.parse(raw);
  },
  save(key, value) {
    localStorage.setItem("sandbox." + key, JSON.stringify(value));
  },
  // Build an element: el("button", {class: "x", onclick: fn}, "text", child, ...)
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },
};
