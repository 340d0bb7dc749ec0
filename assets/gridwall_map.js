/* Map styling and filtering for dash-leaflet, run in the browser from each layer's `hideout`.
   Referenced from Python as {"variable": "dashExtensions.default.<name>"}. No network access. */
/* road widths (px) by zoom, from zoom 11 up */
const gwRoadWidths = {major: [1.5, 2, 3, 4, 6, 8, 11, 14], minor: [0.6, 0.8, 1.2, 2, 3, 4.5, 7, 9]};

function gwZoom(context, otherwise) {
  /* the map's own zoom when the layer knows its map: a layer loaded from its url after the last change of its
     hideout is drawn with the hideout it was made with; the hideout's zoom is what makes it draw again */
  if (context && context.map) { return context.map.getZoom(); }
  const h = (context && context.hideout) || {};
  return h.zoom === undefined || h.zoom === null ? otherwise : h.zoom;
}

function gwEscape(s) {
  return String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
  });
}

function gwLabelPane(map) {
  /* the names' own pane: above the canvas (shapes, heat), under the markers (badges, events) */
  let pane = map.getPane("gwLabels");
  if (!pane) {
    pane = map.createPane("gwLabels");
    pane.style.zIndex = 550;
    pane.style.pointerEvents = "none";
    map.on("zoomend", function () { gwDeclutterSoon(map); });
  }
  return pane;
}

function gwDeclutter(map) {
  /* where two names overlap on screen the first (the lower rank: the API sends them in that order) stays */
  const pane = map.getPane("gwLabels");
  if (!pane) { return; }
  const placed = [];
  pane.querySelectorAll(".gw-label").forEach(function (el) {
    const r = (el.firstChild || el).getBoundingClientRect();
    const box = {l: r.left + 2, r: r.right - 2, t: r.top + 2, b: r.bottom - 2};
    const hit = placed.some(function (q) { return !(box.r < q.l || box.l > q.r || box.b < q.t || box.t > q.b); });
    el.classList.toggle("gw-label-hidden", hit);
    if (!hit) { placed.push(box); }
  });
}

function gwDeclutterSoon(map) {
  if (map._gwDeclutter) { return; }
  map._gwDeclutter = setTimeout(function () { map._gwDeclutter = null; gwDeclutter(map); }, 30);
}

window.dashExtensions = Object.assign({}, window.dashExtensions, {
  default: {
    styleFill: function (feature, context) {
      const h = (context && context.hideout) || {};
      return {color: h.color || "#2b3b55", weight: h.weight || 0.5, fillColor: h.fill || "#1a2436",
              fillOpacity: h.opacity === undefined ? 0.8 : h.opacity};
    },
    styleLine: function (feature, context) {
      /* roads by kind, wider as the hideout's zoom grows; with hideout.casing, the dark edge drawn under them */
      const h = (context && context.hideout) || {};
      const kind = (feature.properties || {}).kind || "";
      const major = /arterial|primary|trunk|主干/.test(kind);
      const z = gwZoom(context, 13);
      const widths = major ? gwRoadWidths.major : gwRoadWidths.minor;
      const w = widths[Math.max(0, Math.min(widths.length - 1, Math.round(z) - 11))];
      if (h.casing) {
        return {color: h.casing, weight: w + (z >= 14 ? 3 : 2), opacity: 0.9, lineCap: "round", lineJoin: "round"};
      }
      return {color: major ? (h.major || "#c9b27c") : (h.color || "#7d8799"), weight: w,
              opacity: major ? 0.95 : (z >= 14 ? 0.9 : 0.7), lineCap: "round", lineJoin: "round"};
    },
    labelShown: function (feature, context) {
      /* a name is written from its minzoom on, and before its maxzoom (exclusive) when it has one */
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      const z = gwZoom(context, null);
      if (z === null) { return false; }
      return z >= (p.minzoom || 0) && (p.maxzoom === undefined || p.maxzoom === null || z < p.maxzoom);
    },
    label: function (feature, latlng, context) {
      /* a DOM label on a pane of its own (over the map's shapes, under its markers), turned along its road;
         a Chinese name on a steep road is written upright, top to bottom, as on a Chinese map */
      const p = feature.properties || {};
      const map = context && context.map;
      const pane = map ? gwLabelPane(map) : undefined;
      let angle = p.layer === "road" ? (p.angle || 0) : 0;
      let upright = false;
      if (Math.abs(angle) > 55 && /[\u3400-\u9fff]/.test(p.name || "")) {
        upright = true;
        angle = angle > 0 ? angle - 90 : angle + 90;
      }
      const text = '<span class="gw-label-text' + (upright ? ' gw-label-upright' : '') + '" style="transform: '
                   + 'translate(-50%, -50%) rotate(' + angle + 'deg)">' + gwEscape(p.name) + '</span>';
      const icon = L.divIcon({html: text, iconSize: [0, 0],
                              className: 'gw-label gw-label-' + p.layer + (p.kind ? ' gw-label-' + p.kind : '')});
      if (map) { gwDeclutterSoon(map); }
      return L.marker(latlng, {icon: icon, interactive: false, keyboard: false, pane: pane ? "gwLabels" : "markerPane",
                               title: ""});
    },
    styleGrid: function (feature, context) {
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      const hi = h.highlight && h.highlight.indexOf(p.code) >= 0;
      const bad = h.bad && h.bad.indexOf(p.code) >= 0;
      return {color: hi ? "#ffb020" : (bad ? "#ff4d4f" : (h.color || "#3fa7ff")), weight: hi ? 3 : (h.weight || 1),
              dashArray: h.dash || null, fillColor: hi ? "#ffb020" : (bad ? "#ff4d4f" : "#3fa7ff"),
              fillOpacity: hi ? 0.25 : (bad ? 0.2 : (h.fillOpacity || 0.03))};
    },
    keep: function (feature, context) {
      /* hideout.filters: {property: [accepted values]}; an empty or missing list keeps all */
      const h = (context && context.hideout) || {};
      if (h.hidden) { return false; }
      const f = h.filters || {};
      const p = feature.properties || {};
      for (const key in f) {
        const ok = f[key];
        if (ok && ok.length && ok.indexOf(String(p[key])) < 0) { return false; }
      }
      return true;
    },
    point: function (feature, latlng, context) {
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      let color = h.color || "#3fa7ff";
      if (p.online === false) { color = "#6b7280"; }
      if (p.fresh) { color = "#ff3b30"; }
      if (h.byPriority && p.priority !== undefined && p.priority <= 1) { color = "#ff6b3d"; }
      return L.circleMarker(latlng, {radius: h.radius || 4, color: color, weight: 1, fillColor: color,
                                     fillOpacity: 0.85, bubblingMouseEvents: false});
    },
    cell: function (feature, latlng, context) {
      /* a cell counted by the API (/layers/<layer>/clusters): a badge with the count, or the one feature */
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      const n = p.count || 0;
      const map = context && context.map;
      if (h.tintBelow && map && map.getZoom() < h.tintBelow) {
        /* a coverage tint: a soft disc per cell, deeper where there are more, grey where under 80 % are online */
        const share = p.online === undefined ? 1 : p.online / Math.max(1, n);
        const c = share < 0.8 ? (h.down || "#9aa4b2") : (h.color || "#3fa7ff");
        map.getContainer().setAttribute("data-" + (h.name || "cells"), "tint");
        return L.circleMarker(latlng, {radius: h.tintRadius || 30, stroke: false, fillColor: c,
                                       fillOpacity: Math.min(0.22, 0.05 + 0.05 * Math.log10(1 + n)),
                                       interactive: false});
      }
      if (map && h.name) { map.getContainer().setAttribute("data-" + h.name, "badges"); }
      if (h.dots) {
        const c = h.color || "#3fa7ff";
        return L.circleMarker(latlng, {radius: (h.radius || 2) + Math.min(6, Math.sqrt(n)), color: c, weight: 1,
                                       fillColor: c, fillOpacity: 0.75, interactive: false});
      }
      if (n <= 1) {
        const color = p.online === 0 ? "#6b7280" : (h.color || "#3fa7ff");
        return L.circleMarker(latlng, {radius: h.radius || 4, color: color, weight: 1, fillColor: color,
                                       fillOpacity: 0.85, interactive: false});
      }
      const size = n < 100 ? 28 : (n < 1000 ? 36 : 46);
      const share = p.online === undefined ? 1 : p.online / n;
      const label = n >= 10000 ? Math.round(n / 1000) + "k" : (n >= 1000 ? (n / 1000).toFixed(1) + "k" : String(n));
      const icon = L.divIcon({html: '<div><span>' + label + '</span></div>',
                              className: 'gw-cluster gw-cluster-' + (n < 100 ? 's' : (n < 1000 ? 'm' : 'l'))
                                         + (share < 0.8 ? ' gw-cluster-down' : '') + (h.badge ? ' ' + h.badge : ''),
                              iconSize: L.point(size, size)});
      return L.marker(latlng, {icon: icon, interactive: false, keyboard: false,
                               title: p.online === undefined ? String(n) : (p.online + " / " + n)});
    },
    cluster: function (feature, latlng, index, context) {
      const n = feature.properties.point_count;
      const size = n < 100 ? 28 : (n < 1000 ? 36 : 46);
      const icon = L.divIcon({html: '<div><span>' + feature.properties.point_count_abbreviated + '</span></div>',
                              className: 'gw-cluster gw-cluster-' + (n < 100 ? 's' : (n < 1000 ? 'm' : 'l')),
                              iconSize: L.point(size, size)});
      return L.marker(latlng, {icon: icon});
    }
  }
});

/* Callbacks run in the browser (dash.clientside_callback(ClientsideFunction("gridwall", name), …)). */
window.dash_clientside = Object.assign({}, window.dash_clientside);
window.dash_clientside.gridwall = Object.assign({}, window.dash_clientside.gridwall, {
  followZoom: function (zoom, mapId, ...hideouts) {
    /* the layers that follow the zoom (road widths, which names are written) read it from their hideout; the map
       says its zoom on the page too (data-zoom), for whoever watches it */
    const box = document.getElementById(mapId);
    if (box && zoom !== undefined && zoom !== null) { box.setAttribute("data-zoom", String(zoom)); }
    return hideouts.map(function (h) { return Object.assign({}, h, {zoom: zoom}); });
  }
});
