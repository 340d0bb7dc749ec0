/* The live feed of the wall and the console: one EventSource on this server's /live (which relays the API's
   feed with the wall's key), pushing the recent event changes into the page's live store with
   dash_clientside.set_props — `wall-live` on the wall, `console-live` on the console (each page marks itself
   with a hidden `<page>-live-anchor`). Plain JS, no CDN, no polling. */
(function () {
  const KEEP = 30;
  const STORES = {"wall-live-anchor": "wall-live", "console-live-anchor": "console-live"};
  let source = null;
  const recent = [];

  function store() {
    for (const anchor in STORES) {
      if (document.getElementById(anchor)) { return STORES[anchor]; }
    }
    return null;
  }

  function asEvent(msg) {
    let data;
    try { data = JSON.parse(msg.data); } catch (e) { return null; }
    if (!data || typeof data !== "object") { return null; }
    const ev = data.event || data.data || data;
    if (!ev || (ev.id === undefined && ev.code === undefined)) { return null; }
    ev._kind = msg.type || data.type || "message";
    ev._seen = Date.now();
    return ev;
  }

  function push(msg) {
    const ev = asEvent(msg);
    if (!ev) { return; }
    const key = ev.id !== undefined ? ev.id : ev.code;
    for (let i = recent.length - 1; i >= 0; i--) {
      const k = recent[i].id !== undefined ? recent[i].id : recent[i].code;
      if (k === key) { recent.splice(i, 1); }
    }
    recent.unshift(ev);
    recent.length = Math.min(recent.length, KEEP);
    const target = store();
    if (target && window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(target, {data: recent.slice()});
    }
  }

  function open() {
    if (source || !store()) { return; }
    source = new EventSource("/live");
    const kinds = ["message", "event", "event.created", "event.updated", "event.moved", "event.dispatched",
                   "created", "transition", "dispatch"];
    kinds.forEach(function (k) { source.addEventListener(k, push); });
    source.onopen = function () { document.body.setAttribute("data-live", "open"); };
    source.onerror = function () {
      document.body.setAttribute("data-live", "error");
      if (source && source.readyState === EventSource.CLOSED) { source = null; setTimeout(open, 2000); }
    };
  }

  function close() {
    if (source && !store()) { source.close(); source = null; }
  }

  new MutationObserver(function () { open(); close(); }).observe(document.documentElement,
                                                                 {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", open);
})();
