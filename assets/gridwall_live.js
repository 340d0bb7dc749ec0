/* The wall's live feed: one EventSource on this server's /live (which relays the API's feed with the
   wall's key), pushing each new event into the `wall-live` store with dash_clientside.set_props.
   Plain JS, no CDN, no polling. */
(function () {
  const KEEP = 30;
  let source = null;
  const recent = [];

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
    if (window.dash_clientside && window.dash_clientside.set_props && document.getElementById("wall-live-anchor")) {
      window.dash_clientside.set_props("wall-live", {data: recent.slice()});
    }
  }

  function open() {
    if (source || !document.getElementById("wall-live-anchor")) { return; }
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
    if (source && !document.getElementById("wall-live-anchor")) { source.close(); source = null; }
  }

  new MutationObserver(function () { open(); close(); }).observe(document.documentElement,
                                                                 {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", open);
})();
