/* The live feed of the wall and the console: one EventSource on this server's /live (which relays the API's
   feed of events and workers with the wall's key). Plain JS, no CDN, no polling.

   - Each event change is pushed into the page's live store with dash_clientside.set_props — `wall-live` on the
     wall, `console-live` on the console (each page marks itself with a hidden `<page>-live-anchor`).
   - The wall's figures follow a few seconds behind: an event change (or a bulk load) bumps the `wall-refresh`
     counter REFRESH_MS after the first change of a burst — later changes ride along, so a steady trickle still
     refreshes every REFRESH_MS rather than never —, a worker's move bumps `wall-refresh-workers` the same way,
     and a `resync` or `overflow` (notices were lost) or a reconnection bumps both at once.
   - The console takes each worker's notice itself (it carries the position and the status): the latest notice of
     every worker seen, pushed into `console-worker-moves` at most every MOVES_MS (1 s), which a clientside callback
     lays over the layer loaded; only a bulk notice or lost notices make it refetch the layer
     (`console-refresh-workers`). */
(function () {
  const KEEP = 30;
  const REFRESH_MS = 2500;
  const STORES = {"wall-live-anchor": "wall-live", "console-live-anchor": "console-live"};
  //: the counters a page's callbacks refresh on, by what moves them
  const REFRESH = {"wall-live-anchor": {event: "wall-refresh", worker: "wall-refresh-workers"},
                   "console-live-anchor": {worker: "console-refresh-workers"}};
  //: where a page lays each worker's notice over its layer itself, rather than refetching on every move
  const MOVES = {"console-live-anchor": "console-worker-moves"};
  const MOVES_MS = 1000;  // at city scale (5,000 phones) one merge and one redraw a second, not one a fix
  const moves = new Map();  // worker id → its latest notice (bounded by the district's workers)
  let movesDue = null;
  let source = null;
  let lost = false;
  const recent = [];
  const due = {};
  const counts = {};

  function anchor() {
    for (const id in STORES) {
      if (document.getElementById(id)) { return id; }
    }
    return null;
  }

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) { window.dash_clientside.set_props(id, props); }
  }

  function fire(kind) {
    due[kind] = null;
    const target = (REFRESH[anchor()] || {})[kind];
    if (!target) { return; }
    counts[target] = (counts[target] || 0) + 1;
    setProps(target, {data: counts[target]});
  }

  function bump(kind, now) {
    if (now) {
      clearTimeout(due[kind]);
      fire(kind);
    } else if (!due[kind]) {  // a refresh is already due within REFRESH_MS: this change rides along
      due[kind] = setTimeout(function () { fire(kind); }, REFRESH_MS);
    }
  }

  function resync() {
    moves.clear();  // the refetched layer is newer than every notice kept (and the page passes older ones over)
    bump("event", true);
    bump("worker", true);
  }

  function flushMoves() {
    movesDue = null;
    const target = MOVES[anchor()];
    if (target) { setProps(target, {data: Array.from(moves.values())}); }
  }

  function onWorker(msg) {
    let w = null;
    try { w = JSON.parse(msg.data); } catch (e) { w = null; }
    if (!MOVES[anchor()] || !w || w.id === undefined || w.op === "bulk") { bump("worker", false); return; }
    moves.set(w.id, w);
    if (!movesDue) { movesDue = setTimeout(flushMoves, MOVES_MS); }  // a burst of fixes: one redraw
  }

  function asEvent(msg) {
    let data;
    try { data = JSON.parse(msg.data); } catch (e) { return null; }
    if (!data || typeof data !== "object") { return null; }
    const ev = data.event || data.data || data;
    if (!ev || (ev.id === undefined && ev.code === undefined)) { return null; }  // a bulk notice: no row
    ev._kind = msg.type || data.type || "message";
    ev._seen = Date.now();
    return ev;
  }

  function onEvent(msg) {
    bump("event", false);
    const ev = asEvent(msg);
    const id = anchor();
    if (!ev || !id) { return; }
    const key = ev.id !== undefined ? ev.id : ev.code;
    for (let i = recent.length - 1; i >= 0; i--) {
      const k = recent[i].id !== undefined ? recent[i].id : recent[i].code;
      if (k === key) { recent.splice(i, 1); }
    }
    recent.unshift(ev);
    recent.length = Math.min(recent.length, KEEP);
    setProps(STORES[id], {data: recent.slice()});
  }

  function open() {
    if (source || !anchor()) { return; }
    source = new EventSource("/live");
    const kinds = ["message", "event", "event.created", "event.updated", "event.moved", "event.dispatched",
                   "created", "transition", "dispatch"];
    kinds.forEach(function (k) { source.addEventListener(k, onEvent); });
    source.addEventListener("worker", onWorker);
    source.addEventListener("resync", resync);
    source.addEventListener("overflow", resync);
    source.onopen = function () {
      document.body.setAttribute("data-live", "open");
      if (lost) { lost = false; resync(); }  // what changed while the feed was away reached no one
    };
    source.onerror = function () {
      document.body.setAttribute("data-live", "error");
      lost = true;
      if (source && source.readyState === EventSource.CLOSED) { source = null; setTimeout(open, 2000); }
    };
  }

  function close() {
    if (source && !anchor()) { source.close(); source = null; }
  }

  new MutationObserver(function () { open(); close(); }).observe(document.documentElement,
                                                                 {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", open);
})();
