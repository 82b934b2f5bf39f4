"use strict";
// Run reports: step navigation (keys, play, filmstrip). Evaluation reports: paged galleries.
(function () {
  const steps = Array.from(document.querySelectorAll("section.step"));
  const strip = document.getElementById("filmstrip");
  const counter = document.getElementById("counter");
  const play = document.getElementById("play");
  let current = 0;
  let timer = null;

  function go(i, scroll) {
    if (!steps.length) return;
    current = Math.max(0, Math.min(steps.length - 1, i));
    steps.forEach((s, k) => s.classList.toggle("current", k === current));
    if (strip) {
      Array.from(strip.children).forEach((a, k) => a.classList.toggle("current", k === current));
      const thumb = strip.children[current];
      if (thumb) thumb.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
    if (counter) counter.textContent = "step " + steps[current].dataset.index + " of " + steps.length;
    if (scroll !== false) steps[current].scrollIntoView({ block: "start" });
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    if (play) play.textContent = "\u25B6 play";
  }

  function toggle() {
    if (timer !== null) { stop(); return; }
    if (current >= steps.length - 1) go(0);
    if (play) play.textContent = "\u275A\u275A pause";
    timer = setInterval(function () {
      if (current >= steps.length - 1) { stop(); return; }
      go(current + 1);
    }, 1500);
  }

  if (steps.length) {
    if (strip) {
      steps.forEach(function (s, i) {
        const a = document.createElement("a");
        a.href = "#" + s.id;
        a.title = s.dataset.title || s.id;
        if (s.classList.contains("error") || s.classList.contains("torn")) a.classList.add("err");
        const img = s.querySelector("img.shot");
        if (img) {
          const t = document.createElement("img");
          t.src = img.getAttribute("src");
          t.alt = "";
          a.appendChild(t);
        }
        const n = document.createElement("span");
        n.textContent = s.dataset.index;
        a.appendChild(n);
        a.addEventListener("click", function (ev) { ev.preventDefault(); stop(); go(i); });
        strip.appendChild(a);
      });
    }
    const prev = document.getElementById("prev");
    const next = document.getElementById("next");
    if (prev) prev.addEventListener("click", function () { stop(); go(current - 1); });
    if (next) next.addEventListener("click", function () { stop(); go(current + 1); });
    if (play) play.addEventListener("click", toggle);
    document.addEventListener("keydown", function (ev) {
      const tag = ev.target && ev.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === "ArrowRight" || ev.key === "j" || ev.key === "n") { stop(); go(current + 1); }
      else if (ev.key === "ArrowLeft" || ev.key === "k" || ev.key === "p") { stop(); go(current - 1); }
      else if (ev.key === "Home") { stop(); go(0); }
      else if (ev.key === "End") { stop(); go(steps.length - 1); }
      else if (ev.key === " ") { toggle(); }
      else return;
      ev.preventDefault();
    });
    const start = steps.findIndex(function (s) { return "#" + s.id === location.hash; });
    go(start < 0 ? 0 : start, start >= 0);
  }

  // Paged galleries: <div class="paged" data-source="ID" data-page="N"> reads its items from
  // <script type="application/json" id="ID"> and draws one page of SVG cards at a time.
  const SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function card(item) {
    const fig = document.createElement("figure");
    fig.className = item.correct ? "good" : "bad";
    const v = item.view;
    const svg = el("svg", { viewBox: v.join(" "), preserveAspectRatio: "xMidYMid meet" }, fig);
    if (item.img) el("image", { href: item.img, x: 0, y: 0, width: item.w, height: item.h }, svg);
    const r = Math.max(v[2], v[3]) / 60;
    (item.boxes || []).forEach(function (b) {
      el("rect", { class: "gt", x: b[0], y: b[1], width: b[2], height: b[3] }, svg);
    });
    (item.marks || []).forEach(function (m) {
      const g = el("g", { class: "mark " + (m.ref ? "ref" : "pred") }, svg);
      if (m.to) {
        el("line", { x1: m.at[0] + 0.5, y1: m.at[1] + 0.5, x2: m.to[0] + 0.5, y2: m.to[1] + 0.5 }, g);
      }
      el("circle", { class: "ring", cx: m.at[0] + 0.5, cy: m.at[1] + 0.5, r: r }, g);
      el("circle", { class: "dot", cx: m.at[0] + 0.5, cy: m.at[1] + 0.5, r: r / 4 }, g);
    });
    const cap = document.createElement("figcaption");
    const head = document.createElement("div");
    const mark = document.createElement("span");
    mark.className = "badge " + (item.correct ? "good" : "bad");
    mark.textContent = item.correct ? "correct" : "wrong";
    head.appendChild(mark);
    head.appendChild(document.createTextNode(" " + item.title));
    cap.appendChild(head);
    (item.lines || []).forEach(function (line) {
      const d = document.createElement("div");
      d.textContent = line;
      cap.appendChild(d);
    });
    fig.appendChild(cap);
    return fig;
  }
  document.querySelectorAll("div.paged").forEach(function (box) {
    const source = document.getElementById(box.dataset.source);
    if (!source) return;
    const items = JSON.parse(source.textContent);
    const size = parseInt(box.dataset.page || "48", 10);
    const groups = Array.from(new Set(items.map(function (it) { return it.group; }))).sort();
    const pager = document.createElement("div");
    pager.className = "pager";
    const group = document.createElement("select");
    group.className = "group";
    ["all groups"].concat(groups).forEach(function (g) {
      const o = document.createElement("option"); o.textContent = g; group.appendChild(o);
    });
    const which = document.createElement("select");
    which.className = "which";
    ["failures", "successes", "all"].forEach(function (g) {
      const o = document.createElement("option"); o.textContent = g; which.appendChild(o);
    });
    const prev = document.createElement("button"); prev.textContent = "\u2190 previous";
    const next = document.createElement("button"); next.textContent = "next \u2192";
    const label = document.createElement("span"); label.className = "page-label";
    [group, which, prev, label, next].forEach(function (n) { pager.appendChild(n); });
    const grid = document.createElement("div");
    grid.className = "gallery";
    box.appendChild(pager);
    box.appendChild(grid);
    let page = 0;
    function chosen() {
      return items.filter(function (it) {
        if (group.selectedIndex > 0 && it.group !== group.value) return false;
        if (which.value === "failures") return !it.correct;
        if (which.value === "successes") return it.correct;
        return true;
      });
    }
    function draw() {
      const list = chosen();
      const pages = Math.max(1, Math.ceil(list.length / size));
      page = Math.max(0, Math.min(pages - 1, page));
      grid.replaceChildren();
      list.slice(page * size, (page + 1) * size).forEach(function (it) { grid.appendChild(card(it)); });
      label.textContent = "page " + (page + 1) + " of " + pages + " (" + list.length + " samples)";
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }
    group.addEventListener("change", function () { page = 0; draw(); });
    which.addEventListener("change", function () { page = 0; draw(); });
    prev.addEventListener("click", function () { page -= 1; draw(); });
    next.addEventListener("click", function () { page += 1; draw(); });
    draw();
  });
})();
